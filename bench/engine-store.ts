// The engine on its store, with no side effects: a run of a 10-step manual runbook started,
// every step completed by a person, the run read back as /dr status shows it — each command one
// transaction with its audit events, as in a drill. On the SQLite store and, with --postgres, on
// a PostgreSQL store (a throwaway local server), against a bare baseline: the same number of
// one-row transactions on SQLite. Rounds alternate; min / median / max per run.
//
// Without --postgres the script runs against an older checkout too (it awaits what may be
// synchronous there), which is how "the SQLite store after the async interface, against before"
// was measured:
//   npx tsx bench/engine-store.ts [runs per round] [rounds] [--postgres]

import Database from 'better-sqlite3';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseConfig } from '../src/config.js';
import { Engine } from '../src/engine/engine.js';
import { resolveRunbookByName } from '../src/runbook/library.js';
import { createServiceProviders } from '../src/providers/index.js';
import { openStore, type Store } from '../src/store/db.js';
import { openStoreAt } from '../src/store/open.js';
import { startThrowawayServer } from '../src/providers/postgres/servers.js';
import { formatRatio, formatSummary } from './stats.js';

const args = process.argv.slice(2).filter((arg) => arg !== '--postgres');
const RUNS = Number(args[0] ?? 100);
const ROUNDS = Number(args[1] ?? 9);
const WITH_POSTGRES = process.argv.includes('--postgres');
const STEPS = 10;

const dir = mkdtempSync(path.join(tmpdir(), 'lifeboat-bench-engine-'));
try {
  mkdirSync(path.join(dir, 'runbooks'));
  const steps = Array.from({ length: STEPS }, (_, i) => `${i + 1}. Check item ${i} by hand`);
  writeFileSync(
    path.join(dir, 'runbooks', 'tabletop.md'),
    `---\ntitle: Tabletop\nkind: drill\n---\n## Walk through (30 minutes)\n${steps.join('\n')}\n`,
  );
  const config = parseConfig(
    'approvals: { approvers: [U0ALICE, U0BOB], required: 1 }\nservices: {}\n',
    path.join(dir, 'lifeboat.yml'),
    {},
  );
  let tick = Date.parse('2026-06-01T00:00:00Z');
  const engineOn = (store: Store) =>
    new Engine({
      store,
      config,
      clock: () => new Date((tick += 1000)),
      loadRunbook: (name) => resolveRunbookByName(name, path.join(dir, 'runbooks')),
      providersFor: (service, kind, promote) => createServiceProviders(service, kind, { promote }),
      sleep: () => Promise.resolve(),
    });
  let n = 0;
  const runOn = (engine: Engine) => async () => {
    n += 1;
    const started = await engine.startRun({
      key: `start-${n}`,
      actor: { user: 'U0ALICE' },
      runbook: 'tabletop',
    });
    for (let step = 0; step < STEPS; step++) {
      await engine.completeStep({
        key: `done-${n}-${step}`,
        actor: { user: 'U0ALICE' },
        runId: started.runId,
        stepIndex: step,
      });
    }
    await engine.idle();
    const view = await engine.getRun(started.runId);
    if (view.run.status !== 'succeeded') throw new Error(`run ended ${view.run.status}`);
  };
  const sqlite = openStore(path.join(dir, 'lifeboat.db'));
  const oneRun = runOn(engineOn(sqlite));
  const server = WITH_POSTGRES ? await startThrowawayServer() : null;
  const postgres = server
    ? await openStoreAt({ kind: 'postgres', url: server.server.url, schema: 'bench' })
    : null;
  const onPostgres = postgres ? runOn(engineOn(postgres)) : null;

  const bareDb = new Database(path.join(dir, 'bare.db'));
  bareDb.pragma('journal_mode = WAL');
  bareDb.pragma('synchronous = FULL');
  bareDb.exec('CREATE TABLE log (seq INTEGER PRIMARY KEY, at TEXT, body TEXT)');
  const insert = bareDb.prepare('INSERT INTO log (at, body) VALUES (?, ?)');
  const body = 'x'.repeat(300);
  const bareRun = () => {
    for (let i = 0; i < STEPS + 1; i++)
      bareDb.transaction(() => insert.run(new Date().toISOString(), body)).immediate();
  };

  const time = async (work: () => unknown) => {
    const start = process.hrtime.bigint();
    for (let i = 0; i < RUNS; i++) await work();
    return Number(process.hrtime.bigint() - start) / 1e6 / RUNS;
  };
  await time(oneRun); // warm-up
  await time(bareRun);
  if (onPostgres) await time(onPostgres);
  const ours: number[] = [];
  const bare: number[] = [];
  const pg: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    ours.push(await time(oneRun));
    if (onPostgres) pg.push(await time(onPostgres));
    bare.push(await time(bareRun));
  }
  await sqlite.close();
  await postgres?.close();
  await server?.stop();
  bareDb.close();
  console.log(
    `a ${STEPS}-step manual run, start to finished and read back, per run; ${ROUNDS} rounds of ${RUNS} runs`,
  );
  const asMicros = (values: number[]) => values.map((ms) => ms * 1000);
  console.log(
    formatSummary(`lifeboat engine, SQLite store (${STEPS + 1} commands)`, asMicros(ours), 'µs'),
  );
  console.log(formatSummary(`bare: ${STEPS + 1} one-row transactions`, asMicros(bare), 'µs'));
  console.log(formatRatio(ours, bare).replace(/\(.*\)/, ''));
  if (pg.length) {
    console.log(
      formatSummary('lifeboat engine, PostgreSQL store (local server)', asMicros(pg), 'µs'),
    );
    console.log(`  PostgreSQL against SQLite:${formatRatio(pg, ours).replace(/\(.*\)/, '')}`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
