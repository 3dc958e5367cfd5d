// A store as a team has it after years of use, and what lifeboat does on it: 100,000 runs over five
// years across 50 services (each with its steps done), 1,000,000 check results and 10,000,000
// audit events forming one valid chain (checkpointed, as the daily audit check leaves it). Then,
// on that store — SQLite, and with --postgres the same store taken into PostgreSQL by
// `store migrate` — the figures the speed issue sets goals for, each against a bare query on the
// same store in the same run, rounds alternating:
//   /dr status (all 50 services; their databases refuse connections at once: no network wait),
//   /dr history, a run start (a manual runbook: no side effects), and start-up: `lifeboat check
//   config` in a fresh process, which verifies the audit log from its checkpoint, and the bot
//   (`node dist/src/main.js`, what `npm start` runs after its build) until it listens.
//
//   npx tsx bench/seed-store.ts [--scale 0.1] [--keep DIR] [--postgres]
//
// --scale shrinks every count (0.1: 10,000 runs, 100,000 checks, 1,000,000 events); --keep seeds
// into DIR once and reuses it on the next invocation. Full scale takes a few minutes to seed and
// about 4 GB of disk.

import { spawn, spawnSync } from 'node:child_process';
import { connect } from 'node:net';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import path from 'node:path';
import { status } from '../commands/status.js';
import { history } from '../commands/history.js';
import { parseConfig } from '../src/config.js';
import { createEngine } from '../src/engine/create.js';
import { freePort, startThrowawayServer } from '../src/providers/postgres/servers.js';
import { startSlackStandIn } from '../test/support/slack.js';
import { loadRunbookLibrary } from '../src/runbook/library.js';
import { allSteps } from '../src/runbook/model.js';
import { recordCheckResult } from '../src/checks/backups.js';
import {
  auditHead,
  recordAuditCheckpoint,
  recordAuditEvents,
  verifyAuditLog,
  type AuditEvent,
} from '../src/store/audit.js';
import { openStore, type Store } from '../src/store/db.js';
import { finishRun, insertRun } from '../src/store/runs.js';
import { copyToPostgres } from '../src/store/to-postgres.js';
import { alternate, formatRatio, formatSummary } from './stats.js';

const argv = process.argv.slice(2);
const option = (name: string) => {
  const at = argv.indexOf(name);
  return at === -1 ? undefined : argv[at + 1];
};
const SCALE = Number(option('--scale') ?? 1);
const KEEP = option('--keep');
const WITH_POSTGRES = argv.includes('--postgres');
const ROUNDS = 9;

const SERVICES = 50;
const RUNS = Math.round(100_000 * SCALE);
const CHECKS = Math.round(1_000_000 * SCALE);
const EVENTS = Math.round(10_000_000 * SCALE);
const IN_FLIGHT = 3;
/** The store's "now": every date below is relative to it, and the commands see this clock. */
const NOW = Date.parse('2026-06-01T00:00:00Z');
const SPAN = 5 * 365 * 24 * 3600 * 1000;

const root = path.resolve(import.meta.dirname, '..');
const dir = KEEP ?? mkdtempSync(path.join(tmpdir(), 'lifeboat-bench-seed-'));
mkdirSync(dir, { recursive: true });
const storeFile = path.join(dir, 'lifeboat.db');
const runbooksDir = path.join(root, 'runbooks');
const serviceNames = Array.from(
  { length: SERVICES },
  (_, i) => `${i === 0 ? 'payments-db' : `service-${String(i).padStart(2, '0')}`}`,
);

