// dns.switch: point the service's record (or routing control) at the promoted database. A service
// without DNS configured skips the step and says so.

import { ProviderError } from '../../errors.js';
import type { DnsProvider } from '../../providers/types.js';
import { needDatabase } from '../need.js';
import type { Action, ActionContext } from '../types.js';

export const dnsSwitch: Action = {
  name: 'dns.switch',
  skipReason: noDns,
  plan: (context) =>
    context.providers.dns
      ? context.providers.dns.describeSwitch(
          `the endpoint of ${context.providers.database?.targetName ?? 'the promoted database'}`,
        )
      : (noDns(context) ?? ''),
  async run(context) {
    const endpoint = await needDatabase(context).targetEndpoint();
    const result = await needDns(context).switchTo(endpoint, { onProgress: context.progress });
    return { summary: result.detail, details: { endpoint } };
  },
  verify: (context, outcome) => needDns(context).pointsAt(String(outcome.details.endpoint)),
};

export function noDns(context: ActionContext): string | null {
  if (context.providers.dns) return null;
  return `${context.service ? `Service ${context.service.name}` : 'This run'} has no dns: in lifeboat.yml, so this step is skipped.`;
}

export function needDns(context: ActionContext): DnsProvider {
  if (context.providers.dns) return context.providers.dns;
  throw new ProviderError(
    context.service?.name ?? context.run.id,
    noDns(context) ?? 'no dns',
    true,
  );
}
