// A step's approving votes, read from the audit log (hasAuditedVotes: the walker asks it for every
// approval of a gated step, each time it looks at the step) on a log of N events over many runs:
// with the index of approving votes by subject (migration 18; migration 14 indexed every event by
// (subject, action)), against the same store at schema 13 (a scan of the whole log), and against a
// bare primary-key lookup. Alternating; min / median / max per call.
//
//   npx tsx bench/audited-votes.ts [events] [rounds]

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { hasAuditedVotes } from '../src/engine/transitions.js';
import type { ApprovalRecord } from '../src/store/approvals.js';
import { recordAuditEvents } from '../src/store/audit.js';
import { LATEST_SCHEMA, openStore, type SqliteStore } from '../src/store/db.js';
import { MIGRATIONS } from '../src/store/migrations.js';
import { formatRatio, formatSummary } from './stats.js';

const EVENTS = Number(process.argv[2] ?? 200_000);
const ROUNDS = Number(process.argv[3] ?? 7);
const CALLS = 100;
const PER_RUN = 20;

const approval = {
  id: 'a-target',
  runId: 'r-target',
  requestedBy: 'U0ALICE',
  required: 1,
} as ApprovalRecord;

async function seeded(file: string, upTo: number): Promise<SqliteStore> {
  const store = openStore(file, { migrations: MIGRATIONS.filter((m) => m.version <= upTo) });
  let tick = Date.parse('2025-01-01T00:00:00Z');
  for (let start = 0; start < EVENTS; start += 10_000) {
    const batch = Array.from({ length: Math.min(10_000, EVENTS - start) }, (_, i) => {
      const n = start + i;
      const run = `r-${Math.floor(n / PER_RUN)}`;
      return {
        actor: n % 2 ? 'U0BOB' : 'U0ALICE',
        action: n % PER_RUN === 3 ? 'approval.granted' : 'step.done',
        subject: run,
        details: { approval: `a-${run}`, step: n % PER_RUN },
      };
    });
    await recordAuditEvents(store, batch, () => new Date((tick += 1000)));
  }
  await recordAuditEvents(store, [
    {
      actor: 'U0BOB',
      action: 'approval.granted',
      subject: 'r-target',
      details: { approval: 'a-target' },
    },
  ]);
  return store;
}

const dir = mkdtempSync(path.join(tmpdir(), 'lifeboat-bench-votes-'));
try {
  const indexed = await seeded(path.join(dir, 'indexed.db'), LATEST_SCHEMA);
  const scanned = await seeded(path.join(dir, 'scanned.db'), 13);
  const bare = indexed.db.prepare('SELECT seq FROM audit_log WHERE seq = ?');
  const time = async (work: () => unknown) => {
    const start = process.hrtime.bigint();
    for (let i = 0; i < CALLS; i++) await work();
    return Number(process.hrtime.bigint() - start) / 1e6 / CALLS;
  };
  const sides = {
    indexed: () => hasAuditedVotes(indexed, approval),
    scanned: () => hasAuditedVotes(scanned, approval),
    bare: () => bare.get(EVENTS),
  };
  if (!(await sides.indexed()) || !(await sides.scanned()))
    throw new Error('the vote was not found');
  const figures: Record<keyof typeof sides, number[]> = { indexed: [], scanned: [], bare: [] };
  for (const work of Object.values(sides)) await time(work); // warm-up
  for (let round = 0; round < ROUNDS; round++)
    for (const [name, work] of Object.entries(sides))
      figures[name as keyof typeof sides].push(await time(work));
  await indexed.close();
  await scanned.close();
  console.log(
    `a step's approving votes from an audit log of ${EVENTS.toLocaleString('en')} events, per call, ${ROUNDS} rounds of ${CALLS}`,
  );
  const micros = (values: number[]) => values.map((ms) => ms * 1000);
  console.log(
    formatSummary('hasAuditedVotes, index of the votes by subject', micros(figures.indexed), 'µs'),
  );
  console.log(
    formatSummary('the same at schema 13 (no index: a scan)', micros(figures.scanned), 'µs'),
  );
  console.log(formatSummary('bare primary-key lookup', micros(figures.bare), 'µs'));
  console.log(
    `  the scan against the index:${formatRatio(figures.scanned, figures.indexed).replace(/\(.*\)/, '')}`,
  );
  console.log(
    `  the index against the bare lookup:${formatRatio(figures.indexed, figures.bare).replace(/\(.*\)/, '')}`,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
