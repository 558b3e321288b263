import type { Client } from '@temporalio/client';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import type { Sql } from '../db/client.js';
import type { RenderPool } from '../render/render-pool.js';

/** What every activity factory is given: the worker's database, configuration, template renderer, Temporal client and task queue (to start jobs), and logger. */
export interface ActivityDeps {
  sql: Sql;
  config: Config;
  renderPool: RenderPool;
  temporal: Client;
  taskQueue: string;
  /** where alerts are logged */
  logger: Logger;
}
