import { beforeAll, describe, expect, it } from 'vitest';
import { expectLifecycleInvariants } from '../support/invariants.js';
import { groupWithCodes, mailingEnded, numberedCodes, testStack, type TestStack } from '../support/stack.js';

let stack: TestStack;
beforeAll(async () => {
  stack = await testStack();
});

const FORMAT = "EXP-{string('0-9', 6)}";
const patch = (id: string, json: Record<string, unknown>) => stack.api('PATCH', `/api/groups/${id}`, { json });
const issue = (groupId: string, customerId: string) => stack.api('POST', `/api/groups/${groupId}/issue`, { json: { customerId } });
const past = () => new Date(Date.now() - 60_000).toISOString();

describe("a group's expiry and stock settings", () => {
  it('are set on create and PATCH, read back, and turned off with null; leaving one out keeps it', async () => {
    const settings = { expiresAt: '2030-01-31T23:59:59.000Z', validForDays: 30, lowStockThreshold: 100, autoRefill: { below: 50, upTo: 500 } };
    const created = await stack.api('POST', '/api/groups', { json: { name: 'Settings', format: FORMAT, ...settings } });
    expect(created.status, created.text).toBe(201);
    expect(created.body).toMatchObject({ ...settings, lowStock: true, active: 0 });
    expect((await stack.api('GET', `/api/groups/${created.body.id}`)).body).toEqual(created.body);

    const changed = await patch(created.body.id, { lowStockThreshold: null, expiresAt: '2031-06-01T12:00:00+02:00' });
    expect(changed.status, changed.text).toBe(200);
    expect(changed.body).toMatchObject({ expiresAt: '2031-06-01T10:00:00.000Z', validForDays: 30, lowStockThreshold: null, lowStock: false, autoRefill: settings.autoRefill });

    const off = await patch(created.body.id, { expiresAt: null, validForDays: null, autoRefill: null });
    expect(off.body).toMatchObject({ expiresAt: null, validForDays: null, lowStockThreshold: null, autoRefill: null, lowStock: false });
  });

  it('refuses bad settings with the field named, changing nothing', async () => {
    const plain = await groupWithCodes(stack, 'No format');
    const refusals: [Record<string, unknown>, string, RegExp][] = [
      [{ autoRefill: { below: 10, upTo: 5 } }, 'autoRefill.upTo', /at least `below`/],
      [{ autoRefill: { below: 10 } }, 'autoRefill.upTo', /./],
      [{ autoRefill: { below: 0, upTo: 5 } }, 'autoRefill.below', /./],
      [{ lowStockThreshold: -1 }, 'lowStockThreshold', /./],
      [{ validForDays: 1.5 }, 'validForDays', /./],
      [{ expiresAt: 'tomorrow' }, 'expiresAt', /ISO 8601/],
      [{ expiresAt: '2030-01-01T00:00:00' }, 'expiresAt', /time zone/],
      [{ autoRefill: { below: 10, upTo: 50 } }, 'autoRefill', /needs a format/],
    ];
    for (const [json, path, message] of refusals) {
      const answer = await patch(plain.id, json);
      expect(answer.status, JSON.stringify(json)).toBe(400);
      expect(answer.body.errors, JSON.stringify(json)).toContainEqual({ path, message: expect.stringMatching(message) });
    }
    const refilled = await groupWithCodes(stack, 'Refilled', [], { format: FORMAT, autoRefill: { below: 1, upTo: 2 } });
    const formatRemoved = await patch(refilled.id, { format: null });
    expect(formatRemoved.status).toBe(400);
    expect(formatRemoved.body.errors).toEqual([{ path: 'format', message: 'cannot be removed while autoRefill is set' }]);
    expect((await stack.api('GET', `/api/groups/${plain.id}`)).body).toMatchObject({ expiresAt: null, validForDays: null, lowStockThreshold: null, autoRefill: null });
    expect((await stack.api('GET', `/api/groups/${refilled.id}`)).body).toMatchObject({ format: FORMAT, autoRefill: { below: 1, upTo: 2 } });
  });

  it('lists the groups below their threshold with ?lowStock=true, a page at a time', async () => {
    const low = [];
    for (const name of ['Low A', 'Low B', 'Low C']) low.push(await groupWithCodes(stack, name, numberedCodes(name.replace(' ', ''), 2), { lowStockThreshold: 3 }));
    await groupWithCodes(stack, 'Plenty', numberedCodes('PLENTY', 5), { lowStockThreshold: 3 });
    await groupWithCodes(stack, 'No threshold', []);
    const first = await stack.api('GET', '/api/groups?lowStock=true&limit=2');
    const second = await stack.api('GET', `/api/groups?lowStock=true&limit=2&cursor=${first.body.nextCursor}`);
    const listed = [...first.body.items, ...second.body.items].filter((g: { name: string }) => g.name.startsWith('Low') || g.name === 'Plenty');
    expect(listed.map((g: { name: string }) => g.name)).toEqual(['Low A', 'Low B', 'Low C']);
    expect(listed.every((g: { lowStock: boolean; active: number }) => g.lowStock && g.active === 2)).toBe(true);
    expect(second.body.nextCursor).toBeNull();
    expect((await stack.api('GET', '/api/groups?lowStock=maybe')).status).toBe(400);
  });
});

