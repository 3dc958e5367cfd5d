// One range of the audit chain, verified in a worker thread of `lifeboat audit verify`: each event's
// hash recomputed from its content and its recorded predecessor's hash, its number the next one, and
// its prev_hash the hash of the event before it in the range. The ends are stitched by the caller.
// On SQLite, SQLite writes the text to hash (HASHED_TEXT_SQL); on PostgreSQL this thread writes it,
// from rows read over its own connection while it hashes the batch before.

import Database from 'better-sqlite3';
import { hash } from 'node:crypto';
import { parentPort, workerData } from 'node:worker_threads';
import type { StoreLocation } from '../config.js';
import { HASHED_TEXT_SQL, hashAuditRow, type AuditRow } from './audit.js';
import type { PostgresLocation } from './postgres.js';

/** Events `from` to `to`, both included. */
export interface Range {
  from: number;
  to: number;
}

export interface RangeTask extends Range {
  store: StoreLocation;
}

export interface RangeResult {
  /** The first event's prev_hash (what the range hangs from) and the last event's hash. */
  firstPrevHash: string | null;
  lastHash: string | null;
  count: number;
  /** The first event of the range that does not hold; null when all do. */
  brokenAt: number | null;
}

/** SQLite rows read per query (about 100 KB): faster than a row per step, the heap stays small. */
const CHUNK = 256;
/**
 * PostgreSQL rows per query, two in flight: 2,000 overflowed the worker's 1 MiB young generation
 * and cost 1.5× the CPU in collections; 250–500 ran fastest.
 */
const PG_CHUNK = 500;

/** The checks on each event of a range, in order; the verdict at the end. */
class RangeWalk {
  private expected: number;
  private previous: string | null = null;
  private firstPrevHash: string | null = null;
  private count = 0;

  constructor(
    private readonly to: number,
    from: number,
  ) {
    this.expected = from;
  }

  /** Whether the event holds: the next number, linked to the one before, its hash its content's. */
  holds(seq: number, prevHash: string, recorded: string, computed: string): boolean {
    if (this.count === 0) this.firstPrevHash = prevHash;
    if (
      seq !== this.expected ||
      (this.previous !== null && prevHash !== this.previous) ||
      computed !== recorded
    )
      return false;
    this.previous = recorded;
    this.expected += 1;
    this.count += 1;
    return true;
  }

  /** A range that stopped early, or whose events ran out before its end, breaks at the next. */
  result(stopped: boolean): RangeResult {
    const whole = !stopped && this.expected === this.to + 1;
    return {
      firstPrevHash: this.firstPrevHash,
      lastHash: this.previous,
      count: this.count,
      brokenAt: whole ? null : this.expected,
    };
  }
}

export function verifyRange(file: string, task: Range): RangeResult {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    // One pass, each page read once: better-sqlite3's 16 MB page cache per connection would only
    // hold pages never read again (16 MB of memory per worker).
    db.pragma('cache_size = -256');
    // Raw rows, in chunks: objects and a row per step cost more than the hash itself.
    const chunk = db
      .prepare(
        `SELECT seq, prev_hash, hash, ${HASHED_TEXT_SQL} FROM audit_log WHERE seq BETWEEN ? AND ? ORDER BY seq`,
      )
      .raw();
    const walk = new RangeWalk(task.to, task.from);
    for (let from = task.from; from <= task.to; from += CHUNK) {
      const rows = chunk.all(from, Math.min(task.to, from + CHUNK - 1)) as RawRow[];
      for (const [seq, prevHash, recorded, hashed] of rows)
        if (!walk.holds(seq, prevHash, recorded, hash('sha256', hashed))) return walk.result(true);
      // A range with a gap ends its chunk early: the next chunk's first number says so.
    }
    return walk.result(false);
  } finally {
    db.close();
  }
}

/** seq, prev_hash, hash, and the text to hash. */
type RawRow = [number, string, string, string];

export async function verifyRangeOnPostgres(
  store: PostgresLocation,
  task: Range,
): Promise<RangeResult> {
  const [{ openPostgresStore }, { describeStore }] = await Promise.all([
    import('./postgres.js'),
    import('./open.js'),
  ]);
  // Reads only: a store of another version is refused, never migrated from here.
  const location: StoreLocation = { kind: 'postgres', ...store };
  const db = await openPostgresStore(store, {
    label: describeStore(location),
    inspectOnly: true,
  });
  const chunk = (from: number) =>
    db.all<AuditRow>(
      'SELECT seq, at, actor, action, subject, details, prev_hash, hash FROM audit_log WHERE seq BETWEEN ? AND ? ORDER BY seq',
      from,
      Math.min(task.to, from + PG_CHUNK - 1),
    );
  const walk = new RangeWalk(task.to, task.from);
  let next = chunk(task.from);
  try {
    for (let from = task.from; from <= task.to; from += PG_CHUNK) {
      const rows = await next;
      // The server reads the next chunk while this one is hashed.
      if (from + PG_CHUNK <= task.to) next = chunk(from + PG_CHUNK);
      for (const row of rows)
        if (!walk.holds(row.seq, row.prev_hash, row.hash, hashAuditRow(row.prev_hash, row)))
          return walk.result(true);
    }
    return walk.result(false);
  } finally {
    await next.catch(() => undefined);
    await db.close();
  }
}

const task = (workerData as { auditRange?: RangeTask } | null)?.auditRange;
if (parentPort && task) {
  const port = parentPort;
  if (task.store.kind === 'sqlite') port.postMessage(verifyRange(task.store.file, task));
  else
    // A failure (the server unreachable, a store of another version) is the worker's error: the
    // caller then walks on one thread and says why.
    void verifyRangeOnPostgres(task.store, task).then((result) => port.postMessage(result));
}
