// Every command into the engine carries a key; a key seen before returns the first answer instead
// of acting again (Slack redelivers, people double-click).

import type { Db } from './db.js';

export interface StoredOutcome {
  command: string;
  runId: string | null;
  result: { ok: true; message: string } | { ok: false; gate: string; reason: string };
}

export function findOutcome(db: Db, key: string): StoredOutcome | null {
  const row = db
    .prepare('SELECT command, run_id, result FROM idempotency_keys WHERE key = ?')
    .get(key) as { command: string; run_id: string | null; result: string } | undefined;
  if (!row) return null;
  return {
    command: row.command,
    runId: row.run_id,
    result: JSON.parse(row.result) as StoredOutcome['result'],
  };
}

export function storeOutcome(db: Db, key: string, outcome: StoredOutcome, at: string): void {
  db.prepare(
    'INSERT INTO idempotency_keys (key, command, run_id, result, at) VALUES (?, ?, ?, ?, ?)',
  ).run(key, outcome.command, outcome.runId, JSON.stringify(outcome.result), at);
}
