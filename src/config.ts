import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { parseAllowList } from './channels/address-policy.js';
import { DEFAULT_NEXUS_ENDPOINT } from './client/contract.js';

const port = z.coerce.number().int().min(1).max(65535);
const optionalText = z
  .string()
  .optional()
  .transform((value) => (value ? value : undefined));

const configSchema = z.object({
  PORT: port.default(3000),
  PROMO_API_TOKENS: optionalText,
  PROMO_DATA_DIR: z.string().default('./.data'),
  DATABASE_URL: optionalText,
  TEMPORAL_ADDRESS: optionalText,
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  TEMPORAL_TASK_QUEUE: z.string().min(1).default('promo'),
  TEMPORAL_CLI_PATH: optionalText,
  TEMPORAL_DEV_PORT: port.default(7233),
  TEMPORAL_UI_PORT: port.default(8233),
  /** the Nexus endpoint `npm run dev` creates, routing to TEMPORAL_NAMESPACE and TEMPORAL_TASK_QUEUE */
  PROMO_NEXUS_ENDPOINT: z
    .string()
    .regex(/^[A-Za-z][A-Za-z0-9_-]*$/, 'must start with a letter, then letters, digits, _ or -')
    .default(DEFAULT_NEXUS_ENDPOINT),
  /** the Temporal Web UI the operator pages link to; the dev server's own UI when unset */
  TEMPORAL_UI_URL: optionalText.pipe(z.url({ protocol: /^https?$/ }).optional()),
  SMTP_URL: optionalText,
  /** connections each process (API, worker) keeps to PostgreSQL at most */
  PROMO_DB_POOL_SIZE: z.coerce.number().int().min(2).max(200).default(10),
  PROMO_MAX_BODY_BYTES: z.coerce.number().int().positive().default(20 * 1024 * 1024),
  PROMO_GENERATE_BATCH_SIZE: z.coerce.number().int().min(1).max(1_000_000).default(50_000),
  PROMO_GENERATE_LANES: z.coerce.number().int().min(1).max(8).default(3),
  PROMO_MAX_IMPORT_BYTES: z.coerce.number().int().positive().default(2 * 1024 ** 3),
  PROMO_IMPORT_BATCH_SIZE: z.coerce.number().int().min(1).max(1_000_000).default(50_000),
  /** direct issues of one group that share a transaction at most (1: each its own) */
  PROMO_ISSUE_BATCH_SIZE: z.coerce.number().int().min(1).max(1000).default(100),
  /** recipients of one send batch: fewer, larger settling statements (`npm run bench -- mailing`: 100,000 sent at 6,300–6,400/s with 1,000, 6,600–7,500/s with 5,000) */
  PROMO_MAILING_BATCH_SIZE: z.coerce.number().int().min(1).max(10_000).default(5000),
  PROMO_MAILING_PARALLELISM: z.coerce.number().int().min(1).max(64).default(4),
  PROMO_WEBHOOK_TIMEOUT_MS: z.coerce.number().int().min(100).max(300_000).default(10_000),
  PROMO_WEBHOOK_ATTEMPTS: z.coerce.number().int().min(1).max(10).default(4),
  PROMO_WEBHOOK_BACKOFF_MS: z.coerce.number().int().min(0).max(60_000).default(500),
  /** non-public addresses webhooks may reach: addresses, CIDR ranges or host names, each optionally with a port */
  PROMO_WEBHOOK_ALLOW: optionalText.superRefine((value, ctx) => {
    for (const error of parseAllowList(value).errors) ctx.addIssue({ code: 'custom', message: `${error}: expected an address (10.1.2.3, ::1), a range (10.0.0.0/8, fd00::/8) or a host name, each optionally with a port (10.1.2.3:8080, [::1]:8080, hooks.internal:8080), comma-separated` });
  }),
  /** where low-stock and exhausted-refill alerts are POSTed (by the webhook channel's rules; its host is allowed whatever its address) */
  PROMO_ALERT_WEBHOOK_URL: optionalText.pipe(z.url({ protocol: /^https?$/ }).optional()),
  /** the Temporal Schedule the worker creates at start if missing; empty: none (another deployment's worker keeps it) */
  PROMO_HOUSEKEEPING_SCHEDULE_ID: z.string().regex(/^[A-Za-z0-9._-]{0,200}$/, 'letters, digits, ".", "_" or "-"').default('promo-housekeeping'),
  PROMO_MAILING_HEARTBEAT_SECONDS: z.coerce.number().int().min(1).max(600).default(20),
  /** worker threads that render templates (mailings in the worker, template checks in the API) */
  PROMO_RENDER_THREADS: z.coerce.number().int().min(1).max(64).default(Math.min(os.availableParallelism(), 4)),
  /** behind a proxy that sets X-Forwarded-For: take the client's address (throttling of wrong tokens) from it */
  PROMO_TRUST_PROXY: z.enum(['true', 'false']).default('false').transform((value) => value === 'true'),
  /** the worker's Prometheus /metrics port; unset: no metrics server (0: any free port, for tests) */
  PROMO_WORKER_METRICS_PORT: optionalText.transform((value) => (value === undefined ? undefined : Number(value))).pipe(z.number().int().min(0).max(65535).optional()),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

export type Config = z.infer<typeof configSchema> & { dataDir: string; apiTokens: string[] };

/** Every variable the service reads; docker-compose.yml is checked against this list. */
export const CONFIG_VARIABLES = Object.keys(configSchema.shape);

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = configSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    throw new Error(`Invalid configuration: ${problems.join('; ')}`);
  }
  const config = parsed.data;
  return {
    ...config,
    dataDir: path.resolve(config.PROMO_DATA_DIR),
    apiTokens: (config.PROMO_API_TOKENS ?? '')
      .split(',')
      .map((token) => token.trim())
      .filter(Boolean),
  };
}
