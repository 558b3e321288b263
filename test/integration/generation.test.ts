import { beforeAll, describe, expect, it } from 'vitest';
import { insertNewCodes } from '../../src/db/codes.js';
import { createGenerationJob } from '../../src/db/generation.js';
import { compileFormat, formatRegExp } from '../../src/domain/format.js';
import { PromoGroup } from '../../src/temporal/search-attributes.js';
import { eventually, spawnWorkerProcess, testStack, type TestStack } from '../support/stack.js';

const SEED_FORMAT = "SUMMER-S{string('0-9', 4)}{string('a-Z', 10)}";

let stack: TestStack;
beforeAll(async () => {
  stack = await testStack();
});

async function newGroup(name: string, format?: string) {
  const answer = await stack.api('POST', '/api/groups', { json: { name, ...(format && { format }) } });
  expect(answer.status, answer.text).toBe(201);
  return answer.body as { id: string; name: string };
}

async function generate(groupId: string, body: Record<string, unknown>, via = stack) {
  const answer = await via.api('POST', `/api/groups/${groupId}/generations`, { json: body });
  expect(answer.status, answer.text).toBe(202);
  return answer.body as { id: string; workflowId: string; status: string };
}

async function finished(jobId: string, via = stack) {
  return eventually(async () => {
    const job = (await via.api('GET', `/api/jobs/${jobId}`)).body;
    return job.status !== 'running' && job;
  }, 120_000);
}

async function codesOf(groupId: string, via = stack) {
  return (await via.sql<{ code: string }[]>`select code from promo_code where group_id = ${groupId}`).map((row) => row.code);
}

async function expectCountersMatchRows(groupId: string, via = stack) {
  const [rows] = await via.sql<{ total: number; active: number }[]>`
    select count(*)::int as total, (count(*) filter (where status = 'active'))::int as active from promo_code where group_id = ${groupId}`;
  expect((await via.api('GET', `/api/groups/${groupId}`)).body).toMatchObject({ total: rows!.total, active: rows!.active });
}

