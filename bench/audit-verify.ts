// `lifeboat audit verify` on a long log: a store seeded with N hash-chained events (default
// 1,000,000), verified by the built CLI as a user runs it (dist/cli/lifeboat.js: a worker thread
// per core on a SQLite store), a fresh process each round — its time from spawn to exit and its
// peak memory — against a bare baseline in the same run: a fresh process that reads the same rows
// and computes one SHA-256 each, checking nothing. Sides alternate, after a warm-up round;
// min / median / max. With --postgres, the same store migrated (`lifeboat store migrate`) into a
// throwaway PostgreSQL server on this machine, against a bare process reading it over one
// connection. Then start-up's verify from a checkpoint, in this process.
//
//   npm run build && npx tsx bench/audit-verify.ts [events] [rounds] [--postgres]

import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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
import { startThrowawayServer } from '../src/providers/postgres/servers.js';
import { formatRatio, formatSummary, summarize } from './stats.js';

interface Backend {
  name: string;
  config: string;
  bare: string;
  bareArg: string;
  bareLabel: string;
}

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

/** The baseline on PostgreSQL: the rows read over one connection, 5,000 a query, one SHA-256 each. */
const BARE_POSTGRES = `
  const pg = require(${JSON.stringify(createRequire(import.meta.url).resolve('pg'))});
  const { createHash } = require('node:crypto');
  (async () => {
    const client = new pg.Client({ connectionString: process.argv[1] });
    await client.connect();
    await client.query('SET search_path = bench');
    let after = 0;
    let count = 0;
    for (;;) {
      const { rows } = await client.query({
        text: 'SELECT seq, at, actor, action, subject, details, prev_hash, hash FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT 5000',
        values: [after],
        rowMode: 'array',
      });
      for (const row of rows) { createHash('sha256').update(row.join('|')).digest('hex'); count += 1; }
      if (rows.length < 5000) break;
      after = Number(rows.at(-1)[0]);
    }
    await client.end();
    if (count === 0) process.exit(1);
  })();
`;

const args = process.argv.slice(2).filter((arg) => !arg.startsWith('--'));
const EVENTS = Number(args[0] ?? 1_000_000);
const ROUNDS = Number(args[1] ?? 5);
const WITH_POSTGRES = process.argv.includes('--postgres');
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
  const run = (side: 'verify' | 'bare', on: Backend) => {
    const args =
      side === 'verify'
        ? ['-r', peak, cli, 'audit', 'verify']
        : ['-r', peak, '-e', on.bare, on.bareArg];
    const start = process.hrtime.bigint();
    const result = spawnSync(process.execPath, args, {
      cwd: root,
      encoding: 'utf8',
      env: { ...process.env, LIFEBOAT_CONFIG: on.config },
    });
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    if (result.status !== 0) throw new Error(`${side} exited ${result.status}: ${result.stderr}`);
    if (side === 'verify' && !result.stdout.includes(`intact: ${EVENTS} events`))
      throw new Error(`not verified: ${result.stdout}${result.stderr}`);
    if (/one thread/.test(result.stderr)) throw new Error(result.stderr);
    return { ms, peakMiB: Number(/peak ([\d.]+)/.exec(result.stderr)![1]) };
  };
  const measure = (on: Backend) => {
    run('verify', on);
    run('bare', on);
    const ours: { ms: number; peakMiB: number }[] = [];
    const bare: { ms: number; peakMiB: number }[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      ours.push(run('verify', on));
      bare.push(run('bare', on));
    }
    const ms = (rounds: typeof ours) => rounds.map((r) => r.ms);
    const mib = (rounds: typeof ours) => rounds.map((r) => r.peakMiB);
    console.log(` ${on.name}:`);
    console.log(formatSummary('lifeboat audit verify (the built CLI, spawn to exit)', ms(ours)));
    console.log(formatSummary(`bare: ${on.bareLabel}`, ms(bare)));
    console.log(formatRatio(ms(ours), ms(bare)));
    console.log(formatSummary('lifeboat audit verify: peak memory', mib(ours), 'MiB'));
    console.log(formatSummary('bare: peak memory', mib(bare), 'MiB'));
    const rate = (value: number) => Math.round((EVENTS / value) * 1000).toLocaleString('en');
    console.log(
      `  median rate ${rate(summarize(ms(ours)).median)} events/s (bare ${rate(summarize(ms(bare)).median)})`,
    );
  };
  measure({
    name: 'SQLite',
    config,
    bare: BARE,
    bareArg: storeFile,
    bareLabel: 'a process that reads each row, one SHA-256',
  });
  if (WITH_POSTGRES) {
    const server = await startThrowawayServer();
    try {
      const migrateStart = Date.now();
      const migrated = spawnSync(
        process.execPath,
        [cli, 'store', 'migrate', '--to', server.server.url, '--schema', 'bench'],
        { cwd: root, encoding: 'utf8', env: { ...process.env, LIFEBOAT_CONFIG: config } },
      );
      if (migrated.status !== 0) throw new Error(`store migrate: ${migrated.stderr}`);
      console.log(
        `  (lifeboat store migrate into a throwaway PostgreSQL: ${((Date.now() - migrateStart) / 1000).toFixed(1)} s)`,
      );
      const pgConfig = path.join(dir, 'postgres.yml');
      writeFileSync(
        pgConfig,
        readFileSync(config, 'utf8').replace(
          'services:',
          `store: { url: "${server.server.url}", schema: bench }\nservices:`,
        ),
      );
      measure({
        name: 'PostgreSQL (a server on this machine, sharing its cores)',
        config: pgConfig,
        bare: BARE_POSTGRES,
        bareArg: server.server.url,
        bareLabel: 'one connection reads each row, one SHA-256',
      });
    } finally {
      await server.stop();
    }
  }
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
