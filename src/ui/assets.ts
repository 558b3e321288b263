import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Hono } from 'hono';

const DIR = new URL('./assets/', import.meta.url);
const TYPES: Record<string, string> = { '.css': 'text/css; charset=utf-8', '.js': 'text/javascript; charset=utf-8' };

/** /assets/<name>: the CSS and JS files of src/ui/assets, public (the sign-in page needs them). */
export function assetRoutes() {
  const app = new Hono();
  app.get('/:file{[\\w-]+\\.\\w+}', async (c) => {
    const file = c.req.param('file');
    const type = TYPES[path.extname(file)];
    const body = type && (await readFile(new URL(file, DIR)).catch(() => undefined));
    if (!body) return c.notFound();
    return c.body(body, 200, { 'content-type': type, 'cache-control': 'no-cache' });
  });
  return app;
}