function configYaml(store: string): string {
  const services = serviceNames
    .map(
      (name, i) =>
        `  ${name}:\n    rto: 15m\n    rpo: 1m\n    database: { provider: postgres, primary: "postgres://postgres@127.0.0.1:1/db${i}", replica: "postgres://postgres@127.0.0.1:2/db${i}" }\n    backups: { provider: s3, bucket: backups-${i}, prefix: ${name}/, region: us-west-2, max_age: 26h }`,
    )
    .join('\n');
  return `store: ${store}
runbooks_dir: ${runbooksDir}
slack: { channel: C0DRILLS }
approvals: { approvers: [U0ALICE, U0BOB, U0CAROL], required: 2 }
cli: { users: { ${process.env.USER ?? 'root'}: U0ALICE } }
schedules:
  - { name: quarterly-drill, remind: dr-test, cron: "0 10 1 */3 *" }
  - { name: yearly-tabletop, remind: tabletop-region-outage, cron: "0 10 1 1 *" }
services:
${services}
`;
}

async function seed(): Promise<void> {
  const started = Date.now();
  const store = openStore(storeFile, { clock: () => new Date(NOW) });
  const runbooks = loadRunbookLibrary(runbooksDir).runbooks;
  const raw = store.db.prepare(
    `INSERT INTO run_steps (run_id, step_index, state, started_at, finished_at, actor, summary)
     VALUES (?, ?, 'done', ?, ?, 'U0ALICE', 'done by hand')`,
  );
  const BATCH = 1000;
  for (let first = 0; first < RUNS; first += BATCH) {
    await store.transaction(async () => {
      for (let i = first; i < Math.min(RUNS, first + BATCH); i++) {
        const runbook = runbooks[i % runbooks.length]!;
        const at = new Date(NOW - SPAN + Math.floor((i * SPAN) / RUNS));
        const id = `r-${String(i).padStart(7, '0')}`;
        await insertRun(store, {
          id,
          runbook,
          service: serviceNames[i % SERVICES]!,
          kind: runbook.kind,
          startedBy: 'U0ALICE',
          startedAt: at,
          impactAt: at,
          idempotencyKey: `seed-${i}`,
        });
        if (i >= RUNS - IN_FLIGHT) continue; // the newest few are still in flight
        const finished = new Date(at.getTime() + 20 * 60_000);
        allSteps(runbook).forEach((_, step) =>
          raw.run(id, step, at.toISOString(), finished.toISOString()),
        );
        await finishRun(store, id, {
          status: i % 17 === 0 ? 'failed' : 'succeeded',
          finishedAt: finished,
          rtoSeconds: 600 + (i % 900),
        });
      }
    });
  }
  console.log(`  seeded ${RUNS.toLocaleString('en')} runs (${seconds(started)})`);

  const checksStarted = Date.now();
  const checkNames = ['backups', 'lag', 'restore'] as const;
  for (let first = 0; first < CHECKS; first += 10_000) {
    await store.transaction(async () => {
      for (let i = first; i < Math.min(CHECKS, first + 10_000); i++)
        await recordCheckResult(
          store,
          checkNames[i % 3]!,
          {
            service: serviceNames[Math.floor(i / 3) % SERVICES]!,
            ok: i % 29 !== 0,
            summary: 'newest backup 3h old, 1.2 GB, restored and counted',
            at: new Date(NOW - SPAN + Math.floor((i * SPAN) / CHECKS)).toISOString(),
          },
          { state: i % 29 === 0 ? 'failing' : 'ok' },
        );
    });
  }
  console.log(`  seeded ${CHECKS.toLocaleString('en')} check results (${seconds(checksStarted)})`);

  const eventsStarted = Date.now();
  const EVENT_BATCH = 10_000;
  const actions = [
    'step.started',
    'step.done',
    'approval.vote',
    'approval.granted',
    'run.finished',
  ];
  for (let first = 0; first < EVENTS; first += EVENT_BATCH) {
    const events: AuditEvent[] = [];
    for (let i = first; i < Math.min(EVENTS, first + EVENT_BATCH); i++)
      events.push({
        actor: i % 3 ? 'U0ALICE' : 'U0BOB',
        action: actions[i % actions.length]!,
        subject: `r-${String(Math.floor((i * RUNS) / EVENTS)).padStart(7, '0')}`,
        details: { step: i % 12 },
      });
    const at = new Date(NOW - SPAN + Math.floor((first * SPAN) / EVENTS));
    await recordAuditEvents(store, events, () => at);
  }
  console.log(`  seeded ${EVENTS.toLocaleString('en')} audit events (${seconds(eventsStarted)})`);

  // As the daily audit check leaves it: the whole chain verified, the checkpoint at its head.
  const verifyStarted = Date.now();
  const verified = await verifyAuditLog(store);
  if (!verified.ok) throw new Error(`the seeded chain does not verify: ${verified.reason}`);
  await recordAuditCheckpoint(store, await auditHead(store), new Date(NOW));
  console.log(`  whole-chain verify of the seeded log: ${seconds(verifyStarted)}`);
  store.db.pragma('wal_checkpoint(TRUNCATE)');
  await store.close();
}

