// Every command into the engine carries a key; a key seen before returns the first answer instead
// of acting again (Slack redelivers, people double-click).

import type { Sql } from './db.js';

export interface StoredOutcome {
  command: string;
  runId: string | null;
  result: { ok: true; message: string } | { ok: false; gate: string; reason: string };
}

export async function findOutcome(db: Sql, key: string): Promise<StoredOutcome | null> {
  const row = await db.get<{ command: string; run_id: string | null; result: string }>(
    'SELECT command, run_id, result FROM idempotency_keys WHERE key = ?',
    key,
  );
  if (!row) return null;
  return {
    command: row.command,
    runId: row.run_id,
    result: JSON.parse(row.result) as StoredOutcome['result'],
  };
}

export async function storeOutcome(
  db: Sql,
  key: string,
  outcome: StoredOutcome,
  at: string,
): Promise<void> {
  await db.run(
    'INSERT INTO idempotency_keys (key, command, run_id, result, at) VALUES (?, ?, ?, ?, ?)',
    key,
    outcome.command,
    outcome.runId,
    JSON.stringify(outcome.result),
    at,
  );
}
