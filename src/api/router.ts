import { OpenAPIHono } from '@hono/zod-openapi';
import type { Client } from '@temporalio/client';
import type { Sql } from '../db/client.js';
import type { Logger } from '../logger.js';
import type { AddressPolicy } from '../channels/address-policy.js';
import type { RenderPool } from '../render/render-pool.js';
import { validationHook } from './problem.js';

export interface AppDeps {
  sql: Sql;
  temporal: Client;
  logger: Logger;
  apiTokens: readonly string[];
  taskQueue: string;
  maxBodyBytes: number;
  /** the largest file `POST /api/groups/{id}/imports` takes */
  maxImportBytes: number;
  /** linked from the operator pages' menu when set */
  temporalUiUrl?: string | undefined;
  /** direct issues of one group that share a transaction at most */
  issueBatchSize: number;
  /** how many lanes of batches a generation job runs at once */
  generationLanes: number;
  /** renders templates off the event loop: the render check of a template before it is accepted */
  renderPool: RenderPool;
  /** whether SMTP_URL is set: without it a mailing over the `smtp` channel is refused */
  smtpConfigured: boolean;
  /** the addresses a webhook may reach (PROMO_WEBHOOK_ALLOW), checked when a mailing is accepted */
  webhookPolicy: AddressPolicy;
  /** take the client's address (for throttling wrong tokens) from X-Forwarded-For: PROMO_TRUST_PROXY */
  trustProxy?: boolean | undefined;
}

/** Every router shares the validation hook, so bad input always becomes a 400 problem. */
export function newRouter(): OpenAPIHono {
  return new OpenAPIHono({ defaultHook: validationHook });
}
