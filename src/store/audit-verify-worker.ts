// One range of the audit chain, verified in a worker thread of `lifeboat audit verify`: each event's
// hash recomputed from its content and its recorded predecessor's hash, its number the next one, and
// its prev_hash the hash of the event before it in the range. The ends are stitched by the caller.

import Database from 'better-sqlite3';
import { parentPort, workerData } from 'node:worker_threads';
import { hashAuditRow } from './audit.js';

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

export function verifyRange(task: RangeTask): RangeResult {
  const db = new Database(task.file, { readonly: true, fileMustExist: true });
  try {
    const rows = db
      .prepare(
        'SELECT seq, at, actor, action, subject, details, prev_hash, hash FROM audit_log WHERE seq BETWEEN ? AND ? ORDER BY seq',
      )
      .iterate(task.from, task.to) as Iterable<{
      seq: number;
      at: string;
      actor: string;
      action: string;
      subject: string;
      details: string;
      prev_hash: string;
      hash: string;
    }>;
    let expected = task.from;
    let previous: string | null = null;
    let firstPrevHash: string | null = null;
    let count = 0;
    for (const row of rows) {
      if (count === 0) firstPrevHash = row.prev_hash;
      if (
        row.seq !== expected ||
        (previous !== null && row.prev_hash !== previous) ||
        hashAuditRow(row.prev_hash, row) !== row.hash
      )
        return { firstPrevHash, lastHash: previous, count, brokenAt: expected };
      previous = row.hash;
      expected += 1;
      count += 1;
    }
    if (expected !== task.to + 1)
      return { firstPrevHash, lastHash: previous, count, brokenAt: expected };
    return { firstPrevHash, lastHash: previous, count, brokenAt: null };
  } finally {
    db.close();
  }
}

if (parentPort && (workerData as { auditRange?: RangeTask } | null)?.auditRange)
  parentPort.postMessage(verifyRange((workerData as { auditRange: RangeTask }).auditRange));
