import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectLifecycleInvariants } from '../support/invariants.js';
import { startSmtpReceiver } from '../support/smtp-receiver.js';
import { eventually, groupWithCodes, mailingEnded, numberedCodes, testStack, type TestStack } from '../support/stack.js';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.js';

let stack: TestStack;
let webhook: WebhookReceiver;
let smtp: Awaited<ReturnType<typeof startSmtpReceiver>>;
beforeAll(async () => {
  smtp = await startSmtpReceiver();
  stack = await testStack({ env: { PROMO_MAILING_BATCH_SIZE: '7', PROMO_MAILING_PARALLELISM: '3', SMTP_URL: smtp.url } });
  webhook = await startWebhookReceiver();
});

const recipients = (prefix: string, n: number, extra: (i: number) => Record<string, unknown> = () => ({})) =>
  Array.from({ length: n }, (_, i) => ({ customerId: `${prefix}-${i}`, attributes: { first_name: `Name${i}` }, ...extra(i) }));

async function startMailing(body: Record<string, unknown>) {
  const answer = await stack.api('POST', '/api/mailings', { json: { channel: { type: 'log' }, name: 'Test mailing', ...body } });
  expect(answer.status, answer.text).toBe(202);
  return answer.body as { id: string; workflowId: string };
}

const ended = (mailingId: string) => mailingEnded(stack, mailingId);

async function allRecipients(mailingId: string) {
  const items: any[] = [];
  let cursor: string | null = null;
  do {
    const page: any = (await stack.api('GET', `/api/mailings/${mailingId}/recipients?limit=1000${cursor ? `&cursor=${cursor}` : ''}`)).body;
    items.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor);
  return items;
}

async function loggedMessages(mailingId: string) {
  const text = await readFile(path.join(stack.config.dataDir, 'messages.ndjson'), 'utf8');
  return text.trim().split('\n').map((line) => JSON.parse(line)).filter((m) => m.mailingId === mailingId);
}

