// Faults of a production-shaped topology (test/support/topology.ts): PostgreSQL and a Temporal
// server (SQLite file) as processes of their own, two worker processes and two API processes.
// Each test kills or stops one piece mid-work and checks, once all is back, the lifecycle
// invariants and the webhook receiver's log as the oracle. One topology for the file; each test
// leaves every process running again.
import { readFile } from 'node:fs/promises';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it, onTestFailed } from 'vitest';
import { expectLifecycleInvariants, expectReceivedCodesIssued } from '../support/invariants.js';
import { onCleanup } from '../support/stack.js';
import { stagingTables } from '../support/staging.js';
import { startTopology, type Topology, until } from '../support/topology.js';
import { heldCodes, type ReceivedMessage, startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.js';

// sizes for two cores (the issue's 20,000-recipient mailing is kept; imports and generations are
// sized to be mid-way when the fault lands, not to be large)
const MAILING_SIZE = Number(process.env.FAULT_MAILING_SIZE ?? 20_000);
const OUTAGE_MS = 10_000; // PostgreSQL down
const RECEIVER_DOWN_MS = 60_000; // the issue's "a minute"

let topology: Topology;
let webhook: WebhookReceiver;
const logs: string[] = [];

beforeAll(async () => {
  topology = await startTopology({
    workers: 2,
    apis: 2,
    workflowBundlePath: inject('workflowBundlePath'),
    env: {
      PROMO_HOUSEKEEPING_SCHEDULE_ID: '',
      PROMO_MAILING_BATCH_SIZE: '250',
      PROMO_MAILING_PARALLELISM: '4',
      // a batch of a killed worker is retried after 5 s, not 20
      PROMO_MAILING_HEARTBEAT_SECONDS: '5',
      PROMO_GENERATE_BATCH_SIZE: '2000',
      PROMO_IMPORT_BATCH_SIZE: '2000',
      PROMO_DB_POOL_SIZE: '5',
      PROMO_RENDER_THREADS: '1',
    },
    output: (name, chunk) => {
      for (const line of chunk.split('\n').filter(Boolean)) logs.push(`[${name}] ${line}`);
      if (logs.length > 400) logs.splice(0, logs.length - 400);
    },
  });
  onCleanup(() => topology.stop());
  webhook = await startWebhookReceiver();
}, 180_000);

afterAll(() => {
  if (process.env.TOPOLOGY_LOGS) console.info(logs.join('\n'));
});

// No service process may die of a fault it was not given (a database or Temporal outage, a
// receiver's 503s): each test ends by checking so; a dead one is started again for the next test.
afterEach(async () => {
  if (!topology) return;
  for (const service of [...topology.workers, ...topology.apis]) if (!service.running()) await service.restart();
  topology.unexpectedExits.length = 0;
});

function expectNoCrash() {
  const crashes = topology.unexpectedExits.splice(0);
  const report = crashes.map(({ name, code, signal, lastOutput }) => `${name} exited (${code ?? signal}); its last output:\n${lastOutput.slice(-1200)}`).join('\n');
  expect(crashes.map(({ name, code, signal }) => `${name} exited (${code ?? signal})`), `service processes died:\n${report}`).toEqual([]);
}

/** On failure, the service processes' last log lines. */
function dumpLogsOnFailure() {
  onTestFailed(() => {
    console.error(`last lines of the service processes:\n${logs.slice(-120).join('\n')}`);
  });
}

/** Polls `probe` until it gives something; a probe that throws (a server down for a moment) counts as not yet. */
const eventually = <T>(probe: () => Promise<T | undefined | null | false>, timeoutMs = 60_000, intervalMs = 200) => until('condition', probe, timeoutMs, intervalMs);

const api = (method: string, path: string, options?: Parameters<Topology['api']>[2]) => topology.api(method, path, options);

async function groupWith(name: string, codes: string[], extra: Record<string, unknown> = {}) {
  const created = await api('POST', '/api/groups', { json: { name, ...extra } });
  expect(created.status, created.text).toBe(201);
  if (codes.length > 0) {
    const pasted = await api('POST', `/api/groups/${created.body.id}/codes`, { json: { codes } });
    expect(pasted.body?.added, pasted.text).toBe(codes.length);
  }
  return created.body as { id: string; name: string };
}

const codesOf = (prefix: string, count: number) => Array.from({ length: count }, (_, i) => `${prefix}-${String(i).padStart(6, '0')}`);

async function startMailing(group: string, prefix: string, count: number, via = 0) {
  const answer = await api('POST', '/api/mailings', {
    via,
    json: {
      name: prefix,
      channel: { type: 'webhook', url: webhook.url },
      template: { body: `{{ client.promocode("${group}") }}` },
      recipients: Array.from({ length: count }, (_, i) => ({ customerId: `${prefix}-${i}` })),
    },
  });
  expect(answer.status, answer.text).toBe(202);
  return answer.body as { id: string; workflowId: string };
}

const mailingOf = async (id: string) => (await api('GET', `/api/mailings/${id}`)).body;
const jobOf = async (id: string) => (await api('GET', `/api/jobs/${id}`)).body;
const delivered = (mailingId: string) => webhook.received.filter((m) => m.mailingId === mailingId && m.answer === 200).length;

/** What `read` gives once it has ended: completed, failed or cancelled. */
const ended = (read: () => Promise<any>, timeoutMs = 150_000) =>
  eventually(async () => {
    const current = await read();
    return ['completed', 'failed', 'cancelled'].includes(current?.status) && current;
  }, timeoutMs, 500);
const mailingEnded = (id: string) => ended(() => mailingOf(id));
const jobEnded = (id: string) => ended(() => jobOf(id));

/** The receiver answers each message after 2 ms: slow enough for a fault to land mid-mailing. */
const slowReceiver = () =>
  webhook.behave(async () => {
    await new Promise((resolve) => setTimeout(resolve, 2));
    return 200;
  });

/**
 * The receiver's log as the oracle for a mailing of `count` recipients `${prefix}-i`, all sent:
 * each recipient's message arrived, accepted, under its idempotency key (header and body agree),
 * every copy of it (at-least-once after a crash) with the same code, and that code is issued to
 * that customer; the group's codes add up.
 */
async function expectAllDelivered(mailingId: string, prefix: string, count: number, groupId: string) {
  const messages = webhook.received.filter((m) => m.mailingId === mailingId);
  const byKey = new Map<string, ReceivedMessage[]>();
  for (const message of messages) byKey.set(message.idempotencyKey, [...(byKey.get(message.idempotencyKey) ?? []), message]);
  const missing: string[] = [];
  const inconsistent: string[] = [];
  for (let i = 0; i < count; i += 1) {
    const key = `${mailingId}:${prefix}-${i}`;
    const copies = byKey.get(key) ?? [];
    if (!copies.some((m) => m.answer === 200)) missing.push(key);
    if (new Set(copies.map((m) => m.body)).size > 1 || copies.some((m) => decodeURIComponent(m.header ?? '') !== key || m.customerId !== `${prefix}-${i}`)) inconsistent.push(key);
  }
  expect(missing.slice(0, 10), `recipients without an accepted message (${missing.length})`).toEqual([]);
  expect(inconsistent.slice(0, 10), 'a recipient got two codes, or a key that is not its own').toEqual([]);
  expect(byKey.size, 'no message to anyone else').toBe(count);
  const codes = new Set(messages.map((m) => m.body));
  expect(codes.size, 'one code per recipient').toBe(count);
  const group = (await api('GET', `/api/groups/${groupId}`)).body;
  expect(group).toMatchObject({ blocked: 0, issued: count });
  await expectReceivedCodesIssued(topology.sql, heldCodes(webhook.received, mailingId));
  return messages;
}

/** The parent process of a database backend: the postmaster. */
async function postmasterOfBackend(): Promise<number> {
  const [backend] = await topology.sql<{ pid: number }[]>`select pg_backend_pid() as pid`;
  return Number(/^PPid:\s+(\d+)$/m.exec(await readFile(`/proc/${backend!.pid}/status`, 'utf8'))![1]);
}

const noRunningJobs = async () => topology.sql<{ id: string; status: string }[]>`select id, status from job where status not in ('completed', 'failed', 'cancelled')`;

describe('a production-shaped topology under faults', () => {
  it(`(a) a webhook mailing of ${MAILING_SIZE} recipients spread over both workers: one is SIGKILLed mid-send, the other finishes it`, async () => {
    dumpLogsOnFailure();
    const group = await groupWith('Spread', codesOf('SPREAD', MAILING_SIZE));
    const mailing = await startMailing('Spread', 'spread', MAILING_SIZE);
    await eventually(async () => delivered(mailing.id) >= MAILING_SIZE * 0.3 || undefined, 120_000, 20);
    const [doomed, survivor] = topology.workers as [Topology['workers'][0], Topology['workers'][0]];
    const doomedPid = doomed.pid();
    await doomed.kill();
    const atKill = await mailingOf(mailing.id);
    expect(atKill.status, 'the mailing outlived the killed worker').toBe('sending');
    expect(atKill.sent, 'the kill landed mid-send').toBeLessThan(MAILING_SIZE);

    const done = await mailingEnded(mailing.id);
    expect(done).toMatchObject({ status: 'completed', recipients: MAILING_SIZE, sent: MAILING_SIZE, failed: 0, unknown: 0, pending: 0 });
    // both workers sent batches: the history names the worker of each batch's last attempt
    const { events } = await topology.temporalClient.workflow.getHandle(mailing.workflowId).fetchHistory();
    const identities = new Set((events ?? []).map((e) => e.activityTaskStartedEventAttributes?.identity).filter((x): x is string => !!x).map((id) => id.split('@')[0]));
    expect(identities, 'batches ran on both workers').toEqual(new Set([String(doomedPid), String(survivor.pid())]));
    await expectAllDelivered(mailing.id, 'spread', MAILING_SIZE, group.id);
    await expectLifecycleInvariants(topology.sql);
    await doomed.restart();
    expectNoCrash();
  }, 240_000);

  it('(b) the Temporal server SIGKILLed mid-mailing and mid-generation, started again on its SQLite file: both finish, exact counts', async () => {
    dumpLogsOnFailure();
    const count = 3000;
    const mailGroup = await groupWith('Temporal mail', codesOf('TMAIL', count));
    const genGroup = await groupWith('Temporal gen', [], { format: "TGEN-{string('A-Z', 12)}" });
    const quantity = 200_000;
    slowReceiver();
    const mailing = await startMailing('Temporal mail', 'tmail', count, 1);
    await eventually(async () => delivered(mailing.id) >= count * 0.1 || undefined, 60_000, 20);
    // the generation (through the other API process) once the mailing is well under way
    const started = await api('POST', `/api/groups/${genGroup.id}/generations`, { json: { quantity } });
    expect(started.status, started.text).toBe(202);
    const job = started.body;
    await eventually(async () => (await jobOf(job.id)).processed > 0 || undefined, 60_000, 20);
    await topology.temporal.kill();
    const [atKillMailing, atKillJob] = [await mailingOf(mailing.id), await jobOf(job.id)];
    await new Promise((resolve) => setTimeout(resolve, 2_000)); // down for a moment: workers and APIs lose it
    await topology.temporal.start();
    expect(atKillMailing.sent, 'the kill landed mid-mailing').toBeLessThan(count);
    expect(atKillJob.status, 'the kill landed mid-generation').toBe('running');

    const [done, generated] = await Promise.all([mailingEnded(mailing.id), jobEnded(job.id)]);
    webhook.behave(() => 200);
    expect(done).toMatchObject({ status: 'completed', recipients: count, sent: count, failed: 0, unknown: 0, pending: 0 });
    expect(generated).toMatchObject({ status: 'completed', requested: quantity, processed: quantity, added: quantity });
    const [stored] = await topology.sql<{ n: number }[]>`select count(*)::int as n from promo_code where group_id = ${genGroup.id}`;
    expect(stored!.n).toBe(quantity);
    expect((await api('GET', `/api/groups/${genGroup.id}`)).body).toMatchObject({ total: quantity, active: quantity });
    await expectAllDelivered(mailing.id, 'tmail', count, mailGroup.id);
    await expectLifecycleInvariants(topology.sql);
    expectNoCrash();
  }, 240_000);

  it('(c) PostgreSQL stopped (fast shutdown) for ten seconds mid-mailing and mid-import: the API answers 503, both finish', async () => {
    dumpLogsOnFailure();
    const count = 3000;
    const mailGroup = await groupWith('Outage mail', codesOf('OMAIL', count));
    const importGroup = await groupWith('Outage import', []);
    const lines = 200_000;
    const imported = await api('POST', `/api/groups/${importGroup.id}/imports`, { text: codesOf('OIMP', lines).join('\n') });
    expect(imported.status, imported.text).toBe(202);
    const job = imported.body;
    slowReceiver();
    const mailing = await startMailing('Outage mail', 'omail', count, 1);
    await eventually(async () => (delivered(mailing.id) >= count * 0.2 && (await jobOf(job.id)).processed > 0) || undefined, 60_000, 50);

    // Without patches/postgres+3.4.9.patch a worker died here, at expectNoCrash: an uncaught
    // TypeError in postgres.js's nextWrite when the server shuts down under a transaction.
    expect(topology.postgres.pid(), 'pid() is the postmaster, parent of every backend').toBe(await postmasterOfBackend());
    await topology.postgres.stop();
    const stoppedAt = Date.now();
    expect(topology.postgres.pid(), 'no pid once stopped').toBeUndefined();
    try {
      // an ordinary request and readiness, on both API processes, while the database is down
      for (const via of [0, 1]) {
        const groups = await api('GET', '/api/groups', { via });
        expect.soft(groups.status, `GET /api/groups on api-${via + 1} while PostgreSQL is down: ${groups.text}`).toBe(503);
        expect.soft(groups.headers.get('retry-after'), 'a 503 says when to retry').toMatch(/^\d+$/);
        const ready = await topology.api('GET', '/readyz', { via, token: null });
        expect.soft(ready.status).toBe(503);
        expect.soft(ready.body).toMatchObject({ database: 'down' });
      }
    } finally {
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, OUTAGE_MS - (Date.now() - stoppedAt))));
      await topology.postgres.start();
    }
    await eventually(async () => (await api('GET', '/readyz', { token: null })).status === 200 || undefined, 30_000);
    expect(topology.postgres.pid(), "the new postmaster's").toBe(await postmasterOfBackend());

    const [done, finished] = await Promise.all([mailingEnded(mailing.id), jobEnded(job.id)]);
    webhook.behave(() => 200);
    expect(done).toMatchObject({ status: 'completed', recipients: count, sent: count, failed: 0, unknown: 0, pending: 0 });
    expect(finished).toMatchObject({ status: 'completed', requested: lines, processed: lines, added: lines });
    expect((await api('GET', `/api/groups/${importGroup.id}`)).body).toMatchObject({ total: lines, active: lines });
    await expectAllDelivered(mailing.id, 'omail', count, mailGroup.id);
    await expectLifecycleInvariants(topology.sql);
    expectNoCrash();
  }, 240_000);

  it(`(d) a receiver that answers 503 for ${RECEIVER_DOWN_MS / 1000} s then recovers: every message delivered once by idempotency key, none lost`, async () => {
    dumpLogsOnFailure();
    // The webhook channel tries a message PROMO_WEBHOOK_ATTEMPTS times, PROMO_WEBHOOK_BACKOFF_MS
    // doubling between tries, then settles it `unknown` for good (API.md: "5xx or no answer is
    // retried a few times and then a failure"; README: a 5xx is `unknown`, code issued). With the
    // defaults (4 tries, 500 ms: 3.5 s) an outage longer than that leaves messages `unknown`.
    // The workers are given retries that span the outage: 8 tries, 500 ms doubling = 63.5 s.
    for (const worker of topology.workers) await worker.restart({ PROMO_WEBHOOK_ATTEMPTS: '8', PROMO_WEBHOOK_BACKOFF_MS: '500' });
    const count = 1000;
    const group = await groupWith('Flaky receiver', codesOf('FLAKY', count));
    let downUntil = 0;
    webhook.behave((message) => (message.mailingId === flakyMailing && Date.now() < downUntil ? 503 : 200));
    let flakyMailing = '';
    downUntil = Date.now() + RECEIVER_DOWN_MS + 5_000; // set again once the first 503 went out
    const mailing = await startMailing('Flaky receiver', 'flaky', count);
    flakyMailing = mailing.id;
    const first503 = await eventually(async () => webhook.received.find((m) => m.mailingId === mailing.id)?.answer !== undefined || undefined, 30_000, 20);
    expect(first503).toBe(true);
    downUntil = Date.now() + RECEIVER_DOWN_MS;

    const done = await mailingEnded(mailing.id);
    const messages = webhook.received.filter((m) => m.mailingId === mailing.id);
    const refused = messages.filter((m) => m.answer === 503).length;
    expect(refused, 'the receiver did refuse messages').toBeGreaterThan(0);
    expect(done).toMatchObject({ status: 'completed', recipients: count, sent: count, failed: 0, unknown: 0, pending: 0 });
    const accepted = new Map<string, number>();
    for (const m of messages.filter((m) => m.answer === 200)) accepted.set(m.idempotencyKey, (accepted.get(m.idempotencyKey) ?? 0) + 1);
    expect([...accepted.values()].filter((n) => n > 1), 'no message accepted twice').toEqual([]);
    await expectAllDelivered(mailing.id, 'flaky', count, group.id);
    await expectLifecycleInvariants(topology.sql);
    for (const worker of topology.workers) await worker.restart({ PROMO_WEBHOOK_ATTEMPTS: '4', PROMO_WEBHOOK_BACKOFF_MS: '500' });
    expectNoCrash();
  }, 240_000);

  it("(d') with the default retries (4 tries, 3.5 s), a receiver down longer leaves messages `unknown`: their codes are theirs, and a follow-up mailing with last_promocode delivers each the same code", async () => {
    dumpLogsOnFailure();
    const count = 300;
    const group = await groupWith('Down receiver', codesOf('DOWN', count));
    let target = '';
    let downUntil = Number.POSITIVE_INFINITY;
    webhook.behave((message) => (message.mailingId === target && Date.now() < downUntil ? 503 : 200));
    const mailing = await startMailing('Down receiver', 'down', count);
    target = mailing.id;
    await eventually(async () => webhook.received.some((m) => m.mailingId === mailing.id && m.answer === 503) || undefined, 30_000, 20);
    downUntil = Date.now() + 6_000;
    const done = await mailingEnded(mailing.id);
    webhook.behave(() => 200);
    const messages = webhook.received.filter((m) => m.mailingId === mailing.id);
    const acceptedKeys = new Set(messages.filter((m) => m.answer === 200).map((m) => m.customerId));
    const neverAccepted = [...new Set(messages.map((m) => m.customerId))].filter((id) => !acceptedKeys.has(id));
    // the contract: a 5xx after the last try is `unknown`, its code issued to the customer, never given to anyone else
    expect(done).toMatchObject({ status: 'completed', recipients: count, failed: 0, pending: 0 });
    expect(done.unknown, 'the outage outlasted the retries of some messages').toBeGreaterThan(0);
    expect(done.sent + done.unknown).toBe(count);
    expect(neverAccepted.length, 'exactly the unknown ones never got through').toBe(done.unknown);
    expect((await api('GET', `/api/groups/${group.id}`)).body).toMatchObject({ blocked: 0, issued: count, active: 0 });
    await expectReceivedCodesIssued(topology.sql, heldCodes(webhook.received, mailing.id));
    const firstCode = new Map(messages.map((m) => [m.customerId, m.body as string]));

    // README "What to do with unknown recipients": send again with last_promocode, which repeats that code
    const again = await api('POST', '/api/mailings', {
      json: {
        name: 'Down receiver, again',
        channel: { type: 'webhook', url: webhook.url },
        template: { body: '{{ client.last_promocode("Down receiver") }}' },
        recipients: neverAccepted.map((customerId) => ({ customerId })),
      },
    });
    expect(again.status, again.text).toBe(202);
    const redone = await mailingEnded(again.body.id);
    expect(redone).toMatchObject({ status: 'completed', recipients: neverAccepted.length, sent: neverAccepted.length, pending: 0 });
    const resent = webhook.received.filter((m) => m.mailingId === again.body.id && m.answer === 200);
    expect(resent.filter((m) => m.body !== firstCode.get(m.customerId)), 'each got the same code again').toEqual([]);
    expect(new Set(resent.map((m) => m.customerId)).size).toBe(neverAccepted.length);
    await expectLifecycleInvariants(topology.sql);
    expectNoCrash();
  }, 120_000);

  it('(e) the API process SIGKILLed during an import upload: no job left half-made', async () => {
    dumpLogsOnFailure();
    const group = await groupWith('Upload', []);
    const victim = topology.apis[0]!;
    const lines = 50_000;
    const body = `${codesOf('UPL', lines).join('\n')}\n`;
    const chunkSize = 16 * 1024;
    let sent = 0;
    let killed = false;
    const stream = new ReadableStream<Uint8Array>({
      async pull(controller) {
        if (sent >= body.length) return controller.close();
        await new Promise((resolve) => setTimeout(resolve, 20));
        controller.enqueue(new TextEncoder().encode(body.slice(sent, sent + chunkSize)));
        sent += chunkSize;
      },
    });
    const upload = fetch(`${victim.baseUrl}/api/groups/${group.id}/imports`, {
      method: 'POST',
      headers: { authorization: `Bearer ${topology.token}`, 'content-type': 'text/plain' },
      body: stream,
      duplex: 'half',
    } as RequestInit).then(
      (response) => ({ status: response.status }),
      (error: unknown) => ({ error: String((error as Error).cause ?? error) }),
    );
    // mid-stream: a third of the file is out, and the upload's transaction (job row, staged lines) is open
    await eventually(async () => {
      const [row] = await topology.sql<{ n: number }[]>`
        select count(*)::int as n from pg_stat_activity where datname = current_database() and xact_start is not null and pid <> pg_backend_pid()
           and (query ilike '%import\_line\_%' or query ilike '%insert into job%')`;
      return (row!.n > 0 && sent > body.length / 3) || undefined;
    }, 30_000, 20);
    expect(sent, 'not yet half-way').toBeLessThan(body.length / 2);
    await victim.kill();
    killed = true;
    const outcome = await upload;
    expect(outcome, 'the upload was cut off').toHaveProperty('error');
    expect(sent, 'killed mid-stream').toBeLessThan(body.length);

    await victim.restart();
    // the upload's transaction died with its connection: no job, no staged line, no code
    expect(await noRunningJobs(), 'no job left running').toEqual([]);
    const [leftovers] = await topology.sql<{ jobs: number; codes: number }[]>`
      select (select count(*)::int from job where group_id = ${group.id}) as jobs,
             (select count(*)::int from promo_code where group_id = ${group.id}) as codes`;
    expect({ ...leftovers, staged: await stagingTables(topology.sql) }).toEqual({ jobs: 0, codes: 0, staged: [] });

    // the same file again, through the restarted API: all of it
    const again = await api('POST', `/api/groups/${group.id}/imports`, { text: body });
    expect(again.status, again.text).toBe(202);
    expect(await jobEnded(again.body.id)).toMatchObject({ status: 'completed', requested: lines, added: lines });
    expect(await noRunningJobs()).toEqual([]);
    await expectLifecycleInvariants(topology.sql);
    expect(killed).toBe(true);
    expectNoCrash();
  }, 120_000);

  it('(f) an API process stopped with SIGTERM (a deploy) while direct issues stream through it: each idempotency key gets one code, the same through either API', async () => {
    dumpLogsOnFailure();
    const keys = 1500;
    const group = await groupWith('Deploy issues', codesOf('DEPLOY', keys + 100));
    const victim = topology.apis[0]!;
    const codeOfKey = new Map<number, string>();
    let retried = 0;
    // a client as a caller would write it: through API 1, and on any failure the same request, same key, through API 2
    const issueWithRetry = async (n: number) => {
      const json = { customerId: `deploy-${n}`, idempotencyKey: `deploy-key-${n}` };
      const first = await api('POST', `/api/groups/${group.id}/issue`, { json, via: 0 }).catch((error: unknown) => ({ status: 0, text: String(error), body: undefined }));
      if (first.status === 200) return first.body.code as string;
      retried += 1;
      const again = await api('POST', `/api/groups/${group.id}/issue`, { json, via: 1 });
      expect(again.status, again.text).toBe(200);
      return again.body.code as string;
    };
    let next = 0;
    const clients = Array.from({ length: 16 }, async () => {
      while (next < keys) {
        const n = next++;
        codeOfKey.set(n, await issueWithRetry(n));
      }
    });
    await eventually(async () => codeOfKey.size >= keys / 4 || undefined, 60_000, 10);
    const stopped = victim.terminate();
    await Promise.all(clients);
    await stopped;
    expect(retried, 'the deploy cut requests off').toBeGreaterThan(0);

    expect(codeOfKey.size).toBe(keys);
    expect(new Set(codeOfKey.values()).size, 'one code per key').toBe(keys);
    // every key again, through the API that stayed: the code it was answered, nothing more issued
    for (let n = 0; n < keys; n += 1) {
      const again = await api('POST', `/api/groups/${group.id}/issue`, { json: { customerId: `deploy-${n}`, idempotencyKey: `deploy-key-${n}` }, via: 1 });
      if (again.body?.code !== codeOfKey.get(n)) expect({ key: n, status: again.status, code: again.body?.code }).toEqual({ key: n, status: 200, code: codeOfKey.get(n) });
    }
    expect((await api('GET', `/api/groups/${group.id}`, { via: 1 })).body).toMatchObject({ total: keys + 100, active: 100, blocked: 0, issued: keys });
    await expectLifecycleInvariants(topology.sql);
    expectNoCrash();
  }, 120_000);
});
