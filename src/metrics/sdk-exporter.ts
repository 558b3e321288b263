import net from 'node:net';
import type { Logger } from '../logger.js';

/**
 * A free port on loopback for the Temporal SDK's own Prometheus exporter, which the worker's
 * /metrics reads and appends (one scrape target per worker). The SDK binds the address itself
 * and cannot say which port it got, so the port is chosen here.
 */
export async function freeLoopbackAddress(): Promise<string> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `127.0.0.1:${port}`;
}

const SDK_SCRAPE_TIMEOUT_MS = 2000;

/** The SDK exporter's exposition text; empty (and a warning) when it does not answer. */
export async function sdkMetricsText(address: string, logger: Logger): Promise<string> {
  try {
    const response = await fetch(`http://${address}/metrics`, { signal: AbortSignal.timeout(SDK_SCRAPE_TIMEOUT_MS) });
    if (!response.ok) throw new Error(`status ${response.status}`);
    return await response.text();
  } catch (error) {
    logger.warn({ err: error, address }, 'the Temporal SDK metrics exporter did not answer');
    return '';
  }
}

/** The SDK exporter's address for installTemporalRuntime: one only when the worker serves metrics. */
export async function sdkExporterAddressFor(config: { PROMO_WORKER_METRICS_PORT?: number | undefined }): Promise<string | undefined> {
  return config.PROMO_WORKER_METRICS_PORT === undefined ? undefined : freeLoopbackAddress();
}
