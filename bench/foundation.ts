// Foundation figures: parsing a 1,000-step runbook, and appending 100,000 audit events in batches
// and one at a time. Each is set against a bare baseline run in the same process: mdast alone for
// the parser, plain INSERTs (same table shape and pragmas, no hashing, no chain) for the audit log.
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

const EVENTS = Number(process.argv[2] ?? 100_000);
const BATCH = 1000;
const HEX64 = 'f'.repeat(64);

function timeMs(fn: () => void): number {
  const start = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - start) / 1e6;
}

/** Median of `runs` timings, after one warm-up. */
function medianMs(runs: number, fn: () => void): number {
  fn();
  const times = Array.from({ length: runs }, () => timeMs(fn)).sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)] ?? 0;
}

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

function benchParser(): void {
  const source = bigRunbook(1000);
  const parsed = parseRunbook(source, 'synthetic.md');
  const steps = parsed.phases.reduce((sum, phase) => sum + phase.steps.length, 0);
  const ours = medianMs(21, () => parseRunbook(source, 'synthetic.md'));
  const bare = medianMs(21, () =>
    fromMarkdown(source, {
      extensions: [gfmTaskListItem()],
      mdastExtensions: [gfmTaskListItemFromMarkdown()],
    }),
  );
  console.log(`parse a ${steps}-step runbook (${(source.length / 1024).toFixed(0)} KiB)`);
  console.log(`  lifeboat parseRunbook   ${ours.toFixed(1)} ms`);
  console.log(`  bare mdast fromMarkdown ${bare.toFixed(1)} ms`);
  console.log(`  ratio                   ${(ours / bare).toFixed(2)}x`);
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

function benchAudit(dir: string, mode: 'batched' | 'single'): void {
  const all = events(EVENTS);
  const store = openStore(path.join(dir, `${mode}.db`));
  const bare = bareTable(store.db);
  const step = mode === 'batched' ? BATCH : 1;
  const ours = timeMs(() => {
    for (let i = 0; i < all.length; i += step) {
      if (step === 1) recordAuditEvent(store.db, all[i]!);
      else recordAuditEvents(store.db, all.slice(i, i + step));
    }
  });
  const baseline = timeMs(() => {
    for (let i = 0; i < all.length; i += step) bare(all.slice(i, i + step));
  });
  const verifyMs = timeMs(() => {
    const result = verifyAuditLog(store.db);
    if (!result.ok || result.count !== EVENTS)
      throw new Error(`chain broken after the bench: ${JSON.stringify(result)}`);
  });
  store.close();
  const rate = (ms: number) => Math.round((EVENTS / ms) * 1000).toLocaleString('en');
  const label = mode === 'batched' ? `in batches of ${BATCH}` : 'one per transaction';
  console.log(
    `append ${EVENTS.toLocaleString('en')} audit events ${label} (WAL, synchronous=FULL)`,
  );
  console.log(`  lifeboat hash-chained   ${rate(ours)} events/s (${(ours / 1000).toFixed(2)} s)`);
  console.log(
    `  bare INSERT             ${rate(baseline)} events/s (${(baseline / 1000).toFixed(2)} s)`,
  );
  console.log(`  ratio                   ${(ours / baseline).toFixed(2)}x the bare time`);
  if (mode === 'batched')
    console.log(`  audit verify of the chain ${(verifyMs / 1000).toFixed(2)} s`);
}

const dir = mkdtempSync(path.join(tmpdir(), 'lifeboat-bench-'));
try {
  benchParser();
  benchAudit(dir, 'batched');
  benchAudit(dir, 'single');
} finally {
  rmSync(dir, { recursive: true, force: true });
}
