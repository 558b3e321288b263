import { Hono } from 'hono';
import type { Registry } from 'prom-client';

/** Prometheus' scrape target; app.ts puts the API's bearer auth in front of it. */
export function metricsRoutes(registry: Registry) {
  const app = new Hono();
  app.get('/metrics', async (c) => c.body(await registry.metrics(), 200, { 'content-type': registry.contentType }));
  return app;
}
