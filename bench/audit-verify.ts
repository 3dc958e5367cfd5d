// `lifeboat audit verify` on a long log: a store seeded with N hash-chained events (default
// 1,000,000), verified in a fresh process each round as the CLI verifies a SQLite store (a worker
// thread per core) — time and peak memory — against a bare baseline in the same run: a process
// that reads the same rows and computes one SHA-256 each, checking nothing. Sides alternate, after
// a warm-up round; min / median / max.
//
//   npx tsx bench/audit-verify.ts [events] [rounds]

import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  auditHead,
  recordAuditCheckpoint,
  recordAuditEvents,
  verifyAuditLog,
  verifyAuditLogSinceCheckpoint,
} from '../src/store/audit.js';
import { openStore } from '../src/store/db.js';
import { verifyAuditLogParallel } from '../src/store/audit-verify-parallel.js';
import { formatRatio, formatSummary } from './stats.js';

const [mode, file] = process.argv.slice(2);

if (mode === '--verify' || mode === '--bare') {
  const store = openStore(file!);
  const start = process.hrtime.bigint();
  let count = 0;
  if (mode === '--verify') {
    // What `lifeboat audit verify` runs on a SQLite store: a worker thread per core.
    const result = await verifyAuditLogParallel(store, file!);
    if (!result.ok) throw new Error(`chain broken: ${JSON.stringify(result)}`);
    count = result.count;
  } else {
    const rows = store.db
      .prepare('SELECT seq, at, actor, action, subject, details, prev_hash, hash FROM audit_log')
      .raw()
      .iterate() as Iterable<string[]>;
    for (const row of rows) {
      createHash('sha256').update(row.join('|')).digest('hex');
      count += 1;
    }
  }
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  await store.close();
  process.stdout.write(
    JSON.stringify({ ms, count, peakMiB: process.resourceUsage().maxRSS / 1024 }) + '\n',
  );
  process.exit(0);
}

const EVENTS = Number(process.argv[2] ?? 1_000_000);
const ROUNDS = Number(process.argv[3] ?? 5);
const dir = mkdtempSync(path.join(tmpdir(), 'lifeboat-bench-audit-'));
const storeFile = path.join(dir, 'lifeboat.db');
try {
  const store = openStore(storeFile);
  const seedStart = Date.now();
  let tick = Date.parse('2026-01-01T00:00:00Z');
  for (let done = 0; done < EVENTS; done += 10_000) {
    const batch = Array.from({ length: Math.min(10_000, EVENTS - done) }, (_, i) => ({
      actor: i % 3 ? 'U0ALICE' : 'system',
      action: i % 2 ? 'step.done' : 'action.done',
      subject: `r-${Math.floor((done + i) / 40)}`,
      details: {
        step: i % 12,
        summary: `promoted replica ${i} with pg_promote and verified it writable`,
      },
    }));
    await recordAuditEvents(store, batch, () => new Date((tick += 1000)));
  }
  await store.close();
  console.log(
    `audit verify of ${EVENTS.toLocaleString('en')} events (seeded in ${((Date.now() - seedStart) / 1000).toFixed(1)} s), a fresh process each round, ${ROUNDS} rounds each side`,
  );
  const run = (flag: string) => {
    const result = spawnSync(
      process.execPath,
      [...process.execArgv, import.meta.filename, flag, storeFile],
      { encoding: 'utf8' },
    );
    if (result.status !== 0) throw new Error(result.stderr);
    return JSON.parse(result.stdout) as { ms: number; count: number; peakMiB: number };
  };
  run('--verify');
  run('--bare');
  const ours: { ms: number; peakMiB: number }[] = [];
  const bare: { ms: number; peakMiB: number }[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    ours.push(run('--verify'));
    bare.push(run('--bare'));
  }
  console.log(
    formatSummary(
      'lifeboat audit verify',
      ours.map((r) => r.ms),
    ),
  );
  console.log(
    formatSummary(
      'bare: read each row, one SHA-256',
      bare.map((r) => r.ms),
    ),
  );
  console.log(
    formatRatio(
      ours.map((r) => r.ms),
      bare.map((r) => r.ms),
    ),
  );
  console.log(
    formatSummary(
      'lifeboat audit verify: peak memory',
      ours.map((r) => r.peakMiB),
      'MiB',
    ),
  );
  console.log(
    formatSummary(
      'bare: peak memory',
      bare.map((r) => r.peakMiB),
      'MiB',
    ),
  );
  const rate = (ms: number) => Math.round((EVENTS / ms) * 1000).toLocaleString('en');
  const median = (values: number[]) =>
    [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
  console.log(
    `  median rate ${rate(median(ours.map((r) => r.ms)))} events/s (bare ${rate(median(bare.map((r) => r.ms)))})`,
  );
  // Start-up verifies from the checkpoint the last whole-chain verify left: time it with 1,000
  // events appended since, against that whole-chain verify, in this process.
  const store2 = openStore(storeFile);
  await recordAuditCheckpoint(store2, await auditHead(store2), new Date());
  await recordAuditEvents(
    store2,
    Array.from({ length: 1000 }, (_, i) => ({
      actor: 'U0ALICE',
      action: 'step.done',
      subject: 'r-new',
      details: { step: i },
    })),
    () => new Date((tick += 1000)),
  );
  const timeMs = async (work: () => Promise<{ ok: boolean }>) => {
    const start = process.hrtime.bigint();
    const result = await work();
    if (!result.ok) throw new Error('chain broken');
    return Number(process.hrtime.bigint() - start) / 1e6;
  };
  const since: number[] = [];
  const whole: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    since.push(await timeMs(() => verifyAuditLogSinceCheckpoint(store2)));
    whole.push(await timeMs(() => verifyAuditLog(store2)));
  }
  await store2.close();
  console.log(formatSummary('start-up: from the checkpoint, 1,000 events new', since));
  console.log(formatSummary('the whole chain (as start-up did before)', whole));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
