// The runs in flight, as every run start and every `/dr status` reads them, on a store with a year
// or two of history: N finished runs (each with its ~5 KB runbook snapshot) and one in flight.
// listRunsInFlight (the in-flight index, no snapshots) against the query it replaced (a scan of
// every run, snapshots read), and against a bare primary-key lookup, alternating; min / median /
// max of 200 calls per round.
//
//   npx tsx bench/runs-in-flight.ts [finished runs] [rounds]

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseRunbook } from '../src/runbook/parse.js';
import { openStore } from '../src/store/db.js';
import { finishRun, insertRun, listRunsInFlight } from '../src/store/runs.js';
import { formatRatio, formatSummary } from './stats.js';

const RUNS = Number(process.argv[2] ?? 10_000);
const ROUNDS = Number(process.argv[3] ?? 7);
const CALLS = 200;

const steps = Array.from(
  { length: 40 },
  (_, i) => `${i + 1}. Check the replica of region ${i} and write down what the dashboard says`,
).join('\n');
const runbook = parseRunbook(
  `---\ntitle: Failover\nkind: failover\nservice: payments-db\n---\n## Go (15 minutes)\n${steps}\n`,
  'runbooks/failover.md',
);

const dir = mkdtempSync(path.join(tmpdir(), 'lifeboat-bench-inflight-'));
try {
  const store = openStore(path.join(dir, 'lifeboat.db'));
  const db = store.db;
  await store.transaction(async () => {
    for (let i = 0; i <= RUNS; i++) {
      const startedAt = new Date(Date.parse('2025-01-01T00:00:00Z') + i * 3_600_000);
      await insertRun(store, {
        id: `r-${i}`,
        runbook,
        service: i % 50 === 0 ? 'payments-db' : `service-${i % 50}`,
        kind: i % 3 ? 'drill' : 'failover',
        startedBy: 'U0ALICE',
        startedAt,
        impactAt: startedAt,
        idempotencyKey: `k-${i}`,
      });
      if (i < RUNS)
        await finishRun(store, `r-${i}`, {
          status: 'succeeded',
          finishedAt: startedAt,
          rtoSeconds: 600,
        });
    }
  });
  const snapshotKb = (
    db.prepare('SELECT avg(length(body)) AS n FROM runbook_snapshots').get() as { n: number }
  ).n;
  const before = db.prepare(
    // NOT INDEXED: as it ran before the in-flight index existed (no index could serve it).
    "SELECT * FROM runs NOT INDEXED WHERE status IN ('running', 'waiting') AND (? IS NULL OR service = ?) ORDER BY started_at, rowid",
  );
  const bare = db.prepare('SELECT id FROM runs WHERE id = ?');
  const time = async (work: () => unknown) => {
    const start = process.hrtime.bigint();
    for (let i = 0; i < CALLS; i++) await work();
    return Number(process.hrtime.bigint() - start) / 1e6 / CALLS;
  };
  const sides = {
    ours: () => listRunsInFlight(store),
    ourService: () => listRunsInFlight(store, 'payments-db'),
    before: () => before.all(null, null),
    bare: () => bare.get(`r-${RUNS}`),
  };
  for (const work of Object.values(sides)) await time(work); // warm-up
  const figures: Record<keyof typeof sides, number[]> = {
    ours: [],
    ourService: [],
    before: [],
    bare: [],
  };
  for (let round = 0; round < ROUNDS; round++)
    for (const [name, work] of Object.entries(sides))
      figures[name as keyof typeof sides].push(await time(work));
  if ((await listRunsInFlight(store)).length !== 1) throw new Error('expected one run in flight');
  await store.close();
  console.log(
    `runs in flight on a store of ${RUNS.toLocaleString('en')} finished runs (their runbook snapshot ${(snapshotKb / 1024).toFixed(1)} KB, stored once), per call, ${ROUNDS} rounds of ${CALLS}`,
  );
  const rows: [string, number[]][] = [
    ['listRunsInFlight() — every service', figures.ours],
    ["listRunsInFlight('payments-db')", figures.ourService],
    ['the query it replaced (scan, snapshots read)', figures.before],
    ['bare primary-key lookup', figures.bare],
  ];
  for (const [label, values] of rows)
    console.log(
      formatSummary(
        label,
        values.map((ms) => ms * 1000),
        'µs',
      ),
    );
  console.log(
    `  against the bare lookup:${formatRatio(figures.ours, figures.bare).replace(/\(.*\)/, '')}`,
  );
  console.log(
    `  the replaced query against ours:${formatRatio(figures.before, figures.ours).replace(/\(.*\)/, '')}`,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