describe('an expired group', () => {
  it('refuses an issue, a reissue and a mailing before anything is blocked, and a redemption of its codes', async () => {
    const group = await groupWithCodes(stack, 'Expired', numberedCodes('GONE', 4));
    const issued = await issue(group.id, 'early-bird');
    expect(issued.status).toBe(200);
    expect((await patch(group.id, { expiresAt: past() })).status).toBe(200);

    for (const path of ['issue', 'reissue']) {
      const refused = await stack.api('POST', `/api/groups/${group.id}/${path}`, { json: { customerId: 'late' } });
      expect(refused.status, path).toBe(409);
      expect(refused.body).toMatchObject({ code: 'group_expired', detail: expect.stringContaining('"Expired" has expired') });
    }
    const mailing = await stack.api('POST', '/api/mailings', {
      json: { name: 'Too late', template: { body: "{{client.promocode('Expired')}}" }, channel: { type: 'log' }, recipients: [{ customerId: 'late-1' }] },
    });
    expect(mailing.status, mailing.text).toBe(202);
    const ended = await mailingEnded(stack, mailing.body.id);
    expect(ended).toMatchObject({ status: 'failed', error: { code: 'group_expired' } });
    expect((await stack.api('GET', `/api/groups/${group.id}`)).body).toMatchObject({ active: 3, blocked: 0, issued: 1 });

    const redeemed = await stack.api('POST', `/api/codes/${issued.body.code}/redeem`);
    expect(redeemed.status).toBe(409);
    expect(redeemed.body.code).toBe('expired');
    expect((await stack.api('GET', `/api/codes/${issued.body.code}`)).body).toMatchObject({ status: 'issued', expiresAt: expect.any(String) });
    await expectLifecycleInvariants(stack.sql);
  });

  it("refuses to redeem a code past its group's validForDays, even before housekeeping has expired it", async () => {
    const group = await groupWithCodes(stack, 'Thirty days', numberedCodes('VALID', 2), { validForDays: 30 });
    const fresh = (await issue(group.id, 'holder-1')).body.code;
    const old = (await issue(group.id, 'holder-2')).body.code;
    // time passes for one of them: issued 31 days ago
    await stack.sql`update promo_code set issued_at = issued_at - interval '31 days' where code = ${old}`;
    const info = (await stack.api('GET', `/api/codes/${fresh}`)).body;
    expect(Date.parse(info.expiresAt) - Date.parse(info.issuedAt)).toBe(30 * 24 * 3600 * 1000);
    expect((await stack.api('POST', `/api/codes/${old}/redeem`)).body.code).toBe('expired');
    expect((await stack.api('POST', `/api/codes/${fresh}/redeem`)).status).toBe(200);
  });
});
