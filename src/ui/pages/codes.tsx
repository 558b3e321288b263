import { z } from 'zod';
import type { AppDeps } from '../../api/router.js';
import { type CodeInfo, lookupCode, redeemCode, rollBackRedemption } from '../../db/redemption.js';
import { ConflictError, NotFoundError } from '../../domain/errors.js';
import { Field } from '../components/field.js';
import { Time } from '../components/time.js';
import { CsrfField } from '../csrf.js';
import { type FormValues, readForm } from '../form.js';
import { pageRouter } from '../router.js';
import { withQuery } from './groups/href.js';

const page = { active: 'codes' } as const;

/** What a support agent may do to a code, each after a confirmation. */
const ACTIONS = {
  redeem: { allowed: 'issued', button: 'Redeem', question: 'Redeem the code', done: 'redeemed' },
  'roll-back': { allowed: 'redeemed', button: 'Take back the redemption', question: 'Take back the redemption of the code', done: 'back to issued' },
} as const;
type Action = keyof typeof ACTIONS;

const ActionForm = z.object({ code: z.string(), orderId: z.string().trim().max(200, 'must be at most 200 characters').optional() });

/**
 * /codes: *Find a code* for support agents. A code's status, group, holder and redemption;
 * redeeming it or taking a redemption back goes through a confirmation page.
 */
export function codePages(deps: AppDeps) {
  const app = pageRouter(deps);
  const { sql } = deps;

  app.get('/', async (c) => {
    const code = c.req.query('code')?.trim();
    const done = c.req.query('done');
    if (!code) return c.render(<CodeSearch />, { title: 'Find a code', ...page });
    try {
      const info = await lookupCode(sql, code);
      return c.render(<CodePage info={info} done={done} />, { title: 'Find a code', ...page });
    } catch (error) {
      if (!(error instanceof NotFoundError)) throw error;
      c.status(404);
      return c.render(<CodeSearch value={code} error={`There is no promo code “${code}”.`} />, { title: 'Find a code', ...page });
    }
  });

  for (const action of Object.keys(ACTIONS) as Action[]) {
    app.get(`/${action}`, async (c) => {
      const info = await lookupCode(sql, c.req.query('code') ?? '');
      return c.render(<Confirmation action={action} info={info} />, { title: `${ACTIONS[action].button}: ${info.code}`, ...page });
    });

    app.post(`/${action}`, async (c) => {
      const form = await readForm(c, ActionForm);
      // the code is the page's own hidden field; a bad order is refused beside its field
      const info = await lookupCode(sql, form.values.code ?? '');
      if (!form.ok) {
        c.status(400);
        return c.render(<Confirmation action={action} info={info} orderError={form.errors.orderId} values={form.values} />, { title: `${ACTIONS[action].button}: ${info.code}`, ...page });
      }
      try {
        if (action === 'redeem') await redeemCode(sql, info.code, { orderId: form.data.orderId || undefined });
        else await rollBackRedemption(sql, info.code);
      } catch (error) {
        if (!(error instanceof ConflictError)) throw error;
        c.status(409);
        return c.render(<Confirmation action={action} info={info} error={error.message} />, { title: `${ACTIONS[action].button}: ${info.code}`, ...page });
      }
      return c.redirect(withQuery('/codes', { code: info.code, done: ACTIONS[action].done }), 303);
    });
  }

  return app;
}

function CodeSearch({ value, error }: { value?: string; error?: string | undefined }) {
  return (
    <form method="get" action="/codes" role="search" class="inline-form">
      <Field name="code" label="Promo code" value={value} error={error} required autocomplete="off" />
      <button type="submit">Find</button>
    </form>
  );
}

function CodePage({ info, done }: { info: CodeInfo; done: string | undefined }) {
  const actions = (Object.keys(ACTIONS) as Action[]).filter((action) => ACTIONS[action].allowed === info.status);
  return (
    <>
      {done && (
        <p class="notice" role="status">
          The code is {done}.
        </p>
      )}
      <CodeSearch value={info.code} />
      <CodeDetails info={info} />
      {actions.map((action) => (
        <p>
          <a class="button" href={withQuery(`/codes/${action}`, { code: info.code })}>
            {ACTIONS[action].button}
          </a>
        </p>
      ))}
    </>
  );
}

function CodeDetails({ info }: { info: CodeInfo }) {
  const rows: [string, unknown][] = [
    ['Code', <code>{info.code}</code>],
    ['Status', info.status],
    ['Group', <a href={`/groups/${encodeURIComponent(info.groupId)}`}>{info.groupName}</a>],
    ['Customer', info.customerId === undefined ? '—' : <a href={`/customers/${encodeURIComponent(info.customerId)}?tab=promo-codes`}>{info.customerId}</a>],
    ['Issued', info.issuedAt === undefined ? '—' : <Time iso={info.issuedAt} />],
    ['Redeemed', info.redeemedAt === undefined ? '—' : <Time iso={info.redeemedAt} />],
    ['Order', info.orderId ?? '—'],
  ];
  return (
    <dl class="details" aria-label="The code">
      {rows.map(([label, value]) => (
        <>
          <dt>{label}</dt>
          <dd>{value}</dd>
        </>
      ))}
    </dl>
  );
}

/** The question before a redemption or its rollback, and the refusal when there was one. */
function Confirmation({ action, info, error, orderError, values }: { action: Action; info: CodeInfo; error?: string | undefined; orderError?: string | undefined; values?: FormValues }) {
  const { question, button } = ACTIONS[action];
  return (
    <>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      <p>
        {question} <code>{info.code}</code>
        {info.customerId === undefined ? '' : ` of customer ${info.customerId}`}?
      </p>
      <CodeDetails info={info} />
      <form method="post" action={`/codes/${action}`} class="actions">
        <CsrfField />
        <input type="hidden" name="code" value={info.code} />
        {action === 'redeem' && <Field name="orderId" label="Order (optional)" value={values?.orderId} error={orderError} autocomplete="off" />}
        <button type="submit" class="danger">
          {button}
        </button>
        <a href={withQuery('/codes', { code: info.code })}>Cancel</a>
      </form>
    </>
  );
}
