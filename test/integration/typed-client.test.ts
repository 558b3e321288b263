import { beforeAll, describe, expect, it } from 'vitest';
import { mailingWorkflowId, startMailing } from '../../src/client/index.js';
import { expectLifecycleInvariants } from '../support/invariants.js';
import { groupWithCodes, numberedCodes, testStack, type TestStack } from '../support/stack.js';

let stack: TestStack;
beforeAll(async () => {
  stack = await testStack();
});

describe('startMailing of src/client', () => {
  it('starts a mailing with a Temporal client only; its result is the summary the API shows; the same id again is the same mailing', async () => {
    const group = await groupWithCodes(stack, 'Typed', numberedCodes('TYPED', 5));
    const request = {
      id: 'typed-1',
      name: 'Typed client',
      channel: { type: 'log' as const },
      template: { body: 'Code {{ client.promocode("Typed") }}' },
      recipients: [{ customerId: 'typed-a' }, { customerId: 'typed-b' }],
    };
    const handle = await startMailing(stack.temporal, request, { taskQueue: stack.taskQueue });
    expect(handle.workflowId).toBe(mailingWorkflowId('typed-1'));
    const summary = await handle.result();
    expect(summary).toMatchObject({ id: 'typed-1', status: 'completed', recipients: 2, sent: 2 });
    expect((await stack.api('GET', '/api/mailings/typed-1')).body).toEqual(summary);

    const again = await startMailing(stack.temporal, request, { taskQueue: stack.taskQueue });
    expect(await again.result()).toEqual(summary);
    expect((await stack.api('GET', `/api/groups/${group.id}`)).body).toMatchObject({ active: 3, issued: 2 });
    await expectLifecycleInvariants(stack.sql);
  });
});
