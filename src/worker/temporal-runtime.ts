import { DefaultLogger, type LogLevel, Runtime } from '@temporalio/worker';
import { logger } from '../logger.js';

const PINO_LEVELS: Record<LogLevel, 'trace' | 'debug' | 'info' | 'warn' | 'error'> = {
  TRACE: 'trace',
  DEBUG: 'debug',
  INFO: 'info',
  WARN: 'warn',
  ERROR: 'error',
};

/**
 * Sends the Temporal SDK's own logs through pino, as JSON lines like ours, and leaves signals to
 * the process (which stops the worker itself). Call before any worker starts.
 */
export function installTemporalRuntime(serviceLogLevel: string): void {
  const level: LogLevel = serviceLogLevel === 'debug' || serviceLogLevel === 'trace' ? 'DEBUG' : 'WARN';
  Runtime.install({
    shutdownSignals: [],
    logger: new DefaultLogger(level, ({ level: entryLevel, message, meta }) => {
      logger[PINO_LEVELS[entryLevel]]({ component: 'temporal', ...meta }, message);
    }),
  });
}
