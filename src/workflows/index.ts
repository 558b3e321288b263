export { GenerateCodesWorkflow } from './generate-codes.js';
export { ImportCodesWorkflow } from './import-codes.js';
export { MailingPromoWorkflow } from './mailing-promo.js';
export { HousekeepingWorkflow } from './housekeeping.js';
