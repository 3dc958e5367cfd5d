// A copy of the whole store, for the team that runs one instance: `lifeboat store backup FILE`
// takes an online snapshot (SQLite's backup API: consistent while lifeboat runs) and proves it —
// the copy opens, its schema is one this lifeboat reads, its audit chain is intact — before it is
// given its name; `lifeboat store restore FILE` proves the copy the same way, keeps the store it
// replaces beside it (never deleted), and puts the copy in its place.

import Database from 'better-sqlite3';
import { copyFileSync, existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import { StoreError } from '../errors.js';
import { verifyAuditLog } from './audit.js';
import { LATEST_SCHEMA, inspectStore, openStore, sqliteOf, type Store } from './db.js';

/** What a copy holds, read back from the copy itself. */
export interface StoreCopy {
  file: string;
  schemaVersion: number;
  runs: number;
  auditEvents: number;
  /** The audit chain's head hash: publish it to prove later that nothing was cut. */
  headHash: string | null;
}

/**
 * Snapshots `store` into `destination` (a new file: an existing one is never overwritten) and
 * proves the copy. The snapshot is written beside the destination first and renamed into place
 * only once proven, so a failed backup never leaves a file that looks like a good one.
 */
export async function backupStore(store: Store, destination: string): Promise<StoreCopy> {
  const sqlite = sqliteOf(store);
  if (!sqlite)
    throw new StoreError(
      store.location,
      "is a PostgreSQL store: back it up with the database server's own backups (pg_dump, snapshots, PITR)",
    );
  if (existsSync(destination))
    throw new StoreError(destination, 'exists already: give the backup a new file name');
  const partial = `${destination}.partial`;
  removeWithJournal(partial);
  try {
    mkdirSync(path.dirname(destination), { recursive: true });
    await sqlite.db.backup(partial);
    // One self-contained file: no WAL beside it to lose when it is copied elsewhere.
    const copy = new Database(partial);
    copy.pragma('journal_mode = DELETE');
    copy.close();
    const proven = await proveStoreCopy(partial);
    renameSync(partial, destination);
    return { ...proven, file: destination };
  } catch (error) {
    removeWithJournal(partial);
    if (error instanceof StoreError) throw error;
    throw new StoreError(destination, `could not write the backup: ${(error as Error).message}`);
  }
}

/**
 * Opens a copy read-only and proves it: a lifeboat store of a schema this lifeboat reads, with an
 * intact audit chain. Throws StoreError saying what is wrong.
 */
export async function proveStoreCopy(file: string): Promise<StoreCopy> {
  const copy = inspectStore(file);
  if (!copy) throw new StoreError(file, 'does not exist');
  try {
    if (copy.version === 0)
      throw new StoreError(file, 'is a SQLite file but not a lifeboat store (no schema version)');
    if (copy.version > LATEST_SCHEMA)
      throw new StoreError(
        file,
        `was written by a newer lifeboat (schema version ${copy.version}; this lifeboat knows up to ${LATEST_SCHEMA})`,
      );
    const audit = await verifyAuditLog(copy);
    if (!audit.ok)
      throw new StoreError(
        file,
        `its audit log is broken at event #${audit.brokenAt}: ${audit.reason}`,
      );
    const { runs } = (await copy.get<{ runs: number }>('SELECT count(*) AS runs FROM runs'))!;
    return {
      file,
      schemaVersion: copy.version,
      runs,
      auditEvents: audit.count,
      headHash: audit.count > 0 ? audit.headHash : null,
    };
  } finally {
    await copy.close();
  }
}

/**
 * Puts the proven copy `source` in place of the store at `target`. The store it replaces is
 * checkpointed (its WAL folded in) and kept at `<target>.replaced-<time>`; the copy is brought to
 * this lifeboat's schema. Stop lifeboat first: a running instance would keep the replaced file.
 */
export async function restoreStore(
  target: string,
  source: string,
  now: Date,
): Promise<{ restored: StoreCopy; keptAt: string | null }> {
  if (path.resolve(source) === path.resolve(target))
    throw new StoreError(
      source,
      'is the store itself: restore from a copy made by lifeboat store backup',
    );
  const restored = await proveStoreCopy(source);
  let keptAt: string | null = null;
  if (existsSync(target)) {
    // Kept as it is: its WAL folded in, never migrated (a store of another version stays one).
    const current = new Database(target);
    current.pragma('wal_checkpoint(TRUNCATE)');
    current.close();
    keptAt = `${target}.replaced-${now.toISOString().replace(/[-:]/g, '').slice(0, 15)}Z`;
    renameSync(target, keptAt);
    removeWithJournal(target);
  }
  const partial = `${target}.partial`;
  copyFileSync(source, partial);
  renameSync(partial, target);
  await openStore(target).close(); // migrate an older copy now, not at the next start
  return { restored: { ...restored, file: target }, keptAt };
}

/** A SQLite file and the WAL and shared-memory files beside it. */
function removeWithJournal(file: string): void {
  for (const suffix of ['', '-wal', '-shm', '-journal'])
    rmSync(`${file}${suffix}`, { force: true });
}
