import { beforeAll, describe, expect, it } from 'vitest';
import { welcomeCampaign } from '../../examples/campaign/campaign.js';
import type { CampaignResult } from '../../examples/campaign/workflows.js';
import { expectLifecycleInvariants } from '../support/invariants.js';
import { campaignSide, type CampaignSide } from '../support/nexus.js';
import { groupWithCodes, numberedCodes, testStack, type TestStack } from '../support/stack.js';

// examples/campaign against the real dev server: the welcome campaign from the namespace
// `campaigns` through Nexus, and from the service's namespace with a child MailingPromoWorkflow.

let stack: TestStack;
let side: CampaignSide;
let group: { id: string };
beforeAll(async () => {
  stack = await testStack();
  side = await campaignSide(stack);
  group = await groupWithCodes(stack, 'Welcome', numberedCodes('WELCOME', 10));
  for (const customerId of ['early-1', 'early-2']) {
    expect((await stack.api('POST', `/api/groups/${group.id}/issue`, { json: { customerId } })).status).toBe(200);
  }
});

async function recipientsOf(mailingId: string) {
  const page = (await stack.api('GET', `/api/mailings/${mailingId}/recipients?limit=100`)).body;
  return page.items.map((item: { customerId: string; status: string; codes: { code: string; kind: string }[] }) => ({ customerId: item.customerId, status: item.status, codes: item.codes.map((code) => code.kind) }));
}

describe('the example welcome campaign', () => {
  it('from `campaigns` through Nexus: issues the welcome code, then mails the segment of everyone holding one', async () => {
    const campaign = welcomeCampaign({ group: 'Welcome', customerId: 'new-1', mailingId: 'example-nexus-1', endpoint: side.endpoint });
    const result: CampaignResult = await side.campaigns.workflow.execute('WelcomeCampaignWorkflow', { taskQueue: side.taskQueue, workflowId: 'welcome-campaign-nexus-1', args: [campaign] });
    expect(result.welcomeCode).toMatch(/^WELCOME-/);
    expect(result.mailing).toMatchObject({ id: 'example-nexus-1', status: 'completed', recipients: 3, sent: 3, audience: { segment: { issuedFromGroup: { group: 'Welcome' } } } });
    expect((await stack.api('GET', '/api/mailings/example-nexus-1')).body).toEqual(result.mailing);
    expect(await recipientsOf('example-nexus-1')).toEqual(['early-1', 'early-2', 'new-1'].map((customerId) => ({ customerId, status: 'sent', codes: ['repeat'] })));
    await expectLifecycleInvariants(stack.sql);
  });

  it('from the service namespace: the same with the mailing as a child MailingPromoWorkflow', async () => {
    const campaign = welcomeCampaign({ group: 'Welcome', customerId: 'new-2', mailingId: 'example-child-1', endpoint: side.endpoint, taskQueue: stack.taskQueue });
    const result: CampaignResult = await stack.temporal.workflow.execute('WelcomeCampaignChildWorkflow', { taskQueue: side.taskQueue, workflowId: 'welcome-campaign-child-1', args: [campaign] });
    expect(result.mailing).toMatchObject({ id: 'example-child-1', status: 'completed', recipients: 4, sent: 4, workflowId: 'mailing-example-child-1' });
    expect((await stack.api('GET', '/api/mailings/example-child-1')).body).toEqual(result.mailing);
    expect((await recipientsOf('example-child-1')).map((r: { customerId: string }) => r.customerId)).toEqual(['early-1', 'early-2', 'new-1', 'new-2']);
    expect((await stack.api('GET', `/api/groups/${group.id}`)).body).toMatchObject({ active: 6, blocked: 0, issued: 4 });
    await expectLifecycleInvariants(stack.sql);
  });
});
