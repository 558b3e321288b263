import { beforeAll, describe, expect, it } from 'vitest';
import { issueCodes } from '../../src/db/issuance.js';
import { expectLifecycleInvariants } from '../support/invariants.js';
import { eventually, groupWithCodes, mailingEnded, numberedCodes, testStack, type TestStack } from '../support/stack.js';

let stack: TestStack;
beforeAll(async () => {
  stack = await testStack({ env: { PROMO_MAILING_BATCH_SIZE: '25' } });
});

describe('direct issuance', () => {
  it('issues a new code, answers the same code for the same idempotency key, and 409 when none is left', async () => {
    const group = await groupWithCodes(stack, 'Direct', numberedCodes('Direct', 2));
    const first = await stack.api('POST', `/api/groups/${group.id}/issue`, { json: { customerId: 'direct-1', idempotencyKey: 'order-1' } });
    expect(first.status).toBe(200);
    expect(first.body).toEqual({ code: expect.stringMatching(/^Direct-/), kind: 'initial' });
    const again = await stack.api('POST', `/api/groups/${group.id}/issue`, { json: { customerId: 'direct-1', idempotencyKey: 'order-1' } });
    expect(again.body.code).toBe(first.body.code);
    const other = await stack.api('POST', `/api/groups/${group.id}/issue`, { json: { customerId: 'direct-2' } });
    expect(other.body.code).not.toBe(first.body.code);
    const empty = await stack.api('POST', `/api/groups/${group.id}/issue`, { json: { customerId: 'direct-3' } });
    expect(empty.status).toBe(409);
    expect((await stack.api('POST', `/api/groups/${group.id}/issue`, { json: { customerId: 'direct-9', idempotencyKey: 'order-1' } })).status).toBe(409);
    expect((await stack.api('GET', `/api/groups/${group.id}`)).body).toMatchObject({ total: 2, active: 0, issued: 2 });
    expect((await stack.api('POST', '/api/groups/999999/issue', { json: { customerId: 'x' } })).status).toBe(404);
    expect((await stack.api('POST', `/api/groups/${group.id}/issue`, { json: {} })).body.errors[0].path).toBe('customerId');
  });

  it('issues one code for one idempotency key even when the requests race', async () => {
    const group = await groupWithCodes(stack, 'RacingKey', numberedCodes('RacingKey', 10));
    const answers = await Promise.all(
      Array.from({ length: 8 }, () => stack.api('POST', `/api/groups/${group.id}/issue`, { json: { customerId: 'racer', idempotencyKey: 'checkout-7' } })),
    );
    expect(answers.map((a) => a.status)).toEqual(Array(8).fill(200));
    expect(new Set(answers.map((a) => a.body.code)).size).toBe(1);
    expect((await stack.api('GET', `/api/groups/${group.id}`)).body).toMatchObject({ active: 9, issued: 1 });
    await expectLifecycleInvariants(stack.sql);
  });

  it('issues of one group run side by side, and every read of its counters adds up while they do', async () => {
    const group = await groupWithCodes(stack, 'SideBySide', numberedCodes('SideBySide', 200));
    // one issue held up after it took its group (its history row waits on an uncommitted one with its key) must not hold up the others
    await stack.sql`insert into customer (id) values ('held-customer')`;
    const held = await stack.sql.reserve();
    await held`begin`;
    await held`insert into code_issuance (customer_id, group_id, code_id, kind, idempotency_key) values ('held-customer', ${group.id}, 0, 'initial', 'held-key')`;
    const waiting = stack.api('POST', `/api/groups/${group.id}/issue`, { json: { customerId: 'held-customer', idempotencyKey: 'held-key' } });
    await eventually(async () => (await stack.sql`select 1 from pg_stat_activity where wait_event_type = 'Lock' and query like '%code_issuance%'`).length > 0);

    const reads: { total: number; active: number; blocked: number; issued: number }[] = [];
    let issuing = true;
    const reader = (async () => {
      while (issuing) reads.push((await stack.api('GET', `/api/groups/${group.id}`)).body);
    })();
    const others = Promise.all(
      Array.from({ length: 100 }, (_, n) => stack.api('POST', `/api/groups/${group.id}/issue`, { json: { customerId: `side-${n}` } })),
    );
    const answers = await Promise.race([others, new Promise<'held up'>((resolve) => setTimeout(() => resolve('held up'), 20_000))]);
    issuing = false;
    await held`rollback`;
    held.release();
    await reader;
    expect(answers === 'held up' ? answers : answers.map((answer) => answer.status)).toEqual(Array(100).fill(200));
    expect((await waiting).status).toBe(200);

    expect(reads.length).toBeGreaterThan(0);
    for (const read of reads) expect(read.active + read.blocked + read.issued).toBe(200);
    const issued = reads.map((read) => read.issued);
    expect(issued).toEqual([...issued].sort((a, b) => a - b)); // never goes back
    expect((await stack.api('GET', `/api/groups/${group.id}`)).body).toMatchObject({ total: 200, active: 99, issued: 101 });

    // the held-up batch done, the group's issues are back to one lane: 40 at once take two transactions
    const later = await Promise.all(Array.from({ length: 40 }, (_, n) => stack.api('POST', `/api/groups/${group.id}/issue`, { json: { customerId: `after-${n}` } })));
    expect(later.map((answer) => answer.status)).toEqual(Array(40).fill(200));
    const [transactions] = await stack.sql<{ n: number }[]>`
      select count(distinct xmin::text)::int as n from code_issuance where group_id = ${group.id} and customer_id like 'after-%'`;
    expect(transactions!.n).toBe(2);
    await expectLifecycleInvariants(stack.sql);
  });

  it('shares one transaction among the requests that arrive while a batch runs: one lane per group, not two', async () => {
    const group = await groupWithCodes(stack, 'OneLane', numberedCodes('OneLane', 60));
    const answers = await Promise.all(
      Array.from({ length: 40 }, (_, n) => stack.api('POST', `/api/groups/${group.id}/issue`, { json: { customerId: `lane-${n}` } })),
    );
    expect(answers.map((answer) => answer.status)).toEqual(Array(40).fill(200));
    // the first request alone, as it arrived to no lane; the other 39 waited for that batch and share the next
    const [transactions] = await stack.sql<{ n: number }[]>`select count(distinct xmin::text)::int as n from code_issuance where group_id = ${group.id}`;
    expect(transactions!.n).toBe(2);
    await expectLifecycleInvariants(stack.sql);
  });

  it('answers each request of one shared transaction on its own: new codes, repeated keys, a key of another customer, none left', async () => {
    const group = await groupWithCodes(stack, 'Batched', numberedCodes('Batched', 4));
    const [earlier] = await issueCodes(stack.sql, group.id, [{ customerId: 'batch-d', idempotencyKey: 'key-d' }]);
    const before = earlier && 'code' in earlier ? earlier.code : undefined;
    expect(before).toMatch(/^Batched-/);
    const outcomes = await issueCodes(stack.sql, group.id, [
      { customerId: 'batch-a', idempotencyKey: 'key-a' },
      { customerId: 'batch-b', idempotencyKey: 'key-a' }, // the key of batch-a, earlier in this batch
      { customerId: 'batch-a', idempotencyKey: 'key-a' }, // a true repeat within the batch
      { customerId: 'batch-d', idempotencyKey: 'key-d' }, // a repeat of an earlier issue
      { customerId: 'batch-e', idempotencyKey: 'key-d' }, // that key, another customer
      { customerId: 'batch-c' },
      { customerId: 'batch-c' }, // no key: a second code for the same customer
      { customerId: 'batch-f' }, // one more than the group has left
    ]);
    const codeOf = (i: number) => ('code' in outcomes[i]! ? outcomes[i].code : undefined);
    const refusalOf = (i: number) => ('refused' in outcomes[i]! ? outcomes[i].refused.message : undefined);
    expect(codeOf(0)).toMatch(/^Batched-/);
    expect(refusalOf(1)).toBe('The idempotency key key-a was used for another customer.');
    expect(codeOf(2)).toBe(codeOf(0));
    expect(codeOf(3)).toBe(before);
    expect(refusalOf(4)).toBe('The idempotency key key-d was used for another customer.');
    expect([codeOf(5), codeOf(6)]).toEqual([expect.stringMatching(/^Batched-/), expect.stringMatching(/^Batched-/)]);
    expect(refusalOf(7)).toBe('Group "Batched" has no active code left.');
    expect(new Set([before, codeOf(0), codeOf(5), codeOf(6)]).size).toBe(4);
    // the later requests of a short batch go without: the codes went in request order
    const history = await stack.sql<{ customerId: string; idempotencyKey: string | null }[]>`
      select customer_id, idempotency_key from code_issuance where group_id = ${group.id} order by id`;
    expect(history).toEqual([
      { customerId: 'batch-d', idempotencyKey: 'key-d' },
      { customerId: 'batch-a', idempotencyKey: 'key-a' },
      { customerId: 'batch-c', idempotencyKey: null },
      { customerId: 'batch-c', idempotencyKey: null },
    ]);
    // a key whose first request was refused is held by nobody: its repeats, whoever sends them, get that refusal
    const noneLeft = { refused: expect.objectContaining({ message: 'Group "Batched" has no active code left.' }) };
    expect(await issueCodes(stack.sql, group.id, [{ customerId: 'batch-g', idempotencyKey: 'key-g' }, { customerId: 'batch-h', idempotencyKey: 'key-g' }])).toEqual([noneLeft, noneLeft]);
    await expect(issueCodes(stack.sql, '999999', [{ customerId: 'batch-i' }])).rejects.toThrow('There is no promo code group with id 999999.');
    // a customer is known once they got a code: a refusal or a missing group leaves none behind
    const known = await stack.sql<{ id: string }[]>`select id from customer where id like 'batch-%' order by id`;
    expect(known.map((customer) => customer.id)).toEqual(['batch-a', 'batch-c', 'batch-d']);
    await expectLifecycleInvariants(stack.sql);
  });

  it('issues one code per key and per keyless request when 500 requests arrive at once, many sharing their keys', async () => {
    const group = await groupWithCodes(stack, 'Crowd', numberedCodes('Crowd', 500));
    // 100 keys, each sent 3 times by its customer and once by another; 100 requests without a key
    const requests: { customerId: string; idempotencyKey?: string }[] = [
      ...Array.from({ length: 300 }, (_, i) => ({ customerId: `crowd-${i % 100}`, idempotencyKey: `crowd-key-${i % 100}` })),
      ...Array.from({ length: 100 }, (_, i) => ({ customerId: `crowd-other-${i}`, idempotencyKey: `crowd-key-${i}` })),
      ...Array.from({ length: 100 }, (_, i) => ({ customerId: `crowd-free-${i}` })),
    ].sort(() => Math.random() - 0.5);
    const answers = await Promise.all(requests.map((json) => stack.api('POST', `/api/groups/${group.id}/issue`, { json })));
    const byKey = new Map<string, Set<string>>();
    answers.forEach((answer, i) => {
      const { customerId, idempotencyKey } = requests[i]!;
      if (idempotencyKey === undefined) return expect(answer.status).toBe(200);
      const owner = byKey.get(idempotencyKey) ?? new Set<string>();
      byKey.set(idempotencyKey, owner);
      if (answer.status === 200) owner.add(`${customerId} ${answer.body.code}`);
      else expect(answer.body.detail).toBe(`The idempotency key ${idempotencyKey} was used for another customer.`);
    });
    // every key went to exactly one customer, with one code, whichever of its four requests came first
    for (const owners of byKey.values()) expect(owners.size).toBe(1);
    const codes = answers.filter((answer) => answer.status === 200).map((answer) => answer.body.code);
    expect(new Set(codes).size).toBe(200);
    expect((await stack.api('GET', `/api/groups/${group.id}`)).body).toMatchObject({ total: 500, active: 300, issued: 200 });
    // and they shared transactions: far fewer than one per code
    const [{ transactions }] = await stack.sql<[{ transactions: number }]>`
      select count(distinct xmin::text)::int as transactions from code_issuance where group_id = ${group.id}`;
    expect(transactions).toBeLessThan(20);
    await expectLifecycleInvariants(stack.sql);
  });

  it('fails a reservation that finds a code held by a direct issue, rather than leave a recipient without one', async () => {
    const group = await groupWithCodes(stack, 'Skipped', numberedCodes('Skipped', 5));
    // an issue in flight holds one code: the reservation's skip-locked pick finds only four of the five it needs
    const holder = await stack.sql.reserve();
    await holder`begin`;
    await holder`select id from promo_code where group_id = ${group.id} order by id limit 1 for update`;
    const mailing = (await stack.api('POST', '/api/mailings', {
      json: { name: 'Short', channel: { type: 'log' }, template: { body: '{{ client.promocode("Skipped") }}' }, recipients: Array.from({ length: 5 }, (_, i) => ({ customerId: `skipped-${i}` })) },
    })).body;
    const done = await mailingEnded(stack, mailing.id).finally(async () => {
      await holder`rollback`;
      holder.release();
    });
    expect(done).toMatchObject({ status: 'failed', error: { code: 'insufficient_codes' }, sent: 0 });
    expect((await stack.api('GET', `/api/groups/${group.id}`)).body).toMatchObject({ active: 5, blocked: 0, issued: 0 });
    await expectLifecycleInvariants(stack.sql);
  });

  it('reissues the last code as a repeat, or null when the customer never got one', async () => {
    const group = await groupWithCodes(stack, 'Again', numberedCodes('Again', 3));
    expect((await stack.api('POST', `/api/groups/${group.id}/reissue`, { json: { customerId: 'again-1' } })).body).toEqual({ code: null, kind: 'repeat' });
    const { code } = (await stack.api('POST', `/api/groups/${group.id}/issue`, { json: { customerId: 'again-1' } })).body;
    expect((await stack.api('POST', `/api/groups/${group.id}/reissue`, { json: { customerId: 'again-1' } })).body).toEqual({ code, kind: 'repeat' });
    const history = (await stack.api('GET', '/api/customers/again-1/promocodes')).body.items;
    expect(history.map((h: { kind: string; code: string; groupName: string }) => [h.kind, h.code, h.groupName])).toEqual([
      ['repeat', code, 'Again'],
      ['initial', code, 'Again'],
    ]);
    expect(history[0].mailingId).toBeUndefined();
  });

  it('keeps the invariants while direct issues race a running mailing on one group', async () => {
    const group = await groupWithCodes(stack, 'Raced', numberedCodes('Raced', 300));
    const mailing = (await stack.api('POST', '/api/mailings', {
      json: { name: 'Race', channel: { type: 'log' }, template: { body: '{{ client.promocode("Raced") }}' }, recipients: Array.from({ length: 150 }, (_, i) => ({ customerId: `raced-m-${i}` })) },
    })).body;
    const issues = await Promise.all(
      Array.from({ length: 120 }, (_, i) => stack.api('POST', `/api/groups/${group.id}/issue`, { json: { customerId: `raced-d-${i}` } })),
    );
    const done = await mailingEnded(stack, mailing.id);
    const directCodes = issues.filter((answer) => answer.status === 200).map((answer) => answer.body.code);
    expect(new Set(directCodes).size).toBe(directCodes.length);
    // whichever came first, the mailing either had all its codes or none, and nothing was lost
    const group_ = (await stack.api('GET', `/api/groups/${group.id}`)).body;
    expect(group_.issued).toBe(directCodes.length + (done.status === 'completed' ? 150 : 0));
    expect(group_.blocked).toBe(0);
    await expectLifecycleInvariants(stack.sql);
  });
});

describe('customers', () => {
  it('upserts attributes, reads them back, and 404s an unknown customer', async () => {
    const put = await stack.api('PUT', '/api/customers/cust-a', { json: { attributes: { first_name: 'A', tier: 'gold' } } });
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({ id: 'cust-a', attributes: { first_name: 'A', tier: 'gold' } });
    const replaced = await stack.api('PUT', '/api/customers/cust-a', { json: { attributes: { tier: 'silver' } } });
    expect(replaced.body.attributes).toEqual({ tier: 'silver' });
    expect((await stack.api('GET', '/api/customers/cust-a/promocodes')).body).toEqual({ items: [], nextCursor: null });
    expect((await stack.api('GET', '/api/customers/nobody/promocodes')).status).toBe(404);
    expect((await stack.api('GET', '/api/customers/cust-a')).body).toEqual(replaced.body);
    expect((await stack.api('GET', '/api/customers/nobody')).status).toBe(404);
    expect((await stack.api('PUT', '/api/customers/cust-a', { json: { attributes: 'x' } })).status).toBe(400);
  });
});
