// db.check-lag: measure replication lag on the replica that would be promoted, against the RPO.
// Over the RPO, or not measurable, is a failed step with the numbers: the runbooks call this step
// "replication lag is zero", and a step that reads ✅ must mean it. The operator may skip it with
// a reason (the promotion's own RPO gate still holds).

import { formatDuration } from '../../duration.js';
import { ProviderError } from '../../errors.js';
import { needDatabase } from '../need.js';
import type { Action } from '../types.js';
import { describeLag } from './describe-lag.js';

export const checkLag: Action = {
  name: 'db.check-lag',
  plan: (context) =>
    `Measure replication lag of ${context.providers.database?.targetName ?? 'the replica'} and compare it with the RPO` +
    `${context.service ? ` (${formatDuration(context.service.rpoSeconds)}); over it, or not measurable, fails the step` : ''}. Read-only.`,
  async run(context) {
    const database = needDatabase(context);
    const lag = await database.measureLag();
    const rpoSeconds = context.service?.rpoSeconds ?? null;
    const summary = describeLag(lag, rpoSeconds);
    if (lag.targetIsReplica && rpoSeconds !== null) {
      if (lag.lagSeconds === null)
        throw new ProviderError(
          database.targetName,
          `${summary}. Lag unknown is not lag zero: find out why it cannot be measured, or skip this step with a reason.`,
          true,
        );
      if (lag.lagSeconds > rpoSeconds)
        throw new ProviderError(
          database.targetName,
          `${summary}. Promoting now would lose more than the RPO allows: wait for the replica to catch up and retry, or skip this step with a reason.`,
          true,
        );
    }
    return { summary, details: { ...lag } };
  },
};