describe('generation jobs', () => {
  it('generates the seed example exactly, in batches, and becomes the group format', async () => {
    const group = await newGroup('Seed example');
    const job = await generate(group.id, { quantity: 2500, format: SEED_FORMAT });
    expect(job).toMatchObject({ kind: 'generate', groupId: group.id, status: 'running', requested: 2500, workflowId: `generate-${job.id}` });
    const done = await finished(job.id);
    expect(done).toMatchObject({ status: 'completed', requested: 2500, added: 2500, processed: 2500, invalid: 0, errors: [] });
    expect(done.finishedAt).not.toBeNull();
    const codes = await codesOf(group.id);
    expect(codes).toHaveLength(2500);
    expect(new Set(codes).size).toBe(2500);
    const pattern = formatRegExp(compileFormat(SEED_FORMAT));
    expect(codes.every((code) => pattern.test(code))).toBe(true);
    expect((await stack.api('GET', `/api/groups/${group.id}`)).body).toMatchObject({ format: SEED_FORMAT, total: 2500, active: 2500 });
    expect((await stack.api('GET', `/api/jobs?groupId=${group.id}`)).body.items.map((j: { id: string }) => j.id)).toEqual([job.id]);
  });

  it('uses the group format when none is given, and lets operators find the run by group in Temporal', async () => {
    const group = await newGroup('Findable', "FIND-{string('A-Z', 8)}");
    const job = await generate(group.id, { quantity: 10 });
    await finished(job.id);
    const handle = stack.temporal.workflow.getHandle(job.workflowId);
    const description = await handle.describe();
    expect(description.typedSearchAttributes.get(PromoGroup)).toEqual([group.id, 'Findable']);
    expect(await handle.query('progress')).toMatchObject({ id: job.id, added: 10 });
    const found = await eventually(async () => {
      const ids: string[] = [];
      for await (const run of stack.temporal.workflow.list({ query: `PromoGroup = 'Findable' AND PromoJobKind = 'generate'` })) ids.push(run.workflowId);
      return ids.includes(job.workflowId) && ids;
    }, 20_000, 500);
    expect(found).toContain(job.workflowId);
  });

  it('generates the whole keyspace without looping, then refuses more with the maximum', async () => {
    const group = await newGroup('Two digits');
    const job = await generate(group.id, { quantity: 100, format: "{string('0-9', 2)}" });
    expect(await finished(job.id)).toMatchObject({ status: 'completed', added: 100 });
    expect((await codesOf(group.id)).sort()).toEqual(Array.from({ length: 100 }, (_, i) => String(i).padStart(2, '0')));
    // lanes of a crowded format would only wait on each other's inserts: it runs on one
    expect(await stack.sql`select lane from generation_lane where job_id = ${job.id}`).toEqual([{ lane: 0 }]);
    const refused = await stack.api('POST', `/api/groups/${group.id}/generations`, { json: { quantity: 1 } });
    expect(refused.status).toBe(400);
    expect(refused.body.errors).toEqual([{ path: 'quantity', message: expect.stringMatching(/at most 0 more/) }]);
  });

  it('counts codes stored in other groups against the capacity, since codes are unique everywhere', async () => {
    const first = await newGroup('Digit A');
    await stack.api('POST', `/api/groups/${first.id}/codes`, { json: { codes: ['D0', 'D1', 'D2'] } });
    const second = await newGroup('Digit B', "D{string('0-9', 1)}");
    const refused = await stack.api('POST', `/api/groups/${second.id}/generations`, { json: { quantity: 8 } });
    expect(refused.status).toBe(400);
    expect(refused.body.detail).toMatch(/at most 7 more/);
    const check = await stack.api('POST', '/api/formats/check', { json: { format: "D{string('0-9', 1)}" } });
    expect(check.body).toMatchObject({ valid: true, maxQuantity: 7, keyspace: '10' });
    expect(await finished((await generate(second.id, { quantity: 7 })).id)).toMatchObject({ status: 'completed', added: 7 });
    expect(new Set([...(await codesOf(first.id)), ...(await codesOf(second.id))]).size).toBe(10);
  });

  it('splits a job evenly over its lanes, each reaching its own share', async () => {
    expect(stack.config.PROMO_GENERATE_LANES).toBe(3);
    const group = await newGroup('Lanes', "LANE-{string('A-Z', 10)}");
    const job = await generate(group.id, { quantity: 2501 });
    expect(await finished(job.id)).toMatchObject({ status: 'completed', added: 2501 });
    const lanes = await stack.sql<{ lane: number; target: string; added: string }[]>`
      select lane, target, added from generation_lane where job_id = ${job.id} order by lane`;
    expect(lanes).toEqual([
      { lane: 0, target: '834', added: '834' },
      { lane: 1, target: '834', added: '834' },
      { lane: 2, target: '833', added: '833' },
    ]);
    expect(new Set(await codesOf(group.id)).size).toBe(2501);
  });

  it('runs two jobs on one group at once', async () => {
    const group = await newGroup('Twin jobs', "TWIN-{string('A-Z0-9', 10)}");
    const [a, b] = await Promise.all([generate(group.id, { quantity: 3000 }), generate(group.id, { quantity: 2000 })]);
    expect((await finished(a!.id)).added).toBe(3000);
    expect((await finished(b!.id)).added).toBe(2000);
    expect(new Set(await codesOf(group.id)).size).toBe(5000);
    await expectCountersMatchRows(group.id);
  });

  it('cancels a running job; codes already added stay and the counts agree', async () => {
    const group = await newGroup('Cancelled', "CXL-{string('A-Z', 12)}");
    const job = await generate(group.id, { quantity: 1_000_000 });
    await eventually(async () => (await stack.api('GET', `/api/jobs/${job.id}`)).body.added > 0 || undefined);
    const cancel = await stack.api('POST', `/api/jobs/${job.id}/cancel`);
    expect(cancel.status).toBe(202);
    const done = await finished(job.id);
    expect(done.status).toBe('cancelled');
    expect(done.added).toBeLessThan(1_000_000);
    const stored = await codesOf(group.id);
    expect(stored).toHaveLength(done.added);
    await expectCountersMatchRows(group.id);
    const again = await stack.api('POST', `/api/jobs/${job.id}/cancel`);
    expect(again.status).toBe(409);
  });

  it('fails a job whose group is deleted while it runs, keeping what it added', async () => {
    const group = await newGroup('Vanishing', "VAN-{string('A-Z', 12)}");
    const job = await generate(group.id, { quantity: 1_000_000 });
    await eventually(async () => (await stack.api('GET', `/api/jobs/${job.id}`)).body.added > 0 || undefined);
    expect((await stack.api('DELETE', `/api/groups/${group.id}`)).status).toBe(204);
    const done = await finished(job.id);
    expect(done.status).toBe('failed');
    expect(done.errors[0].reason).toMatch(/no promo code group/);
  });
});

