import type { Config } from '../config.js';
import type { Sql } from '../db/client.js';
import type { RenderPool } from '../render/render-pool.js';

/** What every activity factory is given: the worker's database, configuration and template renderer. */
export interface ActivityDeps {
  sql: Sql;
  config: Config;
  renderPool: RenderPool;
}
