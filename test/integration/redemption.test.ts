import { beforeAll, describe, expect, it } from 'vitest';
import { expectLifecycleInvariants } from '../support/invariants.js';
import { groupWithCodes, numberedCodes, testStack, type TestStack } from '../support/stack.js';

let stack: TestStack;
beforeAll(async () => {
  stack = await testStack({ worker: false });
});

const issue = async (groupId: string, customerId: string): Promise<string> => {
  const answer = await stack.api('POST', `/api/groups/${groupId}/issue`, { json: { customerId } });
  expect(answer.status, answer.text).toBe(200);
  return answer.body.code;
};
const redeem = (code: string, json?: Record<string, unknown>) =>
  stack.api('POST', `/api/codes/${encodeURIComponent(code)}/redeem`, json === undefined ? {} : { json });
const counters = async (groupId: string) => {
  const { issued, redeemed, expired, active, total } = (await stack.api('GET', `/api/groups/${groupId}`)).body;
  return { total, active, issued, redeemed, expired };
};

describe('looking up and redeeming codes', () => {
  it('looks a code up, redeems it once, refuses a second redemption naming the first, and rolls it back', async () => {
    const group = await groupWithCodes(stack, 'Redeem', numberedCodes('RDM', 3));
    const code = await issue(group.id, 'buyer-1');
    const issued = await stack.api('GET', `/api/codes/${code}`);
    expect(issued.body).toMatchObject({ code, groupId: group.id, groupName: 'Redeem', status: 'issued', customerId: 'buyer-1' });
    expect(issued.body.redeemedAt).toBeUndefined();

    const redeemed = await redeem(code, { customerId: 'buyer-1', orderId: 'order-7' });
    expect(redeemed.status, redeemed.text).toBe(200);
    expect(redeemed.body).toMatchObject({ code, status: 'redeemed', customerId: 'buyer-1', orderId: 'order-7' });
    expect(Date.parse(redeemed.body.redeemedAt)).toBeGreaterThan(0);
    expect((await stack.api('GET', `/api/codes/${code}`)).body).toEqual(redeemed.body);
    expect(await counters(group.id)).toEqual({ total: 3, active: 2, issued: 0, redeemed: 1, expired: 0 });

    const again = await redeem(code, { orderId: 'order-8' });
    expect(again.status).toBe(409);
    expect(again.body.code).toBe('already_redeemed');
    expect(again.body.detail).toContain(redeemed.body.redeemedAt);
    expect(again.body.detail).toContain('order-7');

    const back = await stack.api('DELETE', `/api/codes/${code}/redemption`);
    expect(back.status, back.text).toBe(200);
    expect(back.body).toMatchObject({ code, status: 'issued', customerId: 'buyer-1' });
    expect(back.body.orderId).toBeUndefined();
    expect(await counters(group.id)).toEqual({ total: 3, active: 2, issued: 1, redeemed: 0, expired: 0 });
    const twice = await stack.api('DELETE', `/api/codes/${code}/redemption`);
    expect([twice.status, twice.body.code]).toEqual([409, 'not_redeemed']);

    // a body is not needed
    expect((await redeem(code)).body.status).toBe('redeemed');
    await expectLifecycleInvariants(stack.sql);
  });

  it('refuses codes that were not issued, have expired, or belong to someone else, changing nothing', async () => {
    const group = await groupWithCodes(stack, 'Refusals', ['REF-ACTIVE', 'REF/SLASH', 'REF-3', 'REF-4']);
    const notIssued = await redeem('REF-ACTIVE');
    expect([notIssued.status, notIssued.body.code]).toEqual([409, 'not_issued']);
    const slash = await stack.api('GET', `/api/codes/${encodeURIComponent('REF/SLASH')}`);
    expect(slash.body).toMatchObject({ code: 'REF/SLASH', status: 'active' });

    const mine = await issue(group.id, 'holder');
    const wrong = await redeem(mine, { customerId: 'someone-else' });
    expect([wrong.status, wrong.body.code]).toEqual([409, 'wrong_customer']);
    expect(wrong.body.detail).not.toContain('holder');

    const old = await issue(group.id, 'late');
    await stack.sql`update promo_code set status = 'expired' where code = ${old}`;
    const expired = await redeem(old);
    expect([expired.status, expired.body.code]).toEqual([409, 'expired']);

    expect(await counters(group.id)).toEqual({ total: 4, active: 2, issued: 1, redeemed: 0, expired: 1 });
    expect((await stack.api('GET', '/api/codes/NO-SUCH-CODE')).status).toBe(404);
    expect((await redeem('NO-SUCH-CODE')).status).toBe(404);
    const unknownField = await redeem(mine, { order: 'x' });
    expect(unknownField.status).toBe(400);
    expect(unknownField.body.detail).toContain('order');
    await expectLifecycleInvariants(stack.sql);
  });

  it('lets one of 50 concurrent redemptions win; the others get already_redeemed, and the winner\'s key gets the winner\'s answer', async () => {
    const group = await groupWithCodes(stack, 'Race', numberedCodes('RACE', 1));
    const code = await issue(group.id, 'racer');
    const answers = await Promise.all(
      Array.from({ length: 50 }, (_, i) => redeem(code, { customerId: 'racer', orderId: `order-${i}`, idempotencyKey: `key-${i}` })),
    );
    const won = answers.filter((answer) => answer.status === 200);
    expect(won).toHaveLength(1);
    const winner = won[0]!.body;
    const lost = answers.filter((answer) => answer.status !== 200);
    expect(lost.map((answer) => [answer.status, answer.body.code])).toEqual(Array.from({ length: 49 }, () => [409, 'already_redeemed']));
    for (const answer of lost) expect(answer.body.detail).toContain(winner.orderId);

    const retried = await redeem(code, { customerId: 'racer', orderId: winner.orderId, idempotencyKey: `key-${winner.orderId.slice('order-'.length)}` });
    expect(retried.status, retried.text).toBe(200);
    expect(retried.body).toEqual(winner);
    expect(await counters(group.id)).toEqual({ total: 1, active: 0, issued: 0, redeemed: 1, expired: 0 });
    await expectLifecycleInvariants(stack.sql);
  });

  it('segments find who got a code and has, or has not, redeemed it, following redemptions and rollbacks', async () => {
    const group = await groupWithCodes(stack, 'Follow-up', numberedCodes('FOLLOW', 3));
    const first = await issue(group.id, 'follow-a');
    await issue(group.id, 'follow-b');
    const segment = async (filter: unknown) => (await stack.api('POST', '/api/segments/query', { json: { filter } })).body.customerIds;
    const unused = { issuedFromGroup: { group: 'Follow-up', redeemed: false } };
    const used = { redeemedCount: { op: 'gte', value: 1, group: 'Follow-up' } };
    expect(await segment(unused)).toEqual(['follow-a', 'follow-b']);
    expect((await redeem(first)).status).toBe(200);
    expect(await segment(unused)).toEqual(['follow-b']);
    expect(await segment(used)).toEqual(['follow-a']);
    expect(await segment({ issuedFromGroup: { group: 'Follow-up', redeemed: true } })).toEqual(['follow-a']);
    expect((await stack.api('DELETE', `/api/codes/${first}/redemption`)).status).toBe(200);
    expect(await segment(unused)).toEqual(['follow-a', 'follow-b']);
    expect(await segment(used)).toEqual([]);
  });
});
