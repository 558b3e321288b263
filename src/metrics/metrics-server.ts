import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../logger.js';
import { sdkMetricsText } from './sdk-exporter.js';
import type { WorkerMetrics } from './worker-metrics.js';

export interface MetricsServer {
  /** the bound port (the configured one, or the one the system chose for 0) */
  port: number;
  close(): Promise<void>;
}

/**
 * The worker's /metrics: its own metrics, then those of the Temporal SDK's exporter when the
 * runtime was installed with one (`sdkAddress`).
 */
export async function startMetricsServer(options: { port: number; metrics: WorkerMetrics; sdkAddress: string | undefined; logger: Logger }): Promise<MetricsServer> {
  const { metrics, sdkAddress, logger } = options;
  const server = http.createServer((request, response) => {
    if (request.method !== 'GET' || new URL(request.url ?? '/', 'http://worker').pathname !== '/metrics') {
      response.writeHead(404).end();
      return;
    }
    Promise.all([metrics.registry.metrics(), sdkAddress ? sdkMetricsText(sdkAddress, logger) : ''])
      .then(([own, sdk]) => response.writeHead(200, { 'content-type': metrics.registry.contentType }).end(sdk ? `${own}\n${sdk}` : own))
      .catch((error: unknown) => {
        logger.error({ err: error }, 'metrics scrape failed');
        response.writeHead(500).end();
      });
  });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(options.port, '0.0.0.0', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections(); // a scraper's keep-alive connection would hold close() open
      }),
  };
}
