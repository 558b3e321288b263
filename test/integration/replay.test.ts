import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import proto from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import type { MailingPromoWorkflow } from '../../src/workflows/mailing-promo.js';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { eventually, testStack, type TestStack } from '../support/stack.js';

// Recorded histories of every workflow (written with RECORD_HISTORIES=1, protobuf-encoded) are
// replayed against today's workflow code: a change that would break runs in flight fails here.
// Recording adds the histories of scenarios that have none yet and never rewrites one: those
// recorded before a change are what proves the change replays them.
const { History } = proto.temporal.api.history.v1;
const FIXTURES = fileURLToPath(new URL('../fixtures/histories/', import.meta.url));

let stack: TestStack;
beforeAll(async () => {
  stack = await testStack({ env: { PROMO_MAILING_BATCH_SIZE: '2' } });
});

async function settled(workflowId: string) {
  const handle = stack.temporal.workflow.getHandle(workflowId);
  await eventually(async () => (await handle.describe()).status.name !== 'RUNNING');
  return handle.fetchHistory();
}

/** Runs each workflow through its main paths and returns their histories by name. */
async function runScenarios() {
  const api = async (method: string, path: string, options?: { json?: unknown }) => {
    const answer = await stack.api(method, path, options);
    expect(answer.status, `${method} ${path}: ${answer.text}`).toBeLessThan(300);
    return answer;
  };
  const group = (await api('POST', '/api/groups', { json: { name: 'Replay', format: "RPL-{string('A-Z', 8)}" } })).body;
  const generated = (await api('POST', `/api/groups/${group.id}/generations`, { json: { quantity: 2500 } })).body;
  const completedGeneration = await settled(generated.workflowId);
  const big = (await api('POST', `/api/groups/${group.id}/generations`, { json: { quantity: 5_000_000 } })).body;
  await eventually(async () => (await api('GET', `/api/jobs/${big.id}`)).body.added > 0 || undefined);
  await api('POST', `/api/jobs/${big.id}/cancel`);
  const cancelledGeneration = await settled(big.workflowId);

  const mail = (body: string, n: number) =>
    api('POST', '/api/mailings', {
      json: { name: 'Replay', channel: { type: 'log' }, template: { body }, recipients: Array.from({ length: n }, (_, i) => ({ customerId: `replay-${i}` })) },
    }).then((answer) => answer.body);
  const completed = await mail('{{ client.promocode("Replay") }} {{ client.last_promocode("Replay") }}', 9);
  const completedMailing = await settled(completed.workflowId);
  const short = await mail('{{ client.promocode("Nowhere") }}', 3);
  const failedMailing = await settled(short.workflowId);

  const audience = { segment: { issuedFromGroup: { group: 'Replay' } } };
  const template = { body: '{{ client.promocode("Replay") }}' };
  const toSegment = (await api('POST', '/api/mailings', { json: { name: 'Replay segment', channel: { type: 'log' }, template, audience } })).body;
  const audienceMailing = await settled(toSegment.workflowId);
  const direct = await stack.temporal.workflow.start<typeof MailingPromoWorkflow>('MailingPromoWorkflow', {
    workflowId: 'mailing-replay-direct',
    taskQueue: stack.taskQueue,
    args: [{ mailingId: 'replay-direct', request: { name: 'Replay direct', channel: { type: 'log' }, template, audience } }],
  });
  const directStartMailing = await settled(direct.workflowId);
  return { completedGeneration, cancelledGeneration, completedMailing, failedMailing, audienceMailing, directStartMailing };
}

describe('workflow replay', () => {
  it('replays the histories of this run and the recorded ones without non-determinism', async () => {
    const fresh = await runScenarios();
    if (process.env.RECORD_HISTORIES) {
      const existing = new Set(await readdir(FIXTURES));
      for (const [name, history] of Object.entries(fresh)) {
        if (!existing.has(`${name}.pb`)) await writeFile(path.join(FIXTURES, `${name}.pb`), History.encode(history).finish());
      }
    }
    const recorded = await Promise.all(
      (await readdir(FIXTURES)).filter((file) => file.endsWith('.pb')).map(async (file) => ({
        workflowId: `recorded-${file}`,
        history: History.decode(await readFile(path.join(FIXTURES, file))),
      })),
    );
    expect(recorded.length).toBeGreaterThanOrEqual(8);
    const histories = [...Object.entries(fresh).map(([name, history]) => ({ workflowId: name, history })), ...recorded];
    const results = [];
    for await (const result of Worker.runReplayHistories({ workflowBundle: { codePath: inject('workflowBundlePath') } }, histories)) results.push(result);
    expect(results.map((r) => [r.workflowId, r.error?.message])).toEqual(histories.map((h) => [h.workflowId, undefined]));
  });
});
