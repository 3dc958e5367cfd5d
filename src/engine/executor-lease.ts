// One process walks a run at a time, across processes sharing the store (the bot and a
// break-glass CLI): the walker claims the run, refreshes the claim while an action runs, and
// releases it when the run waits for people. A claim left by a process that died (kill -9) is
// taken over at once on the same host, and after STALE_AFTER_MS from another host.

import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Db } from '../store/db.js';
import { isAlive } from '../pid.js';

export const STALE_AFTER_MS = 120_000;
export const HEARTBEAT_MS = 15_000;

export const SELF = `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;

export function claimRun(db: Db, runId: string, now: Date, self = SELF): boolean {
  return db
    .transaction(() => {
      const row = db.prepare('SELECT executor, executor_seen FROM runs WHERE id = ?').get(runId) as
        { executor: string | null; executor_seen: string | null } | undefined;
      if (!row) return false;
      if (
        row.executor !== null &&
        row.executor !== self &&
        !isStale(row.executor, row.executor_seen, now)
      ) {
        // Tell the holder something changed, in case it is about to let go: it walks once more.
        db.prepare('UPDATE runs SET executor_poked = 1 WHERE id = ?').run(runId);
        return false;
      }
      db.prepare('UPDATE runs SET executor = ?, executor_seen = ? WHERE id = ?').run(
        self,
        now.toISOString(),
        runId,
      );
      return true;
    })
    .immediate();
}

export function refreshClaim(db: Db, runId: string, now: Date, self = SELF): void {
  db.prepare('UPDATE runs SET executor_seen = ? WHERE id = ? AND executor = ?').run(
    now.toISOString(),
    runId,
    self,
  );
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

/** Who holds the run, when it is not this process. */
export function holderOf(db: Db, runId: string, self = SELF): string | null {
  const row = db.prepare('SELECT executor FROM runs WHERE id = ?').get(runId) as
    { executor: string | null } | undefined;
  return row?.executor && row.executor !== self ? row.executor : null;
}

function isStale(executor: string, seen: string | null, now: Date): boolean {
  const [host, pid] = executor.split(':');
  if (host === hostname() && pid && !isAlive(Number(pid))) return true;
  return seen === null || now.getTime() - Date.parse(seen) > STALE_AFTER_MS;
}
