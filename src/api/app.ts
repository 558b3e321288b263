import { apiAuth } from '../auth/middleware.js';
import { limitBody } from './body-limit.js';
import { SESSION_COOKIE } from '../auth/sessions.js';
import { docsRoutes, isDocsPath } from './docs.js';
import { refineDocument } from './openapi-document.js';
import { errorHandler } from './problem.js';
import { notFoundOrNotAllowed, rejectUnstorableText } from './request-guards.js';
import { type AppDeps, newRouter } from './router.js';
import { codeRoutes } from './routes/codes.js';
import { customerRoutes } from './routes/customers.js';
import { formatRoutes } from './routes/formats.js';
import { groupRoutes } from './routes/groups.js';
import { segmentRoutes } from './routes/segments.js';
import { healthRoutes } from './routes/health.js';
import { IMPORT_UPLOAD_PATH, importRoutes } from './routes/imports.js';
import { jobRoutes } from './routes/jobs.js';
import { mailingRoutes, RECIPIENTS_UPLOAD_PATH } from './routes/mailings.js';
import { metricsRoutes } from './routes/metrics.js';
import { sessionRoutes } from './routes/sessions.js';
import { uiRoutes } from '../ui/routes.js';
import { createApiMetrics } from '../metrics/api-metrics.js';
import { requestMetrics } from '../metrics/http-middleware.js';

const API_DESCRIPTION = `Groups of unique promo codes, generation and import jobs, mailings that issue codes, customer history and segments.

Every string, in bodies, paths and queries, must be storable text: a NUL character or a lone surrogate is a 400 at its field. Bad input is a 400 whose \`errors\` name each field by its path.`;

export function createApp(deps: AppDeps) {
  const app = newRouter();
  app.onError(errorHandler(deps.logger));
  app.notFound(notFoundOrNotAllowed(app));

  const metrics = createApiMetrics(deps.sql);
  app.use('*', requestMetrics(metrics));
  const auth = apiAuth(deps);
  app.use('/api/*', (c, next) => (isDocsPath(c.req.path) ? next() : auth(c, next)));
  app.use('/metrics', auth);
  const bodyLimit = limitBody(deps.maxBodyBytes);
  // an import streams its body under its own, larger limit (maxImportBytes)
  app.use('*', (c, next) => (IMPORT_UPLOAD_PATH.test(c.req.path) ? next() : bodyLimit(c, next)));
  // no NUL character or lone surrogate reaches PostgreSQL: a 400 naming the field instead of a 500
  // (the streamed uploads check their lines themselves)
  app.use('/api/*', rejectUnstorableText(app, (path) => IMPORT_UPLOAD_PATH.test(path) || RECIPIENTS_UPLOAD_PATH.test(path)));

  app.route('/', healthRoutes(deps));
  app.route('/', metricsRoutes(metrics.registry));
  app.route('/api', groupRoutes(deps));
  app.route('/api', segmentRoutes(deps));
  app.route('/api', jobRoutes(deps));
  app.route('/api', importRoutes(deps));
  app.route('/api', formatRoutes(deps));
  app.route('/api', mailingRoutes(deps));
  app.route('/api', customerRoutes(deps));
  app.route('/api', codeRoutes(deps));
  app.route('/api', sessionRoutes(deps));

  app.openAPIRegistry.registerComponent('securitySchemes', 'Bearer', { type: 'http', scheme: 'bearer' });
  app.openAPIRegistry.registerComponent('securitySchemes', 'Session', {
    type: 'apiKey',
    in: 'cookie',
    name: SESSION_COOKIE,
    description: 'The operator pages\' session (sign in at /signin); a request that changes something also needs its CSRF token in the x-csrf-token header.',
  });
  const info = { title: 'Promo codes service', version: '1.0.0', description: API_DESCRIPTION };
  let document: ReturnType<typeof app.getOpenAPI31Document> | undefined;
  app.get('/api/openapi.json', (c) => c.json((document ??= refineDocument(app.getOpenAPI31Document({ openapi: '3.1.0', info })))));
  app.route('/', docsRoutes());
  app.route('/', uiRoutes(deps));
  return app;
}