describe('adding generated codes', () => {
  async function addWithCopy(groupName: string, stored: string[], candidates: string[]) {
    const group = await newGroup(groupName);
    if (stored.length > 0) expect((await stack.api('POST', `/api/groups/${group.id}/codes`, { json: { codes: stored } })).status).toBe(200);
    const { job } = await createGenerationJob(stack.sql, { groupId: group.id, requested: candidates.length, format: compileFormat('X'), maxLanes: 1 });
    const added = await stack.sql.begin((tx) => insertNewCodes(tx, { groupId: group.id, jobId: job.id }, candidates, true));
    return { group, added };
  }

  it('COPYs new codes as they are, escapes included', async () => {
    const codes = ['COPY\\1', 'COPY\\N', 'COPY-3'];
    const { group, added } = await addWithCopy('Copied', [], codes);
    expect(added).toBe(3);
    expect((await codesOf(group.id)).sort()).toEqual([...codes].sort());
    await expectCountersMatchRows(group.id);
  });

  it('falls back to skipping stored codes when the COPY meets one', async () => {
    const { group, added } = await addWithCopy('Copy collides', ['HIT-1'], ['NEW-1', 'HIT-1', 'NEW-2']);
    expect(added).toBe(2);
    expect((await codesOf(group.id)).sort()).toEqual(['HIT-1', 'NEW-1', 'NEW-2']);
    await expectCountersMatchRows(group.id);
  });
});

describe('generation API errors', () => {
  it('refuses bad quantities, formats and ids precisely', async () => {
    const group = await newGroup('Errors');
    const post = (body: unknown, id = group.id) => stack.api('POST', `/api/groups/${id}/generations`, { json: body });
    for (const quantity of [0, -1, 1.5, 10_000_001, '5']) {
      const answer = await post({ quantity, format: "{string('0-9', 9)}" });
      expect(answer.status).toBe(400);
      expect(answer.body.errors[0].path).toBe('quantity');
    }
    const noFormat = await post({ quantity: 5 });
    expect(noFormat.status).toBe(400);
    expect(noFormat.body.errors[0]).toMatchObject({ path: 'format', message: expect.stringMatching(/no format/) });
    const badFormat = await post({ quantity: 5, format: "AB{strin('0-9', 4)}" });
    expect(badFormat.body.errors[0]).toEqual({ path: 'format', message: expect.stringMatching(/^position 3: unknown macro/) });
    expect((await post({ quantity: 5, format: "{string('0-9', 4)}" }, '987654')).status).toBe(404);
    expect((await stack.api('GET', '/api/jobs/987654')).status).toBe(404);
    expect((await stack.api('POST', '/api/jobs/987654/cancel')).status).toBe(404);
    expect((await stack.api('GET', `/api/groups/${group.id}`)).body.format).toBeNull();
    expect((await stack.api('GET', `/api/jobs?groupId=${group.id}`)).body.items).toEqual([]);
  });
});

describe('format check', () => {
  it('describes a valid format with exact keyspace, examples and capacity', async () => {
    const answer = await stack.api('POST', '/api/formats/check', { json: { format: SEED_FORMAT } });
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ valid: true, length: 22, keyspace: (10n ** 4n * 52n ** 10n).toString(), maxQuantity: 10_000_000 });
    expect(answer.body.entropyBits).toBeCloseTo(70.29, 1);
    expect(answer.body.examples).toHaveLength(5);
    expect(answer.body.examples.every((code: string) => /^SUMMER-S\d{4}[a-zA-Z]{10}$/.test(code))).toBe(true);
  });

  it('reports the error position of a bad format and a quantity beyond the capacity', async () => {
    const bad = await stack.api('POST', '/api/formats/check', { json: { format: "{string('9-0', 4)}" } });
    expect(bad.body).toMatchObject({ valid: false, error: { position: 9, message: expect.stringMatching(/reversed range/) }, examples: [] });
    const tooMany = await stack.api('POST', '/api/formats/check', { json: { format: "Q{string('0-9', 2)}", quantity: 101 } });
    expect(tooMany.body).toMatchObject({ valid: false, maxQuantity: 100, error: { message: expect.stringMatching(/101/) } });
  });
});

describe('crash safety', () => {
  it('finishes with the exact quantity and no duplicates when the worker is killed mid-job', async () => {
    const crashStack = await testStack({ worker: false });
    const group = (await crashStack.api('POST', '/api/groups', { json: { name: 'Killed', format: "KILL-{string('A-Z', 10)}" } })).body;
    const first = await spawnWorkerProcess(crashStack);
    const job = await generate(group.id, { quantity: 30_000 }, crashStack);
    await eventually(async () => (await crashStack.api('GET', `/api/jobs/${job.id}`)).body.added >= 3000 || undefined, 60_000, 20);
    await first.kill();
    const halfway = (await crashStack.api('GET', `/api/jobs/${job.id}`)).body;
    expect(halfway.status).toBe('running');
    expect(halfway.added).toBeLessThan(30_000);
    await spawnWorkerProcess(crashStack);
    expect(await finished(job.id, crashStack)).toMatchObject({ status: 'completed', added: 30_000 });
    const codes = await codesOf(group.id, crashStack);
    expect(codes).toHaveLength(30_000);
    expect(new Set(codes).size).toBe(30_000);
    await expectCountersMatchRows(group.id, crashStack);
  });
});
