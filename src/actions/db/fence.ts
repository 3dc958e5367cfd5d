// db.fence: make the old primary refuse writes before its replica is promoted, so the service can
// never have two writable primaries. A primary that does not answer is recorded as unreachable
// (the real disaster) and the run goes on to the promotion gate, which looks again. A fence with
// nothing to promote after it is refused: the replica must be there to take the writes.

import { ProviderError } from '../../errors.js';
import { needDatabase } from '../need.js';
import type { FenceResult, NodeName } from '../../providers/types.js';
import { newestRestorable } from '../backup/restorable.js';
import type { Action, ActionContext, ActionOutcome } from '../types.js';

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
    // A replica that does not answer, or is no standby, cannot take over: fencing the primary
    // now would leave nothing accepting writes. (One that already accepts writes is two
    // primaries: fencing the old one is what ends that.)
    if (context.service?.strategy === 'backup-restore') {
      // The writes go to what a restore makes, not to a replica: there must be something to restore.
      const newest = await newestRestorable(context);
      if (!newest)
        throw new ProviderError(
          database.sourceName,
          'not fenced: there is no backup to restore after it — fencing now would leave no database accepting writes. Take or copy a backup first, or skip this step with a reason',
          true,
        );
      const result = await database.fence(database.source, { onProgress: context.progress });
      return fenceOutcome(context, database.source, result);
    }
    const target = await database.probe(database.target);
    if (target.role === 'unreachable' || target.role === 'fenced')
      throw new ProviderError(
        database.sourceName,
        `not fenced: the replica to promote cannot take over (${target.detail}) — fencing now would leave no database accepting writes. Bring the replica back and retry, or skip this step with a reason`,
        true,
      );
    const result = await database.fence(database.source, { onProgress: context.progress });
    return fenceOutcome(context, database.source, result);
  },
  async verify(context, outcome) {
    const database = needDatabase(context);
    // A primary that did not answer the fence is not asked again here (its region may hang for
    // the whole budget): the promotion gate looks again before promoting.
    if (outcome.details.state === 'unreachable')
      return {
        ok: true,
        summary: `not checked: ${database.sourceName} did not answer the fence (the promotion gate looks again before promoting)`,
      };
    const probe = await database.probe(database.source);
    if (probe.role === 'writable')
      return { ok: false, summary: `${probe.detail}: the fence does not hold` };
    return { ok: true, summary: probe.detail };
  },
};

function fenceOutcome(context: ActionContext, node: NodeName, result: FenceResult): ActionOutcome {
  return {
    summary: result.detail,
    details: {
      node,
      state: result.state,
      finalLsn: result.finalLsn,
      sessionsEnded: result.sessionsEnded,
      saved: context.previous.saved ?? {},
    },
  };
}