describe('a mailing on the log channel', () => {
  it('blocks, sends, issues one code per recipient, records history, and repeats the last code later', async () => {
    const group = await groupWithCodes(stack, 'Spring', numberedCodes('SPRING', 30));
    const first = await startMailing({
      name: 'Spring launch',
      template: { subject: 'Hi {{ client.first_name }}', body: 'Code {{ client.promocode("Spring") }} / again {{ client.promocode(" spring ") }} / last {{ client.last_promocode("Spring") }}.' },
      recipients: [...recipients('spring', 20), { customerId: 'spring-0', attributes: { first_name: 'Dup' } }],
    });
    expect(first.workflowId).toBe(`mailing-${first.id}`);
    const done = await ended(first.id);
    expect(done).toMatchObject({ status: 'completed', recipients: 20, sent: 20, failed: 0, pending: 0, codes: [{ group: 'Spring', reserved: 20, issued: 20, released: 0 }] });
    expect(done.finishedAt).not.toBeNull();

    const messages = await loggedMessages(first.id);
    expect(messages).toHaveLength(20);
    const byCustomer = new Map(messages.map((m) => [m.customerId, m]));
    expect(byCustomer.get('spring-3')).toMatchObject({ subject: 'Hi Name3', idempotencyKey: `${first.id}:spring-3` });
    const codeOf = (customerId: string) => /Code (\S+) /.exec(byCustomer.get(customerId).body)![1]!;
    expect(byCustomer.get('spring-3').body).toBe(`Code ${codeOf('spring-3')} / again ${codeOf('spring-3')} / last .`);
    expect(new Set(messages.map((m) => codeOf(m.customerId))).size).toBe(20);

    const listed = await allRecipients(first.id);
    expect(listed.find((r) => r.customerId === 'spring-3')).toEqual({ customerId: 'spring-3', status: 'sent', codes: [{ group: 'Spring', code: codeOf('spring-3'), kind: 'initial' }] });
    const history = (await stack.api('GET', '/api/customers/spring-3/promocodes')).body.items;
    expect(history).toEqual([{ code: codeOf('spring-3'), groupId: group.id, groupName: 'Spring', kind: 'initial', mailingId: first.id, issuedAt: expect.any(String) }]);
    expect((await stack.api('GET', `/api/groups/${group.id}`)).body).toMatchObject({ total: 30, active: 10, blocked: 0, issued: 20 });

    const second = await startMailing({
      template: { body: 'Your code again: {{ client.last_promocode("Spring") }}' },
      recipients: [{ customerId: 'spring-3' }, { customerId: 'never-got-one' }],
    });
    expect(await ended(second.id)).toMatchObject({ status: 'completed', sent: 2, codes: [] });
    const again = new Map((await loggedMessages(second.id)).map((m) => [m.customerId, m.body]));
    expect(again.get('spring-3')).toBe(`Your code again: ${codeOf('spring-3')}`);
    expect(again.get('never-got-one')).toBe('Your code again: ');
    const repeated = (await stack.api('GET', '/api/customers/spring-3/promocodes')).body.items;
    expect(repeated.map((i: { kind: string; code: string }) => [i.kind, i.code])).toEqual([
      ['repeat', codeOf('spring-3')],
      ['initial', codeOf('spring-3')],
    ]);
    expect((await stack.api('GET', `/api/groups/${group.id}`)).body.issued).toBe(20);
    await expectLifecycleInvariants(stack.sql);
  });

  it('releases reserved codes a message did not use (a branch that did not render)', async () => {
    await groupWithCodes(stack, 'Branchy', numberedCodes('BRANCHY', 10));
    const mailing = await startMailing({
      template: { body: '{% if client.vip %}VIP code {{ client.promocode("Branchy") }}{% else %}Hello{% endif %}' },
      recipients: recipients('branch', 6, (i) => ({ attributes: { vip: i % 2 === 0 } })),
    });
    expect(await ended(mailing.id)).toMatchObject({ status: 'completed', sent: 6, codes: [{ group: 'Branchy', reserved: 6, issued: 3, released: 3 }] });
    await expectLifecycleInvariants(stack.sql);
  });

  it('fails with unknown_group, sending nothing and blocking nothing', async () => {
    const group = await groupWithCodes(stack, 'Known', numberedCodes('KNOWN', 5));
    const mailing = await startMailing({ template: { body: '{{ client.promocode("Known") }} {{ client.last_promocode("Nope") }}' }, recipients: recipients('unknown', 3) });
    const done = await ended(mailing.id);
    expect(done).toMatchObject({ status: 'failed', sent: 0, pending: 3, error: { code: 'unknown_group', detail: expect.stringContaining('"Nope"') } });
    expect((await stack.api('GET', `/api/groups/${group.id}`)).body).toMatchObject({ active: 5, blocked: 0 });
    await expectLifecycleInvariants(stack.sql);
  });

  it('fails with insufficient_codes naming group, needed and available, and blocks nothing', async () => {
    const plenty = await groupWithCodes(stack, 'Plenty', numberedCodes('PLENTY', 10));
    const scarce = await groupWithCodes(stack, 'Scarce', numberedCodes('SCARCE', 2));
    const mailing = await startMailing({ template: { body: '{{ client.promocode("Plenty") }} {{ client.promocode("Scarce") }}' }, recipients: recipients('short', 3) });
    const done = await ended(mailing.id);
    expect(done).toMatchObject({ status: 'failed', sent: 0, codes: [], error: { code: 'insufficient_codes' } });
    expect(done.error.detail).toBe('Group "Scarce" has 2 active codes; the mailing needs 3.');
    for (const group of [plenty, scarce]) expect((await stack.api('GET', `/api/groups/${group.id}`)).body.blocked).toBe(0);
    await expectLifecycleInvariants(stack.sql);
  });

  it('lets exactly one of two concurrent mailings have a group that fits only one', async () => {
    await groupWithCodes(stack, 'Contested', numberedCodes('CONTESTED', 15));
    const template = { body: '{{ client.promocode("Contested") }}' };
    const [a, b] = await Promise.all([
      startMailing({ template, recipients: recipients('race-a', 10) }),
      startMailing({ template, recipients: recipients('race-b', 10) }),
    ]);
    const outcomes = [await ended(a!.id), await ended(b!.id)];
    expect(outcomes.map((m) => m.status).sort()).toEqual(['completed', 'failed']);
    expect(outcomes.find((m) => m.status === 'failed').error.code).toBe('insufficient_codes');
    await expectLifecycleInvariants(stack.sql);
  });

  it('starts once for one id, however often it is posted', async () => {
    await groupWithCodes(stack, 'Idem', numberedCodes('IDEM', 5));
    const body = { id: 'campaign-2026-11-idem', template: { body: '{{ client.promocode("Idem") }}' }, recipients: recipients('idem', 3) };
    const answers = await Promise.all([startMailing(body), startMailing(body), startMailing(body)]);
    expect(new Set(answers.map((m) => m.id))).toEqual(new Set(['campaign-2026-11-idem']));
    expect(await ended('campaign-2026-11-idem')).toMatchObject({ status: 'completed', sent: 3, codes: [{ reserved: 3, issued: 3 }] });
    expect(await startMailing(body)).toMatchObject({ id: 'campaign-2026-11-idem', status: 'completed' });
    expect(await loggedMessages('campaign-2026-11-idem')).toHaveLength(3);
  });
});

