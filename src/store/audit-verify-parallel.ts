// `lifeboat audit verify` on a long log: the chain cut into one range per core, each range verified
// in a worker thread (every event's hash does not depend on any other's computation — only on the
// prev_hash it records), the ranges' ends stitched, and the head row compared with the last event.
// A SQLite file is read by each worker; a PostgreSQL store over each worker's own connection, so
// the rows are parsed and hashed on every core while the server reads. Any doubt — a range that
// breaks, a stitch that does not hold — and the one-thread walk (verifyAuditLog) runs to name the
// break exactly, as it always has.

import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { GENESIS_HASH, verifyAuditLog, type AuditVerification } from './audit.js';
import type { RangeResult, RangeTask } from './audit-verify-worker.js';
import type { Sql } from './db.js';
import type { StoreLocation } from '../config.js';

/** Below this many events one thread is as fast as starting workers. */
const PARALLEL_FROM = 200_000;

export async function verifyAuditLogParallel(
  db: Sql,
  store: StoreLocation,
  options: {
    workers?: number;
    parallelFrom?: number;
    /** Told why, when the workers could not run and one thread walked the log instead. */
    onOneThread?: (why: string) => void;
  } = {},
): Promise<AuditVerification> {
  const workers = options.workers ?? availableParallelism();
  const head = await db.get<{ seq: number; hash: string }>(
    'SELECT seq, hash FROM audit_head WHERE id = 1',
  );
  if (!head || head.seq < (options.parallelFrom ?? PARALLEL_FROM) || workers < 2)
    return verifyAuditLog(db);
  const size = Math.ceil(head.seq / workers);
  const tasks: RangeTask[] = Array.from({ length: workers }, (_, index) => ({
    store,
    from: index * size + 1,
    to: Math.min(head.seq, (index + 1) * size),
  })).filter((task) => task.from <= task.to);
  // A worker that cannot run (out of its small heap, no threads here) leaves it to the walk.
  const results = await Promise.all(tasks.map(runRange)).catch((error: Error) => {
    options.onOneThread?.(error.message);
    return null;
  });
  if (!results) return verifyAuditLog(db);
  let expected = GENESIS_HASH;
  for (const result of results) {
    if (result.brokenAt !== null || result.firstPrevHash !== expected) return verifyAuditLog(db);
    expected = result.lastHash!;
  }
  if (expected !== head.hash) return verifyAuditLog(db);
  // Events appended while the workers looked: walked on from the head they verified up to.
  return verifyAuditLog(db, head);
}

function runRange(task: RangeTask): Promise<RangeResult> {
  // From dist/ the worker is JavaScript; from src/ (tests, tsx) TypeScript, loaded through tsx.
  const typescript = import.meta.url.endsWith('.ts');
  const worker = new Worker(
    new URL(`./audit-verify-worker.${typescript ? 'ts' : 'js'}`, import.meta.url),
    {
      workerData: { auditRange: task },
      execArgv: typescript ? ['--import', 'tsx'] : [],
      // 256 rows at a time (500 from PostgreSQL), garbage once hashed: a small heap keeps the
      // walk's memory flat (both workers and the CLI ~96 MiB at 1M events; 4/64 MiB here made it
      // ~115). A chunk of events too large for it (256 in a row with commands' whole output)
      // stops the worker, and the one-thread walk gives the verdict, saying why. tsx compiling
      // TypeScript needs more.
      resourceLimits: {
        maxYoungGenerationSizeMb: 1,
        maxOldGenerationSizeMb: typescript ? 64 : task.store.kind === 'sqlite' ? 8 : 24,
      },
    },
  );
  return new Promise((resolve, reject) => {
    worker.once('message', (result: RangeResult) => resolve(result));
    worker.once('error', reject);
    worker.once('exit', (code) => {
      if (code !== 0) reject(new Error(`the audit verify worker exited with ${code}`));
    });
  });
}
