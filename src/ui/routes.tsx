import { Hono } from 'hono';
import type { AppDeps } from '../api/router.js';
import { assetRoutes } from './assets.js';
import { codePages } from './pages/codes.js';
import { customerPages } from './pages/customers.js';
import { groupPages } from './pages/groups.js';
import { mailingPages } from './pages/mailings.js';
import { segmentPages } from './pages/segments.js';
import { sessionPages } from './pages/sessions.js';
import { signinRoutes, signoutRoutes } from './pages/signin.js';

/** The operator pages, mounted at '/' next to /api; each section has its own prefix. */
export function uiRoutes(deps: AppDeps) {
  const ui = new Hono();
  ui.route('/assets', assetRoutes());
  ui.route('/signin', signinRoutes(deps));
  ui.route('/signout', signoutRoutes(deps));
  ui.route('/groups', groupPages(deps));
  ui.route('/mailings', mailingPages(deps));
  ui.route('/customers', customerPages(deps));
  ui.route('/codes', codePages(deps));
  ui.route('/segments', segmentPages(deps));
  ui.route('/sessions', sessionPages(deps));
  ui.get('/', (c) => c.redirect('/groups', 302));
  return ui;
}
