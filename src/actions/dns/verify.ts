// dns.verify: check that the record (or routing control) points at the promoted database.

import { ProviderError } from '../../errors.js';
import { needDatabase } from '../need.js';
import type { Action } from '../types.js';
import { skipReason, skipped } from './switch.js';

export const dnsVerify: Action = {
  name: 'dns.verify',
  plan: (context) =>
    context.providers.dns
      ? `Check that ${context.providers.dns.name} points at ${context.providers.database?.targetName ?? 'the promoted database'}. Read-only.`
      : skipReason(context),
  async run(context) {
    const dns = context.providers.dns;
    if (!dns) return skipped(context);
    const endpoint = await needDatabase(context).targetEndpoint();
    const check = await dns.pointsAt(endpoint);
    if (!check.ok) throw new ProviderError(dns.name, check.summary, true);
    return { summary: check.summary, details: { endpoint } };
  },
  verify: (_context, outcome) => Promise.resolve({ ok: true, summary: outcome.summary }),
};