describe('drafts fed with NDJSON', () => {
  it('adds recipients line by line, reports bad lines, then starts', async () => {
    await groupWithCodes(stack, 'Drafted', numberedCodes('DRAFTED', 10));
    const draft = await startMailing({ template: { body: 'Hi {{ client.first_name }} {{ client.promocode("Drafted") }}' } });
    expect((await stack.api('GET', `/api/mailings/${draft.id}`)).body).toMatchObject({ status: 'draft', recipients: 0 });
    const ndjson = [
      JSON.stringify({ customerId: 'nd-1', email: 'nd1@example.com', attributes: { first_name: 'Ann' } }),
      '',
      '{not json',
      JSON.stringify({ customerId: 'nd-2' }),
      JSON.stringify({ customerId: 'nd-1' }),
      JSON.stringify({ email: 'no-id@example.com' }),
      JSON.stringify({ customerId: 'nd-3', email: 'not-an-email' }),
    ].join('\n');
    const report = await stack.api('POST', `/api/mailings/${draft.id}/recipients`, { text: ndjson, headers: { 'content-type': 'application/x-ndjson' } });
    expect(report.status, report.text).toBe(200);
    expect(report.body).toMatchObject({ added: 2, duplicates: 1 });
    expect(report.body.invalid.map((i: { line: number }) => i.line)).toEqual([3, 6, 7]);
    expect(report.body.invalid[1].reason).toMatch(/customerId/);
    const more = await stack.api('POST', `/api/mailings/${draft.id}/recipients`, { text: `${JSON.stringify({ customerId: 'nd-2' })}\n${JSON.stringify({ customerId: 'nd-4' })}\n` });
    expect(more.body).toEqual({ added: 1, duplicates: 1, invalid: [] });

    const started = await stack.api('POST', `/api/mailings/${draft.id}/start`);
    expect(started.status).toBe(202);
    expect(await ended(draft.id)).toMatchObject({ status: 'completed', recipients: 3, sent: 3 });
    expect((await stack.api('POST', `/api/mailings/${draft.id}/recipients`, { text: '{"customerId":"late"}' })).status).toBe(409);
    expect((await stack.api('POST', `/api/mailings/${draft.id}/start`)).body.status).toBe('completed');
    const customer = await stack.sql`select attributes from customer where id = 'nd-1'`;
    expect(customer[0]!.attributes).toEqual({ first_name: 'Ann' });
  });

  it('cancels a draft', async () => {
    const draft = await startMailing({ template: { body: 'x' } });
    expect((await stack.api('POST', `/api/mailings/${draft.id}/cancel`)).body.status).toBe('cancelled');
    expect((await stack.api('POST', `/api/mailings/${draft.id}/cancel`)).status).toBe(409);
  });
});

