import { getConnInfo } from '@hono/node-server/conninfo';
import type { Context } from 'hono';

/**
 * The client's address: the socket's remote address. With `trustProxy` (PROMO_TRUST_PROXY,
 * for a deployment behind a proxy that sets X-Forwarded-For itself), the first address of
 * X-Forwarded-For instead when present. `'unknown'` when there is neither (an in-process
 * `app.request()`), so such requests share one throttle.
 */
export function clientAddress(c: Context, trustProxy: boolean): string {
  if (trustProxy) {
    const forwarded = c.req.header('x-forwarded-for')?.split(',')[0]?.trim();
    if (forwarded) return forwarded;
  }
  try {
    return getConnInfo(c).remote.address ?? 'unknown';
  } catch {
    return 'unknown'; // no Node socket behind this request
  }
}
