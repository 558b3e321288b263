import type { Context } from 'hono';
import { codesCsv } from '../../api/codes-csv.js';
import type { AppDeps } from '../../api/router.js';
import { UpdateGroupBody } from '../../api/schemas/groups.js';
import { createGroup, deleteGroup, getGroup, type Group, listGroups, updateGroup } from '../../db/groups.js';
import { ConflictError, ValidationError } from '../../domain/errors.js';
import { requireValidFormat } from '../../domain/format-field.js';
import { type FieldErrors, fieldErrorsOf, type FormValues, readForm } from '../form.js';
import { pageRouter } from '../router.js';
import { CreateGroupForm, GroupFields, NewGroupForm } from './groups/create.js';
import { DeletePage } from './groups/delete.js';
import { checkFill, FillForm, runFill } from './groups/fill.js';
import { GroupPage, type GroupPageState, GroupQuery, loadGroupPage } from './groups/group.js';
import { withQuery } from './groups/href.js';
import { GroupListPage, ListQuery } from './groups/list.js';
import { ExpiryAndStockForm } from './groups/settings-form.js';
import { Scripts } from '../components/scripts.js';

const SettingsFields = GroupFields.extend({ format: UpdateGroupBody.shape.format }).and(ExpiryAndStockForm);

/** /groups: the promo code groups, creating one, a group's page (settings, adding codes, jobs, codes), deleting. */
export function groupPages(deps: AppDeps) {
  const { sql } = deps;
  const app = pageRouter(deps);
  const page = { active: 'groups' } as const;

  const renderGroup = async (c: Context, id: string, query: GroupQuery, state?: GroupPageState) => {
    const data = await loadGroupPage(deps, id, query);
    return c.render(<GroupPage data={data} query={query} state={state} />, { title: data.group.name, ...page });
  };
  const renderCreate = (c: Context, state: { values?: FormValues; errors?: FieldErrors }) =>
    c.render(
      <>
        <CreateGroupForm {...state} cancel={<a href="/groups">Cancel</a>} />
        <Scripts names={['format-builder', 'format-check', 'group-import']} />
      </>,
      { title: 'Create new group', ...page },
    );

  app.get('/', async (c) => {
    const query = ListQuery.parse(c.req.query());
    const groups = await listGroups(sql, { cursor: query.cursor, order: query.sort, nameContains: query.q, lowStock: query.lowStock === 'true' });
    return c.render(<GroupListPage page={groups} query={query} />, { title: 'Promo codes', ...page });
  });

  app.get('/new', (c) => renderCreate(c, {}));

  // the fill is checked before the group is created, and a refused first fill removes it: a refusal leaves nothing
  app.post('/new', async (c) => {
    const form = await readForm(c, NewGroupForm);
    const result = form.ok
      ? await attempt(async () => {
          const fill = await checkFill(sql, form.data, null);
          const format = fill.method === 'generate' ? fill.format.source : undefined;
          const group = await createGroup(sql, { name: form.data.name, description: form.data.description, format });
          return { group, outcome: await undoneOnFailure(group, () => runFill(deps, group, fill)) };
        })
      : refused(form.errors);
    if (!result.ok) {
      c.status(result.status);
      return renderCreate(c, { values: form.values, errors: result.errors });
    }
    const { group, outcome } = result.value;
    if ('job' in outcome) return c.redirect(`/groups/${group.id}?notice=created`, 303);
    c.status(201);
    return renderGroup(c, group.id, { notice: 'created' }, { report: outcome.report });
  });

  app.get('/:id', (c) => renderGroup(c, c.req.param('id'), GroupQuery.parse(c.req.query())));

  app.post('/:id', async (c) => {
    const id = c.req.param('id');
    const form = await readForm(c, SettingsFields);
    const result = form.ok
      ? await attempt(() => {
          const { name, description, format, ...settings } = form.data;
          if (format) requireValidFormat(format);
          return updateGroup(sql, id, { name, description, format: format === '' ? null : format, ...settings });
        })
      : refused(form.errors);
    if (result.ok) return c.redirect(`/groups/${id}?notice=saved`, 303);
    c.status(result.status);
    return renderGroup(c, id, {}, { settings: { values: form.values, errors: result.errors } });
  });

  app.post('/:id/codes', async (c) => {
    const group = await getGroup(sql, c.req.param('id'));
    const form = await readForm(c, FillForm);
    const result = form.ok ? await attempt(async () => runFill(deps, group, await checkFill(sql, form.data, group.format))) : refused(form.errors);
    if (!result.ok) {
      c.status(result.status);
      return renderGroup(c, group.id, {}, { fill: { values: form.values, errors: result.errors } });
    }
    if ('job' in result.value) return c.redirect(`/groups/${group.id}?notice=job`, 303);
    return renderGroup(c, group.id, {}, { report: result.value.report });
  });

  app.get('/:id/codes.csv', (c) => codesCsv(c, sql, c.req.param('id'), GroupQuery.parse(c.req.query()).status));

  app.get('/:id/delete', async (c) => {
    const group = await getGroup(sql, c.req.param('id'));
    return c.render(<DeletePage group={group} />, { title: `Delete “${group.name}”`, ...page });
  });

  app.post('/:id/delete', async (c) => {
    const group = await getGroup(sql, c.req.param('id'));
    try {
      await deleteGroup(sql, group.id);
    } catch (error) {
      if (!(error instanceof ConflictError)) throw error;
      c.status(409);
      return c.render(<DeletePage group={group} error={error.message} />, { title: `Delete “${group.name}”`, ...page });
    }
    return c.redirect(withQuery('/groups', { deleted: group.name }), 303);
  });

  /** A group whose first fill fails is deleted again. */
  async function undoneOnFailure<T>(group: Group, fill: () => Promise<T>): Promise<T> {
    try {
      return await fill();
    } catch (error) {
      await deleteGroup(sql, group.id);
      throw error;
    }
  }

  return app;
}

type Attempt<T> = { ok: true; value: T } | { ok: false; status: 400 | 409; errors: FieldErrors };

const refused = (errors: FieldErrors): Attempt<never> => ({ ok: false, status: 400, errors });

/** Runs a change; the refusals a form shows beside its fields (bad input, a name taken) come back as errors, anything else is thrown. */
async function attempt<T>(change: () => Promise<T>): Promise<Attempt<T>> {
  try {
    return { ok: true, value: await change() };
  } catch (error) {
    if (error instanceof ValidationError) return { ok: false, status: 400, errors: fieldErrorsOf(error) };
    if (error instanceof ConflictError) return { ok: false, status: 409, errors: { name: error.message } };
    throw error;
  }
}
