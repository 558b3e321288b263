import type { MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { HTTPException } from 'hono/http-exception';

/**
 * A body larger than `maxBytes` is a 413 before any route reads it. A declared Content-Length is
 * checked from the header (Node's HTTP parser holds the body to it); a body without one goes
 * through hono's bodyLimit, which counts it as it streams: a chunked upload, or a request built
 * in the process (`app.request()`, as the tests send theirs), whose body declares no length
 * even when it has one. Why not bodyLimit for
 * all: it reads `c.req.raw.body`, which makes @hono/node-server build a whole web Request (an
 * undici Request, a ReadableStream, an AbortSignal) for every request, GETs too, where the
 * routes' own reads take the server's direct path: a fifth of the API's busy time under
 * `npm run bench -- issue`.
 */
export function limitBody(maxBytes: number): MiddlewareHandler {
  const tooLarge = (): never => {
    throw new HTTPException(413, { message: `The body is larger than ${maxBytes} bytes.` });
  };
  const counted = bodyLimit({ maxSize: maxBytes, onError: tooLarge });
  return (c, next) => {
    if (c.req.method === 'GET' || c.req.method === 'HEAD') return next();
    const declared = c.req.header('content-length');
    if (declared === undefined || c.req.header('transfer-encoding') !== undefined) return counted(c, next);
    return Number(declared) > maxBytes ? tooLarge() : next();
  };
}
