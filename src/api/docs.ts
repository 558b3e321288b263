import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { swaggerUI } from '@hono/swagger-ui';
import { Hono } from 'hono';

const ASSETS = '/api/docs/assets';
const FILES: Record<string, string> = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
};
const resolve = createRequire(import.meta.url).resolve;

/** Swagger UI at /api/docs, its assets served from the installed swagger-ui-dist (no CDN). */
export function docsRoutes() {
  const app = new Hono();
  app.get('/api/docs', swaggerUI({ url: '/api/openapi.json', baseUrl: ASSETS, title: 'Promo codes API' }));
  app.get(`${ASSETS}/swagger-ui-dist/:file`, async (c) => {
    // own keys only: `__proto__` or `toString` is no file
    const type = Object.hasOwn(FILES, c.req.param('file')) ? FILES[c.req.param('file')] : undefined;
    if (!type) return c.notFound();
    const body = await readFile(resolve(`swagger-ui-dist/${c.req.param('file')}`));
    return c.body(body, 200, { 'content-type': type, 'cache-control': 'public, max-age=86400' });
  });
  return app;
}

export const isDocsPath = (path: string) => path === '/api/openapi.json' || path === '/api/docs' || path.startsWith(`${ASSETS}/`);
