// One process walks a run at a time, across processes sharing the store (the bot and a
// break-glass CLI): the walker claims the run, refreshes the claim while an action runs, and
// releases it when the run waits for people. A claim left by a process that died (kill -9) is
// taken over at once on the same host; one not refreshed for STALE_AFTER_MS (another host, or a
// process paused) is taken over too. Every new holder raises the run's epoch, the fencing token:
// the walker's commits check it, so a paused or partitioned old holder that wakes up cannot
// commit over the new one.

import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Db } from '../store/db.js';
import { isAlive } from '../pid.js';

export const STALE_AFTER_MS = 120_000;
export const HEARTBEAT_MS = 15_000;
/** How often a serving instance looks for runs whose walker is gone (Engine.adoptOrphans). */
export const ADOPT_EVERY_MS = 5_000;

export const SELF = `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;

/** The walker of a run lost its claim to another process: it stops without committing. */
export class LeaseLost extends Error {
  constructor(
    readonly runId: string,
    readonly holder: string | null,
  ) {
    super(`lost the walk of run ${runId} to ${holder ?? 'nobody'}`);
    this.name = 'LeaseLost';
  }
}

/** Claims the run for `self`; its epoch (the fencing token) when claimed, else null. */
export function claimRun(db: Db, runId: string, now: Date, self = SELF): number | null {
  return db
    .transaction(() => {
      const row = db
        .prepare('SELECT executor, executor_seen, executor_epoch FROM runs WHERE id = ?')
        .get(runId) as
        | { executor: string | null; executor_seen: string | null; executor_epoch: number }
        | undefined;
      if (!row) return null;
      if (
        row.executor !== null &&
        row.executor !== self &&
        !isStale(row.executor, row.executor_seen, now)
      ) {
        // Tell the holder something changed, in case it is about to let go: it walks once more.
        db.prepare('UPDATE runs SET executor_poked = 1 WHERE id = ?').run(runId);
        return null;
      }
      const epoch = row.executor === self ? row.executor_epoch : row.executor_epoch + 1;
      db.prepare(
        'UPDATE runs SET executor = ?, executor_seen = ?, executor_epoch = ? WHERE id = ?',
      ).run(self, now.toISOString(), epoch, runId);
      return epoch;
    })
    .immediate();
}

/** Keeps the claim fresh while an action runs; false when it was taken over meanwhile. */
export function refreshClaim(
  db: Db,
  runId: string,
  now: Date,
  epoch: number,
  self = SELF,
): boolean {
  const changed = db
    .prepare(
      'UPDATE runs SET executor_seen = ? WHERE id = ? AND executor = ? AND executor_epoch = ?',
    )
    .run(now.toISOString(), runId, self, epoch).changes;
  return changed === 1;
}

/** Inside the walker's transaction: refuses (LeaseLost) unless `self` still holds `epoch`. */
export function assertHolds(db: Db, runId: string, epoch: number, self = SELF): void {
  const row = db.prepare('SELECT executor, executor_epoch FROM runs WHERE id = ?').get(runId) as
    { executor: string | null; executor_epoch: number } | undefined;
  if (!row || row.executor !== self || row.executor_epoch !== epoch)
    throw new LeaseLost(runId, row?.executor ?? null);
}

/** Lets go of the run, unless another process poked it meanwhile: then false, walk again. */
export function releaseRun(db: Db, runId: string, self = SELF): boolean {
  return db
    .transaction(() => {
      const row = db
        .prepare('SELECT executor_poked FROM runs WHERE id = ? AND executor = ?')
        .get(runId, self) as { executor_poked: number } | undefined;
      if (row?.executor_poked) {
        db.prepare('UPDATE runs SET executor_poked = 0 WHERE id = ?').run(runId);
        return false;
      }
      db.prepare(
        'UPDATE runs SET executor = NULL, executor_seen = NULL WHERE id = ? AND executor = ?',
      ).run(runId, self);
      return true;
    })
    .immediate();
}

/**
 * Runs in flight that need a walker and have none alive: claimed by a process that died or
 * stopped refreshing its claim, or unclaimed while their current step waits on lifeboat, not on
 * people (a process died between a commit and its walk). A run waiting for people needs no walker.
 */
export function orphanedRuns(db: Db, now: Date, self = SELF): string[] {
  const rows = db
    .prepare(
      `SELECT r.id, r.executor, r.executor_seen AS seen, s.state, s.waiting_on AS waitingOn
       FROM runs r LEFT JOIN run_steps s ON s.run_id = r.id AND s.step_index = r.current_step
       WHERE r.status IN ('running', 'waiting')`,
    )
    .all() as {
    id: string;
    executor: string | null;
    seen: string | null;
    state: string | null;
    waitingOn: string | null;
  }[];
  const waitsOnLifeboat = (row: (typeof rows)[number]) =>
    row.state !== null && (row.state !== 'active' || row.waitingOn === null);
  return rows
    .filter((row) =>
      row.executor === null
        ? waitsOnLifeboat(row)
        : row.executor !== self && isStale(row.executor, row.seen, now),
    )
    .map((row) => row.id);
}

/** Who walks the run now (its claim and fencing epoch), or null when nobody does. */
export function walkerOf(
  db: Db,
  runId: string,
): { executor: string; seen: string | null; epoch: number } | null {
  const row = db
    .prepare(
      'SELECT executor, executor_seen AS seen, executor_epoch AS epoch FROM runs WHERE id = ?',
    )
    .get(runId) as { executor: string | null; seen: string | null; epoch: number } | undefined;
  return row?.executor ? { executor: row.executor, seen: row.seen, epoch: row.epoch } : null;
}

/** Who holds the run, when it is not this process. */
export function holderOf(db: Db, runId: string, self = SELF): string | null {
  const walker = walkerOf(db, runId);
  return walker && walker.executor !== self ? walker.executor : null;
}

function isStale(executor: string, seen: string | null, now: Date): boolean {
  const [host, pid] = executor.split(':');
  if (host === hostname() && pid && !isAlive(Number(pid))) return true;
  return seen === null || now.getTime() - Date.parse(seen) > STALE_AFTER_MS;
}
