// Opens the SQLite store: WAL, foreign keys, full fsync on commit (a DR step recorded as done must
// survive a power cut), and brings the schema up to date. Refuses a store written by a newer
// lifeboat instead of guessing at its tables.

import Database from 'better-sqlite3';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { StoreError } from '../errors.js';
import { MIGRATIONS, type Migration } from './migrations.js';

export type Db = Database.Database;

export interface Store {
  db: Db;
  file: string;
  /** Schema version after opening. */
  version: number;
  close(): void;
}

export interface OpenStoreOptions {
  migrations?: readonly Migration[];
  clock?: () => Date;
}

export function openStore(file: string, options: OpenStoreOptions = {}): Store {
  const migrations = options.migrations ?? MIGRATIONS;
  const clock = options.clock ?? (() => new Date());
  if (file !== ':memory:') mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  let db: Db;
  try {
    db = new Database(file);
  } catch (error) {
    throw new StoreError(file, `cannot open the store: ${(error as Error).message}`);
  }
  try {
    db.pragma('busy_timeout = 5000');
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
    const version = migrate(db, file, migrations, clock);
    return { db, file, version, close: () => db.close() };
  } catch (error) {
    db.close();
    if ((error as { code?: string }).code === 'SQLITE_NOTADB') {
      throw new StoreError(
        file,
        'is not a SQLite database: point `store:` in lifeboat.yml at a lifeboat store',
      );
    }
    throw error;
  }
}

/**
 * Opens an existing store read-only, without migrating it (`lifeboat check config`): its schema
 * version as it is. Null when there is no store file yet.
 */
export function inspectStore(file: string): Store | null {
  if (file === ':memory:' || !existsSync(file)) return null;
  let db: Db;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true });
  } catch (error) {
    throw new StoreError(file, `cannot open the store: ${(error as Error).message}`);
  }
  try {
    db.pragma('busy_timeout = 5000');
    const hasTable = db
      .prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'")
      .get();
    const version = hasTable ? currentVersion(db) : 0;
    return { db, file, version, close: () => db.close() };
  } catch (error) {
    db.close();
    if ((error as { code?: string }).code === 'SQLITE_NOTADB')
      throw new StoreError(
        file,
        'is not a SQLite database: point `store:` in lifeboat.yml at a lifeboat store',
      );
    throw error;
  }
}

const statements = new WeakMap<Db, Map<string, Database.Statement>>();

/** `db.prepare(sql)`, compiled once per connection: for the queries every request runs. */
export function prepared(db: Db, sql: string): Database.Statement {
  let cache = statements.get(db);
  if (!cache) statements.set(db, (cache = new Map<string, Database.Statement>()));
  let statement = cache.get(sql);
  if (!statement) cache.set(sql, (statement = db.prepare(sql)));
  return statement;
}

/** The schema version this lifeboat writes. */
export const LATEST_SCHEMA = MIGRATIONS.at(-1)?.version ?? 0;

/** Applies the migrations the store lacks; returns the resulting version. */
function migrate(
  db: Db,
  file: string,
  migrations: readonly Migration[],
  clock: () => Date,
): number {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    applied_at TEXT NOT NULL
  )`);
  const current = currentVersion(db);
  const latest = migrations.at(-1)?.version ?? 0;
  if (current > latest) {
    throw new StoreError(
      file,
      `was written by a newer lifeboat (schema version ${current}; this lifeboat knows up to ${latest}): ` +
        'upgrade lifeboat, or point `store:` at another file',
    );
  }
  const record = db.prepare(
    'INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)',
  );
  const applied = db.prepare('SELECT 1 FROM schema_migrations WHERE version = ?');
  for (const migration of migrations.filter((m) => m.version > current)) {
    // PRAGMA foreign_keys is a no-op inside a transaction: switched around it, never inside.
    if (migration.rebuildsTables) db.pragma('foreign_keys = OFF');
    try {
      db.transaction(() => {
        // Several instances starting at once: each migration is applied by whichever takes the
        // write lock first; the others find it recorded and move on.
        if (applied.get(migration.version)) return;
        db.exec(migration.sql);
        const broken = db.pragma('foreign_key_check') as unknown[];
        if (broken.length > 0)
          throw new StoreError(
            file,
            `migration ${migration.version} broke ${broken.length} references`,
          );
        record.run(migration.version, migration.name, clock().toISOString());
      }).immediate();
    } finally {
      if (migration.rebuildsTables) db.pragma('foreign_keys = ON');
    }
  }
  return currentVersion(db);
}

function currentVersion(db: Db): number {
  const row = db.prepare('SELECT MAX(version) AS version FROM schema_migrations').get() as {
    version: number | null;
  };
  return row.version ?? 0;
}
