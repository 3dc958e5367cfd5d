// `lifeboat store migrate --to postgres://…`: the team that outgrows one box moves its SQLite
// store, whole, to PostgreSQL — every run, step, approval, note and check result, and the audit
// chain event for event, proven on both sides (the chain verifies in PostgreSQL, with the same
// head hash and length as in SQLite) before lifeboat says it is done. Everything is copied in one
// PostgreSQL transaction: a copy that fails leaves the target as empty as it was.

import type { StoreLocation } from '../config.js';
import { StoreError } from '../errors.js';
import { verifyAuditLog } from './audit.js';
import type { SqliteStore, Store } from './db.js';
import { openStoreAt } from './open.js';

/** The tables in an order that respects their references; `instances` are live processes, not copied. */
const TABLES = [
  'runbook_snapshots',
  'runs',
  'run_steps',
  'step_events',
  'approvals',
  'approval_votes',
  'notes',
  'slack_messages',
  'idempotency_keys',
  'audit_log',
  'audit_head',
  'audit_checkpoint',
  'check_results',
  'check_alerts',
  'schedule_leases',
  'schedule_slots',
  'protection_episodes',
] as const;

/** Tables whose integer ids are copied as they are: their sequences then start after the last. */
const IDENTITIES = ['step_events', 'notes', 'check_results', 'protection_episodes'] as const;

/** Rows per INSERT: well under PostgreSQL's 65,535 parameters for the widest table. */
const BATCH = 500;

export interface MigrationReport {
  rows: Record<string, number>;
  auditEvents: number;
  headHash: string | null;
}

export async function copyToPostgres(
  source: SqliteStore,
  target: StoreLocation & { kind: 'postgres' },
): Promise<MigrationReport> {
  const before = await verifyAuditLog(source);
  if (!before.ok)
    throw new StoreError(
      source.file,
      `its audit log is broken at event #${before.brokenAt} (${before.reason}): a broken chain is not copied — run lifeboat audit verify`,
    );
  const store = await openStoreAt(target);
  try {
    const existing = await store.get<{ n: number }>(
      'SELECT (SELECT count(*) FROM runs) + (SELECT count(*) FROM audit_log) AS n',
    );
    if ((existing?.n ?? 0) > 0)
      throw new StoreError(
        store.location,
        'already holds runs or audit events: lifeboat copies a store only into an empty one',
      );
    const rows: Record<string, number> = {};
    await store.transaction(async () => {
      for (const table of TABLES) rows[table] = await copyTable(source, store, table);
      for (const table of IDENTITIES)
        await store.run(
          `SELECT setval(pg_get_serial_sequence('${table}', 'id'), COALESCE((SELECT MAX(id) FROM ${table}), 0) + 1, false)`,
        );
    });
    const after = await verifyAuditLog(store);
    if (!after.ok || after.count !== before.count || after.headHash !== before.headHash)
      throw new StoreError(
        store.location,
        `the copied audit log does not match the original (${after.ok ? `${after.count} events, head ${after.headHash}` : `broken at #${after.brokenAt}: ${after.reason}`}; the original has ${before.count}, head ${before.headHash})`,
      );
    for (const table of TABLES) {
      const copied = await store.get<{ n: number }>(`SELECT count(*) AS n FROM ${table}`);
      if (copied?.n !== rows[table])
        throw new StoreError(
          store.location,
          `${table} holds ${copied?.n} rows after the copy, not ${rows[table]}`,
        );
    }
    // The planner's statistics of what was just copied. Without them PostgreSQL plans the first
    // queries on a table of years of history as on an empty one (/dr status on the seeded store:
    // 134 ms, 32 after ANALYZE) until autovacuum gets round to it, minutes after lifeboat starts.
    for (const table of TABLES) await store.run(`ANALYZE ${table}`);
    return {
      rows,
      auditEvents: after.count,
      headHash: after.count > 0 ? after.headHash : null,
    };
  } finally {
    await store.close();
  }
}

/** One table, in SQLite's insertion order (what `rowid` orders by on both sides). */
async function copyTable(source: SqliteStore, target: Store, table: string): Promise<number> {
  const columns = (source.db.pragma(`table_info(${table})`) as { name: string }[]).map(
    (column) => column.name,
  );
  const select = source.db.prepare(`SELECT ${columns.join(', ')} FROM ${table} ORDER BY rowid`);
  let batch: unknown[][] = [];
  let count = 0;
  const flush = async () => {
    if (batch.length === 0) return;
    const row = `(${columns.map(() => '?').join(', ')})`;
    await target.run(
      `INSERT INTO ${table} (${columns.join(', ')}) VALUES ${batch.map(() => row).join(', ')}`,
      ...batch.flat(),
    );
    count += batch.length;
    batch = [];
  };
  for (const values of select.raw().iterate() as IterableIterator<unknown[]>) {
    batch.push(values);
    if (batch.length === BATCH) await flush();
  }
  await flush();
  return count;
}
