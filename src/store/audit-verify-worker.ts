// One range of the audit chain, verified in a worker thread of `lifeboat audit verify`: each event's
// hash recomputed from its content and its recorded predecessor's hash, its number the next one, and
// its prev_hash the hash of the event before it in the range. The ends are stitched by the caller.
// SQLite writes the text to hash (HASHED_TEXT_SQL); the hash is this thread's.

import Database from 'better-sqlite3';
import { hash } from 'node:crypto';
import { parentPort, workerData } from 'node:worker_threads';
import { HASHED_TEXT_SQL } from './audit.js';

export interface RangeTask {
  file: string;
  from: number;
  to: number;
}

export interface RangeResult {
  /** The first event's prev_hash (what the range hangs from) and the last event's hash. */
  firstPrevHash: string | null;
  lastHash: string | null;
  count: number;
  /** The first event of the range that does not hold; null when all do. */
  brokenAt: number | null;
}

/** Rows read per query (about 100 KB): faster than a row per step, and the heap stays small. */
const CHUNK = 256;

export function verifyRange(task: RangeTask): RangeResult {
  const db = new Database(task.file, { readonly: true, fileMustExist: true });
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
    let expected = task.from;
    let previous: string | null = null;
    let firstPrevHash: string | null = null;
    let count = 0;
    for (let from = task.from; from <= task.to; from += CHUNK) {
      const rows = chunk.all(from, Math.min(task.to, from + CHUNK - 1)) as RawRow[];
      for (const [seq, prevHash, recorded, hashed] of rows) {
        if (count === 0) firstPrevHash = prevHash;
        if (
          seq !== expected ||
          (previous !== null && prevHash !== previous) ||
          hash('sha256', hashed) !== recorded
        )
          return { firstPrevHash, lastHash: previous, count, brokenAt: expected };
        previous = recorded;
        expected += 1;
        count += 1;
      }
      // A range with a gap ends its chunk early: the next chunk's first number says so.
    }
    if (expected !== task.to + 1)
      return { firstPrevHash, lastHash: previous, count, brokenAt: expected };
    return { firstPrevHash, lastHash: previous, count, brokenAt: null };
  } finally {
    db.close();
  }
}

/** seq, prev_hash, hash, and the text to hash. */
type RawRow = [number, string, string, string];

if (parentPort && (workerData as { auditRange?: RangeTask } | null)?.auditRange)
  parentPort.postMessage(verifyRange((workerData as { auditRange: RangeTask }).auditRange));
