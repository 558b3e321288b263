import type { MailingStatus as Status } from '../../db/mailings.js';

/** A mailing's status as a coloured label (the word itself carries the meaning). */
export const MailingStatus = ({ status }: { status: Status }) => <span class={`status status-${status}`}>{status}</span>;
