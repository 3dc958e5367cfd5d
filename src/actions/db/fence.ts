// db.fence: make the old primary refuse writes before its replica is promoted, so the service can
// never have two writable primaries. A primary that does not answer is recorded as unreachable
// (the real disaster) and the run goes on to the promotion gate, which looks again.

import { needDatabase } from '../need.js';
import type { Action } from '../types.js';

export const fence: Action = {
  name: 'db.fence',
  plan: (context) => {
    const database = context.providers.database;
    if (!database) return 'Fence the old primary so it refuses writes.';
    return database.describeFence(database.source);
  },
  skipReason: (context) => context.providers.database?.fenceDisabled() ?? null,
  async prepare(context) {
    const database = needDatabase(context);
    return { saved: await database.beforeFence(database.source) };
  },
  async run(context) {
    const database = needDatabase(context);
    const result = await database.fence(database.source);
    return {
      summary: result.detail,
      details: {
        node: database.source,
        state: result.state,
        finalLsn: result.finalLsn,
        sessionsEnded: result.sessionsEnded,
        saved: context.previous.saved ?? {},
      },
    };
  },
  async verify(context, outcome) {
    const database = needDatabase(context);
    const probe = await database.probe(database.source);
    if (outcome.details.state === 'unreachable')
      return {
        ok: true,
        summary: `not checked: ${probe.detail} (the promotion gate looks again before promoting)`,
      };
    if (probe.role === 'writable')
      return { ok: false, summary: `${probe.detail}: the fence does not hold` };
    return { ok: true, summary: probe.detail };
  },
};
