// dns.verify: check that the record (or routing control) points at the promoted database.

import { ProviderError } from '../../errors.js';
import { needDatabase } from '../need.js';
import type { Action } from '../types.js';
import { needDns, noDns } from './switch.js';

export const dnsVerify: Action = {
  name: 'dns.verify',
  skipReason: noDns,
  plan: (context) =>
    context.providers.dns
      ? `Check that ${context.providers.dns.name} points at ${context.providers.database?.targetName ?? 'the promoted database'}. Read-only.`
      : (noDns(context) ?? ''),
  async run(context) {
    const dns = needDns(context);
    const endpoint = await needDatabase(context).targetEndpoint();
    const check = await dns.pointsAt(endpoint);
    if (!check.ok) throw new ProviderError(dns.name, check.summary, true);
    return { summary: check.summary, details: { endpoint } };
  },
};
