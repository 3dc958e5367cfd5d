// db.catch-up: after the fence, wait until the replica has replayed everything the old primary
// wrote (PostgreSQL: up to its final WAL position; RDS: ReplicaLag 0 after the fence). This is
// what makes a planned switchover lose nothing, and proves it with the positions.

import { formatDuration, parseDurationSeconds } from '../../duration.js';
import { ProviderError } from '../../errors.js';
import { needDatabase } from '../need.js';
import type { Action, ActionContext } from '../types.js';

const DEFAULT_TIMEOUT_SECONDS = 60;

function timeoutSeconds(context: ActionContext): number {
  const argument = context.step.actionArgument;
  return (argument ? parseDurationSeconds(argument) : null) ?? DEFAULT_TIMEOUT_SECONDS;
}

export const catchUp: Action = {
  name: 'db.catch-up',
  plan: (context) =>
    `Wait up to ${formatDuration(timeoutSeconds(context))} until ${context.providers.database?.targetName ?? 'the replica'} has replayed everything the fenced primary wrote; promotion waits for it. Read-only.`,
  async run(context) {
    const database = needDatabase(context);
    const fenced = context.earlier('db.fence');
    if (fenced?.state !== 'done' || fenced.details.state !== 'fenced') {
      throw new ProviderError(
        database.sourceName,
        `was not fenced in this run (${fenced ? fenceState(fenced) : 'no db.fence step before this one'}), so there is no final position to catch up to: skip this step with a reason to go on (the RPO gate still measures the lag)`,
        true,
      );
    }
    const fencedLsn = (fenced.details.finalLsn as string | null) ?? null;
    const result = await database.waitForReplay(database.target, fencedLsn, {
      timeoutMs: timeoutSeconds(context) * 1000,
      since: fenced.finishedAt ? new Date(fenced.finishedAt) : undefined,
      onProgress: context.progress,
    });
    return {
      summary: result.detail,
      details: { fencedLsn, replayLsn: result.replayLsn, behindBytes: fencedLsn ? 0 : null },
    };
  },
  async verify(context, outcome) {
    const database = needDatabase(context);
    const fencedLsn = (outcome.details.fencedLsn as string | null) ?? null;
    const lag = await database.measureLag({ fencedAt: fencedLsn });
    const caughtUp = fencedLsn !== null ? lag.lagBytes === 0 : lag.lagSeconds === 0;
    return caughtUp
      ? { ok: true, summary: lag.detail }
      : { ok: false, summary: `the replica is behind the fenced primary again: ${lag.detail}` };
  },
};

function fenceState(fenced: { state: string; details: Record<string, unknown> }): string {
  return typeof fenced.details.state === 'string' ? fenced.details.state : fenced.state;
}
