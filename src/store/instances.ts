// The lifeboat processes serving this store (one per host or region), each seen every few
// seconds: what `/dr status` and `lifeboat status` show (beside who walks each run, from
// engine/executor-lease.ts), so the team knows which instance would carry on if this one died.

import type { Sql } from './db.js';

export interface InstanceRecord {
  id: string;
  version: string;
  startedAt: string;
  lastSeen: string;
}

/** Instances not seen for a day are forgotten when another one starts. */
const FORGET_AFTER_MS = 86_400_000;

export async function registerInstance(
  db: Sql,
  id: string,
  version: string,
  now: Date,
): Promise<void> {
  const at = now.toISOString();
  await db.run(
    'DELETE FROM instances WHERE last_seen < ?',
    new Date(now.getTime() - FORGET_AFTER_MS).toISOString(),
  );
  await db.run(
    `INSERT INTO instances (id, version, started_at, last_seen) VALUES (?, ?, ?, ?)
     ON CONFLICT (id) DO UPDATE SET version = excluded.version, last_seen = excluded.last_seen`,
    id,
    version,
    at,
    at,
  );
}

export async function touchInstance(db: Sql, id: string, now: Date): Promise<void> {
  await db.run('UPDATE instances SET last_seen = ? WHERE id = ?', now.toISOString(), id);
}

/** A clean stop: the instance is gone, not missing. */
export async function removeInstance(db: Sql, id: string): Promise<void> {
  await db.run('DELETE FROM instances WHERE id = ?', id);
}

export function listInstances(db: Sql): Promise<InstanceRecord[]> {
  return db.all<InstanceRecord>(
    `SELECT id, version, started_at AS "startedAt", last_seen AS "lastSeen" FROM instances
     ORDER BY started_at`,
  );
}
