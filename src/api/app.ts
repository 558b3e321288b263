import { swaggerUI } from '@hono/swagger-ui';
import { bodyLimit } from 'hono/body-limit';
import { HTTPException } from 'hono/http-exception';
import { bearerAuth } from './auth.js';
import { errorHandler, problem } from './problem.js';
import { type AppDeps, newRouter } from './router.js';
import { formatRoutes } from './routes/formats.js';
import { groupRoutes } from './routes/groups.js';
import { healthRoutes } from './routes/health.js';
import { jobRoutes } from './routes/jobs.js';

const PUBLIC_API_PATHS = new Set(['/api/openapi.json', '/api/docs']);

export function createApp(deps: AppDeps) {
  const app = newRouter();
  app.onError(errorHandler(deps.logger));
  app.notFound((c) => problem(c, 404, `No route for ${c.req.method} ${c.req.path}.`));

  const auth = bearerAuth(deps.apiTokens);
  app.use('/api/*', (c, next) => (PUBLIC_API_PATHS.has(c.req.path) ? next() : auth(c, next)));
  app.use(
    '/api/*',
    bodyLimit({
      maxSize: deps.maxBodyBytes,
      onError: () => {
        throw new HTTPException(413, { message: `The body is larger than ${deps.maxBodyBytes} bytes.` });
      },
    }),
  );

  app.route('/', healthRoutes(deps));
  app.route('/api', groupRoutes(deps));
  app.route('/api', jobRoutes(deps));
  app.route('/api', formatRoutes(deps));

  app.openAPIRegistry.registerComponent('securitySchemes', 'Bearer', { type: 'http', scheme: 'bearer' });
  app.doc31('/api/openapi.json', {
    openapi: '3.1.0',
    info: { title: 'Promo codes service', version: '1.0.0', description: 'Groups of unique promo codes, generation and import jobs, mailings that issue codes, customer history and segments.' },
  });
  app.get('/api/docs', swaggerUI({ url: '/api/openapi.json' }));
  return app;
}
