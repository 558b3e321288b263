import type { WelcomeCampaign } from './workflows.js';

/**
 * A welcome campaign: `customerId` gets a code of `group`, then everyone who ever got one of
 * that group is reminded of theirs by a mailing on the log channel (the dev message log).
 */
export function welcomeCampaign(options: { group: string; customerId: string; mailingId: string; endpoint?: string; taskQueue?: string }): WelcomeCampaign {
  const { group, customerId, mailingId, endpoint, taskQueue } = options;
  return {
    welcome: { group, customerId, ...(endpoint && { endpoint }) },
    ...(taskQueue && { taskQueue }),
    mailing: {
      id: mailingId,
      name: `Welcome reminder (${group})`,
      channel: { type: 'log' },
      template: { subject: 'Your welcome code', body: `Hello! Your code: {{ client.last_promocode(${JSON.stringify(group)}) }}` },
      audience: { segment: { issuedFromGroup: { group } } },
    },
  };
}
