import { z } from 'zod';
import type { AppDeps } from '../../../api/router.js';
import { CODE_STATUSES, type UploadReport, listCodes } from '../../../db/codes.js';
import { getGroup, type Group } from '../../../db/groups.js';
import { listJobs } from '../../../db/jobs.js';
import { Field } from '../../components/field.js';
import { COUNTERS } from './counters.js';
import { TextArea } from '../../components/text-area.js';
import { CsrfField } from '../../csrf.js';
import type { FieldErrors, FormValues } from '../../form.js';
import { formatNumber } from '../../format.js';
import { workflowUrl } from '../../temporal-link.js';
import { CodesSection } from './codes.js';
import { FillFields, QuantityField } from './fill-fields.js';
import { FormatCheck, FormatEditor } from './format-editor.js';
import { JobTable } from './jobs.js';
import { LowStockBadge } from './low-stock-badge.js';
import { UploadReportView } from './report.js';
import { ExpiryAndStockFields } from './settings-fields.js';
import { settingValues } from './settings-form.js';
import { SettingsSummary } from './settings-summary.js';
import { Scripts } from '../../components/scripts.js';

/** The newest jobs the page lists. */
const JOBS_SHOWN = 20;

const NOTICES = {
  created: 'The group was created.',
  saved: 'The changes were saved.',
  job: 'The job started; its progress shows under Jobs.',
} as const;
type Notice = keyof typeof NOTICES;

/** /groups/{id}?status=&cursor=&notice=: the codes' filter and page, and what was just done. */
export const GroupQuery = z.object({
  status: z.enum(CODE_STATUSES).optional().catch(undefined),
  cursor: z.string().min(1).optional().catch(undefined),
  notice: z.enum(Object.keys(NOTICES) as [Notice, ...Notice[]]).optional().catch(undefined),
});
export type GroupQuery = z.output<typeof GroupQuery>;

interface FormState {
  values: FormValues;
  errors: FieldErrors;
}

/** What a POST to the page adds to it: a form sent back with its errors, or a paste's report. */
export interface GroupPageState {
  settings?: FormState;
  fill?: FormState;
  report?: UploadReport;
}

/** The group page's data: the group, its newest jobs and the asked-for page of its codes. */
export async function loadGroupPage(deps: AppDeps, id: string, query: GroupQuery) {
  const group = await getGroup(deps.sql, id);
  const [jobs, codes] = await Promise.all([
    listJobs(deps.sql, { groupId: group.id, limit: JOBS_SHOWN }),
    listCodes(deps.sql, group.id, { status: query.status, cursor: query.cursor }),
  ]);
  return { group, jobs: jobs.items, codes, workflowUrlOf: (workflowId: string) => workflowUrl(deps, workflowId) };
}
type GroupPageData = Awaited<ReturnType<typeof loadGroupPage>>;

export function GroupPage({ data, query, state = {} }: { data: GroupPageData; query: GroupQuery; state?: GroupPageState }) {
  const { group } = data;
  return (
    <>
      {group.lowStock && (
        <p class="page-badges">
          <LowStockBadge group={group} />
        </p>
      )}
      <p class="back">
        <a href="/groups">← All groups</a>
      </p>
      {query.notice && (
        <p class="notice" role="status">
          {NOTICES[query.notice]}
        </p>
      )}
      <Counters group={group} />
      <SettingsSummary group={group} />
      <section aria-labelledby="jobs-title">
        <h2 id="jobs-title">Jobs</h2>
        <JobTable jobs={data.jobs} workflowUrlOf={data.workflowUrlOf} />
      </section>
      <div class="group-forms">
        <section aria-labelledby="settings-title">
          <h2 id="settings-title">Settings</h2>
          <SettingsForm group={group} state={state.settings} />
        </section>
        <section aria-labelledby="add-title">
          <h2 id="add-title">Add promo codes</h2>
          {state.report && <UploadReportView report={state.report} />}
          <AddCodesForm group={group} state={state.fill} />
        </section>
      </div>
      <CodesSection group={group} codes={data.codes} status={query.status} cursor={query.cursor} />
      <p class="danger-zone">
        <a href={`/groups/${group.id}/delete`}>Delete this group…</a>
      </p>
      <Scripts names={['format-builder', 'format-check', 'group-import', 'job-progress']} />
    </>
  );
}

/** The counters; job-progress.js refreshes them while a job runs. */
function Counters({ group }: { group: Group }) {
  return (
    <dl class="stats" data-group-counters={group.id}>
      {COUNTERS.map(({ key, label }) => (
        <div>
          <dt>{label}</dt>
          <dd data-counter={key}>{formatNumber(group[key])}</dd>
        </div>
      ))}
    </dl>
  );
}

function SettingsForm({ group, state }: { group: Group; state: FormState | undefined }) {
  const values = state?.values ?? { name: group.name, description: group.description, format: group.format ?? '', ...settingValues(group) };
  const errors = state?.errors ?? {};
  return (
    <form method="post" action={`/groups/${group.id}`}>
      <CsrfField />
      <Field name="name" label="Name" value={values.name} error={errors.name} required maxlength={200} autocomplete="off" />
      <TextArea name="description" label="Description" rows={2} value={values.description} error={errors.description} maxlength={2000} />
      <FormatEditor value={values.format} error={errors.format} />
      <p class="hint">The format of later generations; codes made already stay. Leave it empty for none.</p>
      <ExpiryAndStockFields group={group} values={values} errors={errors} />
      <button type="submit">Save</button>
    </form>
  );
}

function AddCodesForm({ group, state }: { group: Group; state: FormState | undefined }) {
  const values = state?.values ?? {};
  const errors = state?.errors ?? {};
  return (
    <form method="post" action={`/groups/${group.id}/codes`} enctype="multipart/form-data" data-import-form={group.id}>
      <CsrfField />
      <FillFields
        values={values}
        errors={errors}
        generate={
          group.format === null ? (
            <p class="field-error">{errors.format ?? 'The group has no format yet: give it one under Settings, then generate.'}</p>
          ) : (
            <>
              <p>
                From the group's format <code>{group.format}</code>.
              </p>
              <QuantityField value={values.quantity} error={errors.quantity} />
              <FormatCheck format={group.format} quantityField="field-quantity" />
            </>
          )
        }
      />
      <button type="submit">Add codes</button>
    </form>
  );
}
