import type { StartOperationContext } from 'nexus-rpc';
import { z } from 'zod';
import { customerId, IdempotencyKey } from '../api/routes/customers.js';
import type { IssueCodeInput, IssuedCode, ReissueCodeInput, ReissuedCode } from '../client/types.js';
import type { Sql } from '../db/client.js';
import type { IssueBatcher } from '../db/issue-batcher.js';
import { reissueCode } from '../db/issuance.js';
import { trimmedText } from '../domain/trimmed-text.js';
import { nexusErrors, parseInput } from './errors.js';
import { groupIdByName } from './group-by-name.js';

// as the API takes them: a group's name as the groups API and segments do, an idempotency key as POST …/issue does
const group = trimmedText(200);
const IssueInput = z.object({ group, customerId, idempotencyKey: IdempotencyKey }).strict();
const ReissueInput = z.object({ group, customerId, idempotencyKey: IdempotencyKey.optional() }).strict();

/**
 * The idempotency key of a call that brings none: Temporal sends every attempt of one scheduled
 * operation with the same request id, so an attempt retried after the first one committed (its
 * worker died before answering) records its repeat once, not twice. A caller that sends no
 * request id gets no key: one empty id shared by every such call would answer them all alike.
 */
const retryKey = (ctx: StartOperationContext) => (ctx.requestId ? `nexus-request:${ctx.requestId}` : undefined);

/**
 * `issueCode` and `reissueCode`: what POST /api/groups/{id}/issue and …/reissue do, the group
 * given by name; issues go through the worker's IssueBatcher, as the API's go through its own.
 */
export function issuanceOperations(sql: Sql, issues: IssueBatcher) {
  return {
    issueCode: (_ctx: unknown, input: IssueCodeInput): Promise<IssuedCode> =>
      nexusErrors(async () => {
        const request = parseInput(IssueInput, input, 'issueCode');
        const groupId = await groupIdByName(sql, request.group);
        return { code: await issues.issue(groupId, { customerId: request.customerId, idempotencyKey: request.idempotencyKey }), kind: 'initial' };
      }),
    reissueCode: (ctx: StartOperationContext, input: ReissueCodeInput): Promise<ReissuedCode> =>
      nexusErrors(async () => {
        const request = parseInput(ReissueInput, input, 'reissueCode');
        const groupId = await groupIdByName(sql, request.group);
        return { code: await reissueCode(sql, groupId, request.customerId, request.idempotencyKey ?? retryKey(ctx)), kind: 'repeat' };
      }),
  };
}
