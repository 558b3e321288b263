import { customerId } from '../../api/routes/customers.js';
import type { Child } from 'hono/jsx';
import type { AppDeps } from '../../api/router.js';
import { type Customer, customerPromocodes, getCustomer, type IssuedCode } from '../../db/customers.js';
import { NotFoundError } from '../../domain/errors.js';
import { Field } from '../components/field.js';
import { Pager } from '../components/pager.js';
import { Time } from '../components/time.js';
import { pageRouter } from '../router.js';
import { DataTable } from '../components/data-table.js';

/** /customers: find a customer by id; /customers/{id}: their attributes and every promo code issued to them. */
export function customerPages(deps: AppDeps) {
  const app = pageRouter(deps);

  app.get('/', (c) => {
    const given = c.req.query('id');
    if (given === undefined) return c.render(<CustomerSearch />, { title: 'Customers', active: 'customers' });
    const id = customerId.safeParse(given);
    if (id.success) return c.redirect(`/customers/${encodeURIComponent(id.data)}`, 302);
    c.status(400);
    return c.render(<CustomerSearch value={given} error={id.error.issues[0]?.message} />, { title: 'Customers', active: 'customers' });
  });

  app.get('/:id', async (c) => {
    const id = c.req.param('id');
    try {
      const tab = c.req.query('tab') === PROMO_CODES_TAB ? PROMO_CODES_TAB : undefined;
      const customer = await getCustomer(deps.sql, id);
      const cursor = tab ? c.req.query('cursor') : undefined;
      const content = tab ? await promoCodesTab(deps, customer.id, cursor) : <AttributeTable attributes={customer.attributes} />;
      return c.render(<CustomerProfile customer={customer} tab={tab}>{content}</CustomerProfile>, { title: `Customer ${customer.id}`, active: 'customers' });
    } catch (error) {
      if (!(error instanceof NotFoundError)) throw error;
      c.status(404);
      return c.render(<CustomerSearch value={id} error={`No customer has the id “${id}”.`} />, { title: 'No such customer', active: 'customers' });
    }
  });

  return app;
}

function CustomerSearch({ value, error }: { value?: string; error?: string | undefined }) {
  return (
    <form method="get" action="/customers" role="search" class="inline-form">
      <Field name="id" label="Customer id" value={value} error={error} required autocomplete="off" />
      <button type="submit">Open profile</button>
    </form>
  );
}

const PROMO_CODES_TAB = 'promo-codes';

/** The profile's tabs are links (each a page of its own), so they work without scripts. */
function CustomerProfile({ customer, tab, children }: { customer: Customer; tab: typeof PROMO_CODES_TAB | undefined; children: Child }) {
  const profile = `/customers/${encodeURIComponent(customer.id)}`;
  const tabs = [
    { href: profile, label: 'Attributes', current: tab === undefined },
    { href: `${profile}?tab=${PROMO_CODES_TAB}`, label: 'Promo Codes', current: tab === PROMO_CODES_TAB },
  ];
  return (
    <>
      <p class="meta">
        Known since <Time iso={customer.createdAt} /> · attributes updated <Time iso={customer.updatedAt} />
      </p>
      <nav class="tabs" aria-label="Customer profile">
        {tabs.map(({ href, label, current }) => (
          <a href={href} aria-current={current ? 'page' : undefined}>
            {label}
          </a>
        ))}
      </nav>
      <section class="tab-panel" aria-label={tab ? 'Promo Codes' : 'Attributes'}>
        {children}
      </section>
    </>
  );
}

function AttributeTable({ attributes }: { attributes: Customer['attributes'] }) {
  // jsonb keeps keys in its own order (shortest first); people look them up alphabetically
  const entries = Object.entries(attributes).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  if (entries.length === 0) return <p>No attributes.</p>;
  return (
    <DataTable columns={['Attribute', 'Value']}>
      {entries.map(([key, value]) => (
        <tr>
          <th scope="row">{key}</th>
          <td class="value">{typeof value === 'string' ? value : JSON.stringify(value)}</td>
        </tr>
      ))}
    </DataTable>
  );
}

/** The Promo Codes tab: a page of the customer's history, newest first, with links to the next pages. */
async function promoCodesTab(deps: AppDeps, id: string, cursor: string | undefined) {
  const page = await customerPromocodes(deps.sql, id, { cursor });
  const path = `/customers/${encodeURIComponent(id)}?tab=${PROMO_CODES_TAB}`;
  return (
    <>
      <IssuedCodeTable codes={page.items} />
      <Pager path={path} cursor={cursor} nextCursor={page.nextCursor} label="Pages of promo codes" />
    </>
  );
}

function IssuedCodeTable({ codes }: { codes: IssuedCode[] }) {
  if (codes.length === 0) return <p>No promo codes issued yet.</p>;
  return (
    <DataTable columns={['Code', 'Group', 'Issuance', 'Mailing', 'Issued', 'Redeemed']}>
      {codes.map((code) => (
        <tr>
          <td>
            <code>{code.code}</code>
          </td>
          <td>
            <a href={`/groups/${encodeURIComponent(code.groupId)}`}>{code.groupName}</a>
          </td>
          <td>{code.kind === 'initial' ? 'Initial' : 'Repeat'}</td>
          <td>{code.mailingId === undefined ? '—' : <a href={`/mailings/${encodeURIComponent(code.mailingId)}`}>{code.mailingId}</a>}</td>
          <td>
            <Time iso={code.issuedAt} />
          </td>
          <td>{code.redeemedAt === undefined ? '—' : <Time iso={code.redeemedAt} />}</td>
        </tr>
      ))}
    </DataTable>
  );
}
