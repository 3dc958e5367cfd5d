// The store's interface, asynchronous so that a store on a server (PostgreSQL) can sit behind it,
// and its SQLite backend: WAL, foreign keys, full fsync on commit (a DR step recorded as done must
// survive a power cut), the schema brought up to date on open. Refuses a store written by a newer
// lifeboat instead of guessing at its tables.

import { hash } from 'node:crypto';
import Database from 'better-sqlite3';
import { AsyncLocalStorage } from 'node:async_hooks';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { StoreError } from '../errors.js';
import { MIGRATIONS, type Migration } from './migrations.js';

export type Db = Database.Database;

/**
 * What the engine and the checks read and write through: SQL with `?` placeholders. Inside
 * `transaction(work)`, every call made by `work` — however deep — joins that transaction; outside,
 * a call waits for this process's open transaction to commit, so nothing reads a half-made change.
 */
export interface Sql {
  /** Whose SQL: for the few statements the two write differently. */
  readonly dialect: 'sqlite' | 'postgres';
  all<T = unknown>(sql: string, ...params: unknown[]): Promise<T[]>;
  get<T = unknown>(sql: string, ...params: unknown[]): Promise<T | undefined>;
  run(sql: string, ...params: unknown[]): Promise<{ changes: number }>;
  /**
   * `work` in one transaction that holds the store's write lock from its start (two instances
   * appending to the audit chain still form one chain). Called inside a transaction, it joins it.
   * `work` awaits the store and nothing else: side effects happen after commit.
   */
  transaction<T>(work: () => Promise<T>): Promise<T>;
}

export interface Store extends Sql {
  /** The file (or URL, password hidden) it was opened from: for messages. */
  readonly location: string;
  /** Schema version after opening. */
  readonly version: number;
  close(): Promise<void>;
}

export interface NewestOfEach {
  table: string;
  /** The columns to return. */
  fields: string;
  /** The columns that tell the groups apart ("service", "kind"), and each group asked for. */
  keys: readonly string[];
  groups: readonly (readonly unknown[])[];
  /** Which row of a group counts ("finished_at DESC"): an index on the keys then this serves it. */
  newest: string;
  /** Only rows for which this holds ("ended_at IS NOT NULL"). */
  where?: string;
}

/**
 * The newest row of each group (per service, per service and kind), in the order the groups were
 * asked, none for a group with no row: one query whose groups are a VALUES list, each found by an
 * index seek. PostgreSQL plans it once; a UNION of one query per group cost a plan per group
 * (~1.5 ms each on `runs`, 330 ms for a `/dr status` of 50 services). The table's key is `id`.
 */
export async function newestOfEach<T>(db: Sql, query: NewestOfEach): Promise<T[]> {
  const { table, keys } = query;
  const match = keys.map((key, i) => `candidate.${key} = asked.k${i}`).join(' AND ');
  const rows: T[] = [];
  for (let first = 0; first < query.groups.length; first += 500) {
    const slice = query.groups.slice(first, first + 500);
    const values = slice.map((_, n) => `(${n}, ${keys.map(() => '?').join(', ')})`).join(', ');
    rows.push(
      ...(await db.all<T>(
        `WITH asked (n, ${keys.map((_, i) => `k${i}`).join(', ')}) AS (VALUES ${values})
         SELECT ${query.fields} FROM asked JOIN ${table} ON ${table}.id = (
           SELECT candidate.id FROM ${table} AS candidate
           WHERE ${match}${query.where ? ` AND (${query.where})` : ''}
           ORDER BY ${query.newest} LIMIT 1)
         ORDER BY asked.n`,
        ...slice.flat(),
      )),
    );
  }
  return rows;
}

/** The embedded store: one SQLite file, and the connection to it for what only SQLite has. */
export interface SqliteStore extends Store {
  readonly db: Db;
  readonly file: string;
}

export interface OpenStoreOptions {
  migrations?: readonly Migration[];
  clock?: () => Date;
}

export function openStore(file: string, options: OpenStoreOptions = {}): SqliteStore {
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
    db.function('sha256_hex', { deterministic: true }, (text) => sha256Hex(String(text)));
    const version = migrate(db, file, migrations, clock);
    return new SqliteBackend(db, file, version);
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
export function inspectStore(file: string): SqliteStore | null {
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
    return new SqliteBackend(db, file, version);
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

/** The SQLite store behind `store`, or null when it is on a server. */
export function sqliteOf(store: Store): SqliteStore | null {
  return store instanceof SqliteBackend ? store : null;
}

/**
 * better-sqlite3 behind the asynchronous interface. Its calls are synchronous, so each resolves at
 * once; what the interface adds is the transaction: BEGIN IMMEDIATE, `work` awaited, COMMIT — and,
 * while it is open, this process's other callers queued behind it (one connection: anything they
 * ran would otherwise land inside it). Statements are compiled once per connection.
 */
class SqliteBackend implements SqliteStore {
  readonly dialect = 'sqlite';
  private readonly statements = new Map<string, Database.Statement>();
  private readonly inside = new AsyncLocalStorage<{ open: boolean }>();
  /** Settles when this process's open transaction ends; null when none is open. */
  private lock: Promise<void> | null = null;

  constructor(
    readonly db: Db,
    readonly file: string,
    readonly version: number,
  ) {}

  get location(): string {
    return this.file;
  }

  async all<T>(sql: string, ...params: unknown[]): Promise<T[]> {
    if (this.mustWait()) await this.afterLock();
    return this.statement(sql).all(...params) as T[];
  }

  async get<T>(sql: string, ...params: unknown[]): Promise<T | undefined> {
    if (this.mustWait()) await this.afterLock();
    return this.statement(sql).get(...params) as T | undefined;
  }

  async run(sql: string, ...params: unknown[]): Promise<{ changes: number }> {
    if (this.mustWait()) await this.afterLock();
    return { changes: this.statement(sql).run(...params).changes };
  }

  async transaction<T>(work: () => Promise<T>): Promise<T> {
    if (this.inside.getStore()?.open) return work();
    while (this.lock) await this.lock;
    let release!: () => void;
    this.lock = new Promise<void>((resolve) => (release = resolve));
    const frame = { open: true };
    try {
      this.db.exec('BEGIN IMMEDIATE');
      try {
        const result = await this.inside.run(frame, work);
        this.db.exec('COMMIT');
        return result;
      } catch (error) {
        if (this.db.inTransaction) this.db.exec('ROLLBACK');
        throw error;
      }
    } finally {
      frame.open = false;
      this.lock = null;
      release();
    }
  }

  close(): Promise<void> {
    this.db.close();
    return Promise.resolve();
  }

  private mustWait(): boolean {
    return this.lock !== null && !this.inside.getStore()?.open;
  }

  /** Until this process has no transaction open that the caller is outside of. */
  private async afterLock(): Promise<void> {
    while (this.mustWait()) await this.lock;
  }

  private statement(sql: string): Database.Statement {
    let statement = this.statements.get(sql);
    if (!statement) this.statements.set(sql, (statement = this.db.prepare(sql)));
    return statement;
  }
}

/** The SHA-256 of a text, in hex: how the store names content it keeps once (runbook snapshots). */
export function sha256Hex(text: string): string {
  return hash('sha256', text);
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
