/** The workflow type a campaign system starts to send a mailing. */
export const MAILING_WORKFLOW_TYPE = 'MailingPromoWorkflow';

/** The task queue the service's workers poll unless TEMPORAL_TASK_QUEUE says otherwise. */
export const DEFAULT_TASK_QUEUE = 'promo';

/** The Nexus endpoint `npm run dev` and the production set-up create, unless PROMO_NEXUS_ENDPOINT says otherwise. */
export const DEFAULT_NEXUS_ENDPOINT = 'promo-codes';

/** The workflow id of mailing `id`: one workflow per mailing, whoever starts it. */
export const mailingWorkflowId = (id: string) => `mailing-${id}`;
