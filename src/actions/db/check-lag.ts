// db.check-lag: measure replication lag on the replica that would be promoted, against the RPO.

import { formatDuration } from '../../duration.js';
import { needDatabase } from '../need.js';
import type { Action } from '../types.js';
import { describeLag } from './describe-lag.js';

export const checkLag: Action = {
  name: 'db.check-lag',
  plan: (context) =>
    `Measure replication lag of ${context.providers.database?.targetName ?? 'the replica'} and compare it with the RPO` +
    `${context.service ? ` (${formatDuration(context.service.rpoSeconds)})` : ''}. Read-only.`,
  async run(context) {
    const lag = await needDatabase(context).measureLag();
    return {
      summary: describeLag(lag, context.service?.rpoSeconds ?? null),
      details: { ...lag },
    };
  },
  verify: () => Promise.resolve({ ok: true, summary: 'measured' }),
};
