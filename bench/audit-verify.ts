// `lifeboat audit verify` on a long log: a store seeded with N hash-chained events (default
// 1,000,000), verified by the built CLI as a user runs it (dist/cli/lifeboat.js: a worker thread
// per core on a SQLite store), a fresh process each round — its time from spawn to exit and its
// peak memory — against a bare baseline in the same run: a fresh process that reads the same rows
// and computes one SHA-256 each, checking nothing. Sides alternate, after a warm-up round;
// min / median / max. Then start-up's verify from a checkpoint, in this process.
//
//   npm run build && npx tsx bench/audit-verify.ts [events] [rounds]

import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
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
import { formatRatio, formatSummary } from './stats.js';

const root = path.resolve(import.meta.dirname, '..');
const cli = path.join(root, 'dist/cli/lifeboat.js');
if (!existsSync(cli)) throw new Error('no dist/cli/: run npm run build first');

/** The baseline: every row read, one SHA-256 each, nothing compared. */
const BARE = `
  const Database = require('better-sqlite3');
  const { createHash } = require('node:crypto');
  const db = new Database(process.argv[1], { readonly: true });
  const rows = db.prepare('SELECT seq, at, actor, action, subject, details, prev_hash, hash FROM audit_log').raw().iterate();
  let count = 0;
  for (const row of rows) { createHash('sha256').update(row.join('|')).digest('hex'); count += 1; }
  if (count === 0) process.exit(1);
`;

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
  const config = path.join(dir, 'lifeboat.yml');
  writeFileSync(
    config,
    'services:\n  payments-db:\n    rto: 15m\n    rpo: 1m\n    database: { provider: postgres, primary: "postgres://127.0.0.1:1/p", replica: "postgres://127.0.0.1:2/p" }\n',
  );
  // Each process reports its peak memory (all its threads) as it exits.
  const peak = path.join(dir, 'peak.cjs');
  writeFileSync(
    peak,
    "process.on('exit', () => process.stderr.write('peak ' + process.resourceUsage().maxRSS / 1024 + '\\n'));",
  );
  const run = (side: 'verify' | 'bare') => {
    const args =
      side === 'verify'
        ? ['-r', peak, cli, 'audit', 'verify']
        : ['-r', peak, '-e', BARE, storeFile];
    const start = process.hrtime.bigint();
    const result = spawnSync(process.execPath, args, {
      cwd: root,
      encoding: 'utf8',
      env: { ...process.env, LIFEBOAT_CONFIG: config },
    });
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    if (result.status !== 0) throw new Error(`${side} exited ${result.status}: ${result.stderr}`);
    if (side === 'verify' && !result.stdout.includes(`intact: ${EVENTS} events`))
      throw new Error(`not verified: ${result.stdout}${result.stderr}`);
    if (/one thread/.test(result.stderr)) throw new Error(result.stderr);
    return { ms, peakMiB: Number(/peak ([\d.]+)/.exec(result.stderr)![1]) };
  };
  run('verify');
  run('bare');
  const ours: { ms: number; peakMiB: number }[] = [];
  const bare: { ms: number; peakMiB: number }[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    ours.push(run('verify'));
    bare.push(run('bare'));
  }
  console.log(
    formatSummary(
      'lifeboat audit verify (the built CLI, spawn to exit)',
      ours.map((r) => r.ms),
    ),
  );
  console.log(
    formatSummary(
      'bare: a process that reads each row, one SHA-256',
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
