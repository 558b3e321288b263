import type { Context, MiddlewareHandler } from 'hono';
import { matchedRoutes } from 'hono/route';
import type { ApiMetrics } from './api-metrics.js';

/** Counts and times every request by the route pattern it matched (never the raw path: bounded labels). */
export function requestMetrics({ httpRequests, httpDuration }: ApiMetrics): MiddlewareHandler {
  return async (c, next) => {
    const started = process.hrtime.bigint();
    try {
      await next();
    } finally {
      const labels = { method: c.req.method, route: routeLabel(c), status: String(c.res.status) };
      httpRequests.inc(labels);
      httpDuration.observe(labels, Number(process.hrtime.bigint() - started) / 1e9);
    }
  };
}

/**
 * The pattern of the route that answered; when a middleware answered (a 401, a 413), the
 * endpoint the request was headed for. Middlewares are registered for every method (ALL).
 */
function routeLabel(c: Context): string {
  const routes = matchedRoutes(c);
  const answered = routes[c.req.routeIndex];
  if (answered && answered.method !== 'ALL') return answered.path;
  return routes.filter((route) => route.method !== 'ALL').at(-1)?.path ?? 'unmatched';
}