describe('the webhook channel', () => {
  it('issues the codes of delivered messages, releases those of 4xx failures, retries 5xx once per key', async () => {
    const group = await groupWithCodes(stack, 'Hooked', numberedCodes('HOOKED', 20));
    webhook.behave((message, attempt) => {
      if (message.customerId.endsWith('-1') || message.customerId.endsWith('-4')) return 422;
      if (message.customerId.endsWith('-2') && attempt === 1) return 503;
      return 200;
    });
    const mailing = await startMailing({
      channel: { type: 'webhook', url: webhook.url },
      template: { subject: 'S', body: '{{ client.promocode("Hooked") }}' },
      recipients: recipients('hook', 6, (i) => ({ email: `h${i}@example.com` })),
    });
    expect(await ended(mailing.id)).toMatchObject({ status: 'completed', sent: 4, failed: 2, codes: [{ group: 'Hooked', reserved: 6, issued: 4, released: 2 }] });
    const received = webhook.received.filter((m) => m.mailingId === mailing.id);
    expect(received.find((m) => m.customerId === 'hook-0')).toMatchObject({ email: 'h0@example.com', subject: 'S', idempotencyKey: `${mailing.id}:hook-0`, header: `${mailing.id}:hook-0` });
    expect(received.filter((m) => m.customerId === 'hook-2')).toHaveLength(2);
    const failed = (await allRecipients(mailing.id)).filter((r) => r.status === 'failed');
    expect(failed.map((r) => r.customerId).sort()).toEqual(['hook-1', 'hook-4']);
    expect(failed[0]).toMatchObject({ error: expect.stringContaining('422'), codes: [] });
    expect((await stack.api('GET', `/api/groups/${group.id}`)).body).toMatchObject({ active: 16, blocked: 0, issued: 4 });
    await expectLifecycleInvariants(stack.sql);
  });

  it('on cancel stops sending, keeps what was delivered, and releases the rest', async () => {
    const group = await groupWithCodes(stack, 'Slow', numberedCodes('SLOW', 100));
    webhook.behave(async () => {
      await new Promise((resolve) => setTimeout(resolve, 150));
      return 200;
    });
    const mailing = await startMailing({ channel: { type: 'webhook', url: webhook.url }, template: { body: '{{ client.promocode("Slow") }}' }, recipients: recipients('slow', 100) });
    await eventually(async () => (await stack.api('GET', `/api/mailings/${mailing.id}`)).body.sent > 0 || undefined);
    expect((await stack.api('POST', `/api/mailings/${mailing.id}/cancel`)).status).toBe(202);
    const done = await ended(mailing.id);
    expect(done.status).toBe('cancelled');
    expect(done.sent).toBeLessThan(100);
    expect(done.codes[0].issued).toBe(done.sent);
    expect((await stack.api('GET', `/api/groups/${group.id}`)).body).toMatchObject({ blocked: 0, issued: done.sent });
    const delivered = new Set(webhook.received.filter((m) => m.mailingId === mailing.id).map((m) => m.customerId));
    expect(delivered.size).toBe(done.sent);
    await expectLifecycleInvariants(stack.sql);
  });
});

