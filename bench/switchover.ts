// A planned switchover on real PostgreSQL pairs: fence → caught up → promoted → writable, through
// the engine (gates, approvals given at once by a second person, every transition committed and
// audited, each action verified), against the same SQL done bare on an identical pair in the same
// process. Rounds alternate which side goes first; the first round is a warm-up and not counted.
//
//   npx tsx bench/switchover.ts [rounds]     (default 5 counted rounds)

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { parseConfig } from '../src/config.js';
import { createEngine } from '../src/engine/create.js';
import { startPostgresPair, type PostgresPair } from '../src/providers/postgres/servers.js';
import { lsnToBigInt } from '../src/providers/postgres/connect.js';
import { formatRatio, formatSummary } from './stats.js';

const ROUNDS = Math.max(5, Number(process.argv[2] ?? 5));
const runbook = `---
title: Switchover
kind: switchover
service: payments-db
---
## Switch over (5 minutes)
1. Fence \`action: db.fence\`
2. Catch up \`action: db.catch-up 1m\`
3. Promote \`action: db.promote\`
4. Write \`action: db.verify-writable\`
`;

async function prepared(): Promise<PostgresPair> {
  const pair = await startPostgresPair();
  await query(pair.primary.url, 'CREATE TABLE payments (id serial PRIMARY KEY, amount int)');
  await query(
    pair.primary.url,
    'INSERT INTO payments (amount) SELECT 1 FROM generate_series(1, 1000)',
  );
  return pair;
}

async function query<T extends pg.QueryResultRow>(url: string, text: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(text)).rows;
  } finally {
    await client.end();
  }
}

/** The same steps by hand: fence, wait for the setting, end sessions, LSN, catch up, promote, write. */
async function bare(pair: PostgresPair): Promise<number> {
  const start = process.hrtime.bigint();
  await query(pair.primary.url, 'ALTER SYSTEM SET default_transaction_read_only = on');
  await query(pair.primary.url, 'SELECT pg_reload_conf()');
  const setting = "SELECT current_setting('default_transaction_read_only') AS v";
  while ((await query<{ v: string }>(pair.primary.url, setting))[0]!.v !== 'on');
  const [{ lsn } = { lsn: '0/0' }] = await query<{ lsn: string }>(
    pair.primary.url,
    `WITH c AS MATERIALIZED (SELECT pid FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid())
     SELECT (SELECT count(*) FROM c WHERE pg_terminate_backend(pid)) AS ended, pg_current_wal_lsn()::text AS lsn`,
  );
  const refused = await query(pair.primary.url, 'CREATE TABLE refused (id int)').then(
    () => false,
    () => true,
  );
  if (!refused) throw new Error('the bare fence did not hold');
  for (;;) {
    const [row] = await query<{ lsn: string }>(
      pair.standby.url,
      'SELECT pg_last_wal_replay_lsn()::text AS lsn',
    );
    if (lsnToBigInt(row!.lsn) >= lsnToBigInt(lsn)) break;
  }
  await query(pair.standby.url, 'SELECT pg_promote(true, 60)');
  await query(pair.standby.url, 'INSERT INTO payments (amount) VALUES (1)');
  return Number(process.hrtime.bigint() - start) / 1e6;
}

async function throughEngine(pair: PostgresPair, dir: string): Promise<number> {
  mkdirSync(path.join(dir, 'runbooks'), { recursive: true });
  writeFileSync(path.join(dir, 'runbooks', 'switchover.md'), runbook);
  const yaml = `approvals: { approvers: [U0ALICE, U0BOB] }
services:
  payments-db:
    rto: 15m
    rpo: 1m
    database: { provider: postgres, primary: "${pair.primary.url}", replica: "${pair.standby.url}" }
`;
  const engine = await createEngine(parseConfig(yaml, path.join(dir, 'lifeboat.yml')));
  // The second person approves the moment a request appears.
  engine.on(async (event) => {
    if (event.type !== 'approval.requested') return;
    await engine.decideApproval({
      key: `approve-${event.approval.id}`,
      actor: { user: 'U0BOB' },
      approvalId: event.approval.id,
      decision: 'approve',
    });
  });
  // Timed to the run's end: idle() alone can return between the request and the approval the
  // listener above gives (nothing is being driven in that moment).
  const finished = new Promise<void>((resolve, reject) => {
    const stuck = setTimeout(
      () => reject(new Error('the switchover did not end within 60 s')),
      60_000,
    );
    engine.on((event) => {
      if (event.type !== 'run.finished') return;
      clearTimeout(stuck);
      resolve();
    });
  });
  const start = process.hrtime.bigint();
  const { runId } = await engine.startRun({
    key: 'bench',
    actor: { user: 'U0ALICE' },
    runbook: 'switchover',
  });
  await finished;
  await engine.idle();
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  const view = await engine.getRun(runId);
  if (view.run.status !== 'succeeded' || view.run.rpoExposureBytes !== 0)
    throw new Error(
      `the switchover did not succeed with 0 bytes lost: ${JSON.stringify(view.current ?? view.run)}`,
    );
  await engine.store.close();
  return ms;
}

const root = mkdtempSync(path.join(tmpdir(), 'lifeboat-bench-switchover-'));
const engineMs: number[] = [];
const bareMs: number[] = [];
try {
  for (let round = 0; round <= ROUNDS; round++) {
    const [a, b] = await Promise.all([prepared(), prepared()]);
    try {
      const dir = path.join(root, `r${round}`);
      const [ours, baseline] =
        round % 2 === 0
          ? [await throughEngine(a, dir), await bare(b)]
          : await (async () => {
              const baseline = await bare(b);
              return [await throughEngine(a, dir), baseline];
            })();
      if (round === 0) continue; // warm-up
      engineMs.push(ours);
      bareMs.push(baseline);
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
  }
} finally {
  rmSync(root, { recursive: true, force: true });
}
console.log(`planned switchover on a real PostgreSQL pair, ${ROUNDS} rounds after a warm-up`);
console.log(formatSummary('lifeboat: fence → caught up → promoted → writable', engineMs));
console.log(formatSummary('bare SQL: the same steps, no engine', bareMs));
console.log(formatRatio(engineMs, bareMs));