function seconds(since: number): string {
  return `${((Date.now() - since) / 1000).toFixed(1)} s`;
}

/** Alternates `ours` with `bare` for ROUNDS rounds after a warm-up; prints both and the ratio. */
async function compare(
  label: string,
  ours: () => unknown,
  bareLabel: string,
  bare: () => unknown,
): Promise<void> {
  const [a, b] = await alternate(ROUNDS, ours, bare);
  console.log(formatSummary(label, a));
  console.log(formatSummary(bareLabel, b));
  console.log(formatRatio(a, b));
}

async function measure(label: string, yaml: string): Promise<void> {
  const configFile = path.join(
    dir,
    `lifeboat-${label.startsWith('PostgreSQL') ? 'pg' : 'sqlite'}.yml`,
  );
  writeFileSync(configFile, yaml);
  const config = parseConfig(yaml, configFile, {});
  const clock = () => new Date(NOW);
  const engine = await createEngine(config, { clock });
  const store: Store = engine.store;
  const context = { config, store, user: 'U0ALICE', clock, engine };
  console.log(`${label}`);
  const bare = () => store.get('SELECT id FROM runs WHERE id = ?', 'r-0000001');
  const bareLabel = 'bare: one run by its id';
  await compare('/dr status (50 services)', () => status.run([], context), bareLabel, bare);
  await compare(
    '/dr status service-07',
    () => status.run(['service-07'], context),
    bareLabel,
    bare,
  );
  await compare('/dr history (20 runs)', () => history.run([], context), bareLabel, bare);
  // A run start as a person sees it: committed and walked to its first step. Tabletops do not
  // hold the service, so each round starts one more; they are aborted after, untimed.
  let n = 0;
  const started: string[] = [];
  await compare(
    'run start (tabletop: manual steps, no side effects)',
    async () => {
      n += 1;
      const run = await engine.startRun({
        key: `bench-start-${label}-${process.pid}-${n}`,
        actor: { user: 'U0ALICE' },
        runbook: 'tabletop-region-outage',
        service: 'payments-db',
      });
      await engine.idle();
      started.push(run.runId);
    },
    bareLabel,
    bare,
  );
  for (const runId of started)
    await engine.abortRun({
      key: `bench-abort-${label}-${process.pid}-${runId}`,
      actor: { user: 'U0ALICE' },
      runId,
      reason: 'bench',
    });
  await engine.idle();
  await store.close();

  // Start-up: `lifeboat check config` opens the store and verifies the log from its checkpoint.
  const spawnCheck = () => {
    const result = spawnSync(
      process.execPath,
      [path.join(root, 'dist/cli/lifeboat.js'), 'check', 'config'],
      {
        env: {
          ...process.env,
          LIFEBOAT_CONFIG: configFile,
          SLACK_BOT_TOKEN: 'xoxb-bench',
          SLACK_SIGNING_SECRET: 'bench',
        },
        encoding: 'utf8',
      },
    );
    if (!/audit/i.test(result.stdout + result.stderr))
      throw new Error(
        `check config said nothing of the audit log:\n${result.stdout}${result.stderr}`,
      );
  };
  const spawnBare = () => spawnSync(process.execPath, ['-e', '0']);
  await compare(
    'start-up: lifeboat check config (fresh process)',
    spawnCheck,
    'node -e 0',
    spawnBare,
  );

  // The bot, as `npm start` runs it after its build: the startup checks (the audit log from its
  // checkpoint among them), the engine taking up the runs in flight, the scheduler, and the Slack
  // app listening on PORT — timed until the port takes a connection. Slack is a stand-in.
  const slack = await startSlackStandIn();
  try {
    const serveOnce = async () => {
      const port = await freePort();
      const bot = spawn(process.execPath, [path.join(root, 'dist/src/main.js')], {
        env: {
          ...process.env,
          LIFEBOAT_CONFIG: configFile,
          SLACK_BOT_TOKEN: 'xoxb-bench',
          SLACK_SIGNING_SECRET: 'bench',
          SLACK_API_URL: slack.url,
          PORT: String(port),
          LOG_LEVEL: 'error',
        },
        stdio: 'ignore',
      });
      const exited = new Promise<number | null>((resolve) => bot.once('exit', resolve));
      try {
        for (;;) {
          if (bot.exitCode !== null) throw new Error(`the bot exited with ${bot.exitCode}`);
          if (await accepts(port)) return;
          await new Promise((resolve) => setTimeout(resolve, 2));
        }
      } finally {
        bot.kill('SIGTERM');
        await exited;
      }
    };
    await compare(
      'start-up: the bot to listening (node dist/src/main.js)',
      serveOnce,
      'node -e 0',
      spawnBare,
    );
  } finally {
    await slack.close();
  }
}

