// dns.switch: point the service's record (or routing control) at the promoted database. A service
// without DNS configured skips the step and says so.

import { needDatabase } from '../need.js';
import type { Action, ActionContext, ActionOutcome } from '../types.js';

export const dnsSwitch: Action = {
  name: 'dns.switch',
  plan(context) {
    const dns = context.providers.dns;
    if (!dns) return skipReason(context);
    return dns.describeSwitch(`the endpoint of ${context.providers.database?.targetName ?? 'the promoted database'}`);
  },
  async run(context) {
    const dns = context.providers.dns;
    if (!dns) return skipped(context);
    const endpoint = await needDatabase(context).targetEndpoint();
    const result = await dns.switchTo(endpoint);
    return { summary: result.detail, details: { endpoint } };
  },
  async verify(context, outcome) {
    if (outcome.skipped || !context.providers.dns) return { ok: true, summary: outcome.summary };
    const endpoint = String(outcome.details.endpoint);
    return context.providers.dns.pointsAt(endpoint);
  },
};

export function skipReason(context: ActionContext): string {
  return `${context.service ? `Service ${context.service.name}` : 'This run'} has no dns: in lifeboat.yml, so this step is skipped.`;
}

export function skipped(context: ActionContext): Promise<ActionOutcome> {
  return Promise.resolve({ summary: skipReason(context), details: {}, skipped: true });
}
