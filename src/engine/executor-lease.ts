// One process walks a run at a time, across processes sharing the store (the bot and a
// break-glass CLI): the walker claims the run, refreshes the claim while an action runs, and
// releases it when the run waits for people. A claim left by a process that died (kill -9) is
// taken over at once on the same host; one not refreshed for STALE_AFTER_MS (another host, or a
// process paused) is taken over too. Every new holder raises the run's epoch, the fencing token:
// the walker's commits check it, so a paused or partitioned old holder that wakes up cannot
// commit over the new one.

import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Sql } from '../store/db.js';
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
export function claimRun(db: Sql, runId: string, now: Date, self = SELF): Promise<number | null> {
  return db.transaction(async () => {
    const row = await db.get<{
      executor: string | null;
      executor_seen: string | null;
      executor_epoch: number;
    }>('SELECT executor, executor_seen, executor_epoch FROM runs WHERE id = ?', runId);
    if (!row) return null;
    if (
      row.executor !== null &&
      row.executor !== self &&
      !isStale(row.executor, row.executor_seen, now)
    ) {
      // Tell the holder something changed, in case it is about to let go: it walks once more.
      await db.run('UPDATE runs SET executor_poked = 1 WHERE id = ?', runId);
      return null;
    }
    const epoch = row.executor === self ? row.executor_epoch : row.executor_epoch + 1;
    await db.run(
      'UPDATE runs SET executor = ?, executor_seen = ?, executor_epoch = ? WHERE id = ?',
      self,
      now.toISOString(),
      epoch,
      runId,
    );
    return epoch;
  });
}

/** Keeps the claim fresh while an action runs; false when it was taken over meanwhile. */
export async function refreshClaim(
  db: Sql,
  runId: string,
  now: Date,
  epoch: number,
  self = SELF,
): Promise<boolean> {
  const { changes } = await db.run(
    'UPDATE runs SET executor_seen = ? WHERE id = ? AND executor = ? AND executor_epoch = ?',
    now.toISOString(),
    runId,
    self,
    epoch,
  );
  return changes === 1;
}

/** Inside the walker's transaction: refuses (LeaseLost) unless `self` still holds `epoch`. */
export async function assertHolds(
  db: Sql,
  runId: string,
  epoch: number,
  self = SELF,
): Promise<void> {
  const row = await db.get<{ executor: string | null; executor_epoch: number }>(
    'SELECT executor, executor_epoch FROM runs WHERE id = ?',
    runId,
  );
  if (!row || row.executor !== self || row.executor_epoch !== epoch)
    throw new LeaseLost(runId, row?.executor ?? null);
}

/** Lets go of the run, unless another process poked it meanwhile: then false, walk again. */
export function releaseRun(db: Sql, runId: string, self = SELF): Promise<boolean> {
  return db.transaction(async () => {
    const row = await db.get<{ executor_poked: number }>(
      'SELECT executor_poked FROM runs WHERE id = ? AND executor = ?',
      runId,
      self,
    );
    if (row?.executor_poked) {
      await db.run('UPDATE runs SET executor_poked = 0 WHERE id = ?', runId);
      return false;
    }
    await db.run(
      'UPDATE runs SET executor = NULL, executor_seen = NULL WHERE id = ? AND executor = ?',
      runId,
      self,
    );
    return true;
  });
}

/**
 * Runs in flight that need a walker and have none alive: claimed by a process that died or
 * stopped refreshing its claim, or unclaimed while their current step waits on lifeboat, not on
 * people (a process died between a commit and its walk). A run waiting for people needs no walker.
 * Runs `self` still holds are listed too: the caller knows whether it walks them (a walk cut off
 * by the store going away left its claim behind, and nobody else takes it for STALE_AFTER_MS).
 */
export async function orphanedRuns(db: Sql, now: Date, self = SELF): Promise<string[]> {
  const rows = await db.all<{
    id: string;
    executor: string | null;
    seen: string | null;
    state: string | null;
    waitingOn: string | null;
  }>(
    `SELECT r.id, r.executor, r.executor_seen AS seen, s.state, s.waiting_on AS "waitingOn"
     FROM runs r LEFT JOIN run_steps s ON s.run_id = r.id AND s.step_index = r.current_step
     WHERE r.status IN ('running', 'waiting')`,
  );
  const waitsOnLifeboat = (row: (typeof rows)[number]) =>
    row.state !== null && (row.state !== 'active' || row.waitingOn === null);
  return rows
    .filter((row) =>
      row.executor === null
        ? waitsOnLifeboat(row)
        : row.executor === self || isStale(row.executor, row.seen, now),
    )
    .map((row) => row.id);
}

/** Who walks the run now (its claim and fencing epoch), or null when nobody does. */
export async function walkerOf(
  db: Sql,
  runId: string,
): Promise<{ executor: string; seen: string | null; epoch: number } | null> {
  const row = await db.get<{ executor: string | null; seen: string | null; epoch: number }>(
    'SELECT executor, executor_seen AS seen, executor_epoch AS epoch FROM runs WHERE id = ?',
    runId,
  );
  return row?.executor ? { executor: row.executor, seen: row.seen, epoch: row.epoch } : null;
}

/** Who holds the run, when it is not this process. */
export async function holderOf(db: Sql, runId: string, self = SELF): Promise<string | null> {
  const walker = await walkerOf(db, runId);
  return walker && walker.executor !== self ? walker.executor : null;
}

function isStale(executor: string, seen: string | null, now: Date): boolean {
  const [host, pid] = executor.split(':');
  if (host === hostname() && pid && !isAlive(Number(pid))) return true;
  return seen === null || now.getTime() - Date.parse(seen) > STALE_AFTER_MS;
}