describe('the smtp channel', () => {
  it('mails each recipient with an address through the SMTP server; one without an address fails', async () => {
    await groupWithCodes(stack, 'Mailed', numberedCodes('MAILED', 5));
    const mailing = await startMailing({
      channel: { type: 'smtp', from: 'promo@example.com' },
      template: { subject: 'Your code, {{ client.first_name }}', body: 'Code: {{ client.promocode("Mailed") }}' },
      recipients: [
        { customerId: 'mail-1', email: 'one@example.com', attributes: { first_name: 'One' } },
        { customerId: 'mail-2', email: 'two@example.com', attributes: { first_name: 'Two' } },
        { customerId: 'mail-3' },
      ],
    });
    expect(await ended(mailing.id)).toMatchObject({ status: 'completed', sent: 2, failed: 1, codes: [{ issued: 2, released: 1 }] });
    const one = smtp.mails.find((mail) => mail.to.includes('one@example.com'))!;
    expect(one.raw).toMatch(/Subject: Your code, One/);
    const [issued] = await stack.sql<{ code: string }[]>`select code from promo_code where customer_id = 'mail-1'`;
    expect(one.raw).toContain(`Code: ${issued!.code}`);
    expect(one.raw).toContain(`Idempotency-Key: ${mailing.id}:mail-1`);
    const failed = (await allRecipients(mailing.id)).find((r) => r.customerId === 'mail-3');
    expect(failed).toMatchObject({ status: 'failed', error: expect.stringMatching(/no e-mail address/) });
  });
});

describe('templates', () => {
  it('refuses a broken template with its line and column, recording nothing', async () => {
    const answer = await stack.api('POST', '/api/mailings', { json: { name: 'Broken', channel: { type: 'log' }, template: { body: 'line one\nline two\n{{ client.promocode(client.group) }}' }, recipients: [{ customerId: 'x' }] } });
    expect(answer.status).toBe(400);
    expect(answer.body.errors[0]).toMatchObject({ path: 'template.body', message: expect.stringMatching(/^line 3, column \d+/) });
    const check = await stack.api('POST', '/api/templates/check', { json: { template: { subject: '{{ client.promocode("A") }}', body: '{{ client.last_promocode("B") }} {{ client.promocode("a") }}' } } });
    expect(check.body).toEqual({ valid: true, groups: { initial: ['A'], repeat: ['B'] } });
    const bad = await stack.api('POST', '/api/templates/check', { json: { template: { body: 'ok\n{% if %}' } } });
    expect(bad.body).toMatchObject({ valid: false, error: { field: 'body', line: 2 } });
  });

  it('refuses bad channels and recipients with the field named', async () => {
    const post = (json: unknown) => stack.api('POST', '/api/mailings', { json });
    const base = { name: 'Bad', channel: { type: 'log' }, template: { body: 'x' } };
    expect((await post({ ...base, channel: { type: 'webhook', url: 'ftp://x' } })).body.errors[0].path).toBe('channel.url');
    expect((await post({ ...base, channel: { type: 'pigeon' } })).status).toBe(400);
    expect((await post({ ...base, recipients: [{ customerId: '' }] })).body.errors[0].path).toBe('recipients.0.customerId');
    expect((await post({ ...base, id: 'has space' })).body.errors[0].path).toBe('id');
    expect((await stack.api('GET', '/api/mailings/nope')).status).toBe(404);
  });
});

describe('the list of mailings', () => {
  it('lists every mailing with its counters, newest first, a page at a time', async () => {
    const ids: string[] = [];
    for (const name of ['List A', 'List B', 'List C']) {
      ids.push((await stack.api('POST', '/api/mailings', { json: { name, channel: { type: 'log' }, template: { body: 'x' } } })).body.id);
    }
    const first = (await stack.api('GET', '/api/mailings?limit=2')).body;
    expect(first.items.map((m: { name: string }) => m.name)).toEqual(['List C', 'List B']);
    expect(first.items[0]).toEqual((await stack.api('GET', `/api/mailings/${ids[2]}`)).body);
    expect((await stack.api('GET', `/api/mailings?limit=2&cursor=${first.nextCursor}`)).body.items[0].name).toBe('List A');

    const seen: { id: string }[] = [];
    let cursor: string | null = null;
    do {
      const page: any = (await stack.api('GET', `/api/mailings?limit=3${cursor ? `&cursor=${cursor}` : ''}`)).body;
      seen.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor);
    const newestFirst = await stack.sql<{ publicId: string }[]>`select public_id from mailing order by id desc`;
    expect(seen.map((m) => m.id)).toEqual(newestFirst.map((m) => m.publicId));
    expect((await stack.api('GET', '/api/mailings?cursor=bad')).status).toBe(400);
  });
});
