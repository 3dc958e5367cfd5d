// The lifeboat processes serving this store (one per host or region), each seen every few
// seconds: what `/dr status` and `lifeboat status` show (beside who walks each run, from
// engine/executor-lease.ts), so the team knows which instance would carry on if this one died.

import type { Db } from './db.js';

export interface InstanceRecord {
  id: string;
  version: string;
  startedAt: string;
  lastSeen: string;
}

/** Instances not seen for a day are forgotten when another one starts. */
const FORGET_AFTER_MS = 86_400_000;

export function registerInstance(db: Db, id: string, version: string, now: Date): void {
  const at = now.toISOString();
  db.prepare('DELETE FROM instances WHERE last_seen < ?').run(
    new Date(now.getTime() - FORGET_AFTER_MS).toISOString(),
  );
  db.prepare(
    `INSERT INTO instances (id, version, started_at, last_seen) VALUES (?, ?, ?, ?)
     ON CONFLICT (id) DO UPDATE SET version = excluded.version, last_seen = excluded.last_seen`,
  ).run(id, version, at, at);
}

export function touchInstance(db: Db, id: string, now: Date): void {
  db.prepare('UPDATE instances SET last_seen = ? WHERE id = ?').run(now.toISOString(), id);
}

/** A clean stop: the instance is gone, not missing. */
export function removeInstance(db: Db, id: string): void {
  db.prepare('DELETE FROM instances WHERE id = ?').run(id);
}

export function listInstances(db: Db): InstanceRecord[] {
  return db
    .prepare(
      `SELECT id, version, started_at AS startedAt, last_seen AS lastSeen FROM instances
       ORDER BY started_at`,
    )
    .all() as InstanceRecord[];
}
