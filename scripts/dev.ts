import { randomBytes } from 'node:crypto';
import { loadConfig } from '../src/config.js';
import { startLocalStack } from '../src/local/stack.js';
import { CAMPAIGNS_NAMESPACE } from '../src/local/temporal-dev-server.js';
import { logger } from '../src/logger.js';
import { onShutdown } from '../src/services.js';

const loaded = loadConfig();
const tokenGenerated = loaded.apiTokens.length === 0;
const config = tokenGenerated ? { ...loaded, apiTokens: [randomBytes(24).toString('base64url')] } : loaded;

try {
  const stack = await startLocalStack(config, { durable: true, temporalUi: true });
  onShutdown(stack.stop);
  const token = config.apiTokens[0];
  process.stdout.write(
    [
      '',
      'Promo codes service is running (Ctrl-C stops everything):',
      `  API          ${stack.apiUrl}`,
      `  API docs     ${stack.apiUrl}/docs`,
      `  Pages        http://localhost:${config.PORT}/  (sign in with the token)`,
      `  Temporal UI  ${stack.temporalUiUrl ?? 'that of the external Temporal server'}`,
      ...(config.TEMPORAL_ADDRESS
        ? []
        : [`  Nexus        endpoint ${config.PROMO_NEXUS_ENDPOINT} → ${config.TEMPORAL_NAMESPACE}/${config.TEMPORAL_TASK_QUEUE}; callers may try it from namespace ${CAMPAIGNS_NAMESPACE}`]),
      `  Token        ${token}${tokenGenerated ? '  (generated; set PROMO_API_TOKENS to choose one)' : '  (from PROMO_API_TOKENS)'}`,
      `  Data         ${config.dataDir}`,
      '',
      `  curl -H 'Authorization: Bearer ${token}' ${stack.apiUrl}/groups`,
      '',
      '',
    ].join('\n'),
  );
} catch (error) {
  logger.fatal({ err: error }, 'start-up failed');
  process.exit(1);
}
