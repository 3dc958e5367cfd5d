// Foundation figures: parsing a 1,000-step runbook, and appending 100,000 audit events in batches
// and 10,000 one at a time. Each is set against a bare baseline run in the same process, the two
// sides alternating round by round after a warm-up: mdast alone for the parser, plain INSERTs
// (same table shape and pragmas, no hashing, no chain) for the audit log. Prints min / median /
// max of each side and the ratio of the medians.
//
//   npm run bench            (or: npx tsx bench/foundation.ts [events])

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fromMarkdown } from 'mdast-util-from-markdown';
import { gfmTaskListItemFromMarkdown } from 'mdast-util-gfm-task-list-item';
import { gfmTaskListItem } from 'micromark-extension-gfm-task-list-item';
import { parseRunbook } from '../src/runbook/parse.js';
import {
  recordAuditEvent,
  recordAuditEvents,
  verifyAuditLog,
  type AuditEvent,
} from '../src/store/audit.js';
import { openStore, type Db } from '../src/store/db.js';
import { alternate, formatRatio, formatSummary, summarize, timeMs } from './stats.js';

const EVENTS = Number(process.argv[2] ?? 100_000);
const BATCH = 1000;
const ROUNDS = 7;
const HEX64 = 'f'.repeat(64);

function bigRunbook(steps: number): string {
  const actions = ['db.check-lag', 'http.check', 'wait', 'notify', 'dns.verify'];
  const lines = ['---', 'title: Synthetic', 'kind: drill', '---', '# Synthetic runbook', ''];
  for (let phase = 0; phase < steps / 10; phase++) {
    lines.push(`## Phase ${phase + 1}: Work (15 minutes)`);
    for (let step = 0; step < 10; step++) {
      const n = phase * 10 + step;
      const action = n % 3 === 0 ? ` \`action: ${actions[n % actions.length]}\`` : '';
      lines.push(
        step < 2
          ? `- [ ] Checklist item ${n}`
          : `${step}. Do the thing number ${n} on \`host-${n}\`${action}`,
      );
    }
    lines.push('');
  }
  return lines.join('\n');
}

async function benchParser(): Promise<void> {
  const source = bigRunbook(1000);
  const parsed = parseRunbook(source, 'synthetic.md');
  const steps = parsed.phases.reduce((sum, phase) => sum + phase.steps.length, 0);
  const [ours, bare] = await alternate(
    21,
    () => parseRunbook(source, 'synthetic.md'),
    () =>
      fromMarkdown(source, {
        extensions: [gfmTaskListItem()],
        mdastExtensions: [gfmTaskListItemFromMarkdown()],
      }),
  );
  console.log(
    `parse a ${steps}-step runbook (${(source.length / 1024).toFixed(0)} KiB), 21 rounds`,
  );
  console.log(formatSummary('lifeboat parseRunbook', ours));
  console.log(formatSummary('bare mdast fromMarkdown', bare));
  console.log(formatRatio(ours, bare));
}

function events(count: number): AuditEvent[] {
  return Array.from({ length: count }, (_, i) => ({
    actor: i % 2 ? 'U0BOB' : 'U0ALICE',
    action: 'step.done',
    subject: `r-${i % 50}`,
    details: { step: i % 40, note: 'bench' },
  }));
}

/** The baseline: the same columns, same pragmas, no hash and no chain lookup. */
function bareTable(db: Db): (rows: AuditEvent[]) => void {
  db.exec(
    'CREATE TABLE bare_log (seq INTEGER PRIMARY KEY, at TEXT, actor TEXT, action TEXT, subject TEXT, details TEXT, prev_hash TEXT, hash TEXT)',
  );
  const insert = db.prepare(
    'INSERT INTO bare_log (at, actor, action, subject, details, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?)',
  );
  return db.transaction((rows: AuditEvent[]) => {
    const at = new Date().toISOString();
    // Same bytes as the real rows: two 64-character hex strings per event.
    for (const row of rows)
      insert.run(at, row.actor, row.action, row.subject, JSON.stringify(row.details), HEX64, HEX64);
  });
}

async function benchAudit(dir: string, mode: 'batched' | 'single'): Promise<void> {
  const total = mode === 'batched' ? EVENTS : Math.max(ROUNDS, Math.floor(EVENTS / 10));
  const perRound = Math.floor(total / (ROUNDS + 1)); // + 1: the warm-up round
  const all = events(perRound);
  const store = openStore(path.join(dir, `${mode}.db`));
  const bare = bareTable(store.db);
  const step = mode === 'batched' ? BATCH : 1;
  const [ours, baseline] = await alternate(
    ROUNDS,
    async () => {
      for (let i = 0; i < all.length; i += step) {
        if (step === 1) await recordAuditEvent(store, all[i]!);
        else await recordAuditEvents(store, all.slice(i, i + step));
      }
    },
    () => {
      for (let i = 0; i < all.length; i += step) bare(all.slice(i, i + step));
    },
  );
  const appended = perRound * (ROUNDS + 1);
  const verifyMs = await timeMs(async () => {
    const result = await verifyAuditLog(store);
    if (!result.ok || result.count !== appended)
      throw new Error(`chain broken after the bench: ${JSON.stringify(result)}`);
  });
  await store.close();
  const label = mode === 'batched' ? `in batches of ${BATCH}` : 'one per transaction';
  console.log(
    `append ${perRound.toLocaleString('en')} audit events ${label} per round, ${ROUNDS} rounds each side (WAL, synchronous=FULL)`,
  );
  console.log(formatSummary('lifeboat hash-chained', ours));
  console.log(formatSummary('bare INSERT', baseline));
  console.log(formatRatio(ours, baseline));
  const rate = (ms: number) => Math.round((perRound / ms) * 1000).toLocaleString('en');
  console.log(
    `  median rates: ${rate(summarize(ours).median)} vs ${rate(summarize(baseline).median)} events/s`,
  );
  if (mode === 'batched')
    console.log(
      `  audit verify of the whole chain (${appended.toLocaleString('en')} events) ${(verifyMs / 1000).toFixed(2)} s`,
    );
}

const dir = mkdtempSync(path.join(tmpdir(), 'lifeboat-bench-'));
try {
  await benchParser();
  await benchAudit(dir, 'batched');
  await benchAudit(dir, 'single');
} finally {
  rmSync(dir, { recursive: true, force: true });
}
