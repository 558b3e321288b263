import { DefaultLogger, type LogLevel, Runtime } from '@temporalio/worker';
import { logger } from '../logger.js';

const PINO_LEVELS: Record<LogLevel, 'trace' | 'debug' | 'info' | 'warn' | 'error'> = {
  TRACE: 'trace',
  DEBUG: 'debug',
  INFO: 'info',
  WARN: 'warn',
  ERROR: 'error',
};

function sdkLevel(serviceLogLevel: string): LogLevel {
  if (serviceLogLevel === 'debug' || serviceLogLevel === 'trace') return 'DEBUG';
  if (serviceLogLevel === 'error' || serviceLogLevel === 'fatal' || serviceLogLevel === 'silent') return 'ERROR';
  return 'WARN';
}

let installedSdkMetricsAddress: string | undefined;

/** Where the SDK's Prometheus exporter listens, if the runtime was installed with one. */
export function sdkMetricsAddress(): string | undefined {
  return installedSdkMetricsAddress;
}

/**
 * Sends the Temporal SDK's own logs, its native core's included, through pino as JSON lines like
 * ours, and leaves signals to the process (which stops the worker itself). With
 * `metricsAddress` (host:port), the SDK's metrics are exported there for Prometheus (the
 * worker's /metrics appends them). Call before any worker starts.
 */
export function installTemporalRuntime(serviceLogLevel: string, metricsAddress?: string): void {
  const level = sdkLevel(serviceLogLevel);
  Runtime.install({
    shutdownSignals: [],
    telemetryOptions: {
      logging: { filter: { core: level, other: 'ERROR' }, forward: {} },
      ...(metricsAddress && { metrics: { prometheus: { bindAddress: metricsAddress } } }),
    },
    logger: new DefaultLogger(level, ({ level: entryLevel, message, meta }) => {
      logger[PINO_LEVELS[entryLevel]]({ component: 'temporal', ...meta }, message);
    }),
  });
  installedSdkMetricsAddress = metricsAddress;
}