/** Whether something on loopback takes a TCP connection on `port`. */
function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

function storeBytes(): number {
  return readdirSync(dir)
    .filter((name) => name.startsWith('lifeboat.db'))
    .reduce((sum, name) => sum + statSync(path.join(dir, name)).size, 0);
}

console.log(
  `seeded store: ${RUNS.toLocaleString('en')} runs, ${CHECKS.toLocaleString('en')} check results, ${EVENTS.toLocaleString('en')} audit events, ${SERVICES} services — ${cpus().length} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}`,
);
if (!existsSync(path.join(root, 'dist/cli/lifeboat.js')))
  throw new Error('no dist/: run npm run build first');
if (existsSync(storeFile)) console.log(`  reusing ${storeFile}`);
else await seed();
{
  const store = openStore(storeFile);
  const count = (table: string) =>
    (store.db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
  const pages = (name: string) =>
    (
      store.db
        .prepare(
          `SELECT sum(pgsize) AS n FROM dbstat
           WHERE name IN (SELECT name FROM sqlite_master WHERE tbl_name = ?)`,
        )
        .get(name) as { n: number | null }
    ).n ?? 0;
  console.log(
    `  ${(storeBytes() / 2 ** 20).toFixed(0)} MiB on disk; per run ${(pages('runs') / count('runs')).toFixed(0)} bytes (+ ${(pages('runbook_snapshots') / count('runs')).toFixed(0)} of shared runbook snapshots, ${count('runbook_snapshots')} kept); per audit event ${(pages('audit_log') / Math.max(1, count('audit_log'))).toFixed(0)} bytes with its indexes`,
  );
  await store.close();
}

await measure('SQLite store', configYaml(storeFile));

if (WITH_POSTGRES) {
  const server = await startThrowawayServer();
  try {
    const copyStarted = Date.now();
    const source = openStore(storeFile);
    const yaml = configYaml(`"${server.server.url}"`);
    const config = parseConfig(yaml, path.join(dir, 'lifeboat.yml'), {});
    if (config.store.kind !== 'postgres') throw new Error('not a PostgreSQL store');
    await copyToPostgres(source, config.store);
    await source.close();
    console.log(`  store migrate --to PostgreSQL: ${seconds(copyStarted)}`);
    await measure('PostgreSQL store (local server, loopback)', yaml);
  } finally {
    await server.stop();
  }
}
if (!KEEP) rmSync(dir, { recursive: true, force: true });
