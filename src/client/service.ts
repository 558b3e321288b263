import * as nexus from 'nexus-rpc';
import type { IdentifiedMailingRequest, IssueCodeInput, IssuedCode, Mailing, ReissueCodeInput, ReissuedCode } from './types.js';

/**
 * The Nexus service `promo-codes`. `issueCode` and `reissueCode` answer at once; `startMailing`
 * ends with the mailing (cancelling it cancels the mailing). An unknown group, or a group with no
 * active code left, fails the operation without retries, its message saying which.
 */
export const promoCodesService = nexus.service('promo-codes', {
  issueCode: nexus.operation<IssueCodeInput, IssuedCode>(),
  reissueCode: nexus.operation<ReissueCodeInput, ReissuedCode>(),
  startMailing: nexus.operation<IdentifiedMailingRequest, Mailing>(),
});

export type PromoCodesService = typeof promoCodesService;
