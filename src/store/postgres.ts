// The store on PostgreSQL, for two or more instances (one per region) on a database the team
// already replicates. Behind the same interface as SQLite: SQL with `?` placeholders, and
// transactions that hold one store-wide lock from their start (an advisory lock), so every
// transition that relied on SQLite's single writer — the audit chain's head, a claim, a vote —
// is serialized the same way across instances.
//
// The store's own failover: the URL may name several hosts (`postgres://u@a:5432,b:5432/db?
// target_session_attrs=read-write`, as libpq takes it); lifeboat uses the one that accepts
// writes, and when it fails or turns read-only, finds the new one and carries on. A statement or
// a transaction cut off by the failover is retried (up to STORE_RETRY_MS) — except a COMMIT whose
// answer was lost: whether it committed is unknown, so the caller hears it and the walker resumes
// the run from what the store says, as after a crash.

import { AsyncLocalStorage } from 'node:async_hooks';
import pg from 'pg';
import { StoreError } from '../errors.js';
import type { Sql, Store } from './db.js';
import { POSTGRES_MIGRATIONS } from './postgres-schema.js';

/** How long a statement keeps being retried while the store is unreachable or failing over. */
export const STORE_RETRY_MS = 30_000;

/** Key of the advisory lock every write transaction takes: one writer at a time, as in SQLite. */
const WRITE_LOCK = 7_310_004_211;
/** Key of the lock held while migrating: instances starting together migrate once. */
const MIGRATE_LOCK = 7_310_004_212;

export interface PostgresLocation {
  url: string;
  /** The schema lifeboat's tables live in (created if missing); null: the search_path's first. */
  schema: string | null;
}

export interface OpenPostgresOptions {
  /** How messages name the store (the URL without its password). */
  label: string;
  clock?: () => Date;
  /** Read the schema version only: never create or migrate (`lifeboat check config`). */
  inspectOnly?: boolean;
  /** How long to keep retrying a statement through a failover (tests shorten it). */
  retryMs?: number;
}

/**
 * Opens (and, unless inspecting, creates and migrates) the store. Refuses a store written by a
 * newer lifeboat without touching it.
 */
export async function openPostgresStore(
  location: PostgresLocation,
  options: OpenPostgresOptions,
): Promise<Store> {
  const hosts = new HostSet(location, options.retryMs ?? STORE_RETRY_MS);
  const store = new PostgresBackend(hosts, options.label);
  try {
    await store.prepare(options.clock ?? (() => new Date()), options.inspectOnly === true);
    return store;
  } catch (error) {
    await hosts.end();
    if (error instanceof StoreError) throw error;
    throw new StoreError(store.location, `cannot open the store: ${(error as Error).message}`);
  }
}

interface Frame {
  client: pg.PoolClient;
  open: boolean;
}

class PostgresBackend implements Store {
  readonly dialect = 'postgres';
  private readonly inside = new AsyncLocalStorage<Frame>();
  private readonly translated = new Map<string, string>();
  version = 0;

  constructor(
    private readonly hosts: HostSet,
    readonly location: string,
  ) {}

  async all<T>(sql: string, ...params: unknown[]): Promise<T[]> {
    return (await this.query(sql, params)).rows as T[];
  }

  async get<T>(sql: string, ...params: unknown[]): Promise<T | undefined> {
    return (await this.query(sql, params)).rows[0] as T | undefined;
  }

  async run(sql: string, ...params: unknown[]): Promise<{ changes: number }> {
    return { changes: (await this.query(sql, params)).rowCount ?? 0 };
  }

  async transaction<T>(work: () => Promise<T>): Promise<T> {
    if (this.inside.getStore()?.open) return work();
    return this.hosts.retrying(async () => {
      const client = await this.hosts.connect();
      const frame: Frame = { client, open: true };
      let committing = false;
      let broken: Error | undefined;
      try {
        await client.query('BEGIN');
        await client.query('SELECT pg_advisory_xact_lock($1)', [WRITE_LOCK]);
        const result = await this.inside.run(frame, work);
        committing = true;
        await client.query('COMMIT');
        return result;
      } catch (error) {
        if (isTransient(error)) broken = error as Error;
        else await client.query('ROLLBACK').catch(() => undefined);
        if (committing && broken)
          throw new StoreError(
            this.location,
            `the connection was lost while committing (${(error as Error).message}): whether the change was saved is unknown; lifeboat goes on from what the store says`,
          );
        throw error;
      } finally {
        frame.open = false;
        client.release(broken); // a connection cut by a failover is dropped, not reused
      }
    });
  }

  async close(): Promise<void> {
    await this.hosts.end();
  }

  /** Schema: created and migrated under a lock (or only read, inspecting); the version checked. */
  async prepare(clock: () => Date, inspectOnly: boolean): Promise<void> {
    const client = await this.hosts.connect();
    try {
      if (inspectOnly) {
        this.version = await schemaVersion(client);
        return;
      }
      await client.query('SELECT pg_advisory_lock($1)', [MIGRATE_LOCK]);
      try {
        // Created only when missing: a role that may not create schemas uses one made for it.
        if (this.hosts.schema) {
          const exists = await client.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [
            this.hosts.schema,
          ]);
          if (exists.rowCount === 0)
            await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(this.hosts.schema)}`);
        }
        await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
          version INTEGER PRIMARY KEY,
          name TEXT NOT NULL,
          applied_at TEXT NOT NULL
        )`);
        const current = await schemaVersion(client);
        const latest = POSTGRES_MIGRATIONS.at(-1)?.version ?? 0;
        if (current > latest)
          throw new StoreError(
            this.location,
            `was written by a newer lifeboat (schema version ${current}; this lifeboat knows up to ${latest}): upgrade lifeboat, or point \`store:\` at another database`,
          );
        for (const migration of POSTGRES_MIGRATIONS.filter((m) => m.version > current)) {
          await client.query('BEGIN');
          try {
            await client.query(migration.sql);
            await client.query(
              'INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)',
              [migration.version, migration.name, clock().toISOString()],
            );
            await client.query('COMMIT');
          } catch (error) {
            await client.query('ROLLBACK').catch(() => undefined);
            throw error;
          }
        }
        this.version = await schemaVersion(client);
      } finally {
        await client.query('SELECT pg_advisory_unlock($1)', [MIGRATE_LOCK]).catch(() => undefined);
      }
    } finally {
      client.release();
    }
  }

  private query(sql: string, params: unknown[]): Promise<pg.QueryResult> {
    const text = this.translate(sql);
    const frame = this.inside.getStore();
    if (frame?.open) return frame.client.query(text, params);
    return this.hosts.retrying(async () => (await this.hosts.pool()).query(text, params));
  }

  /** `?` placeholders to `$n`, and the one SQLite function lifeboat uses to PostgreSQL's. */
  private translate(sql: string): string {
    let text = this.translated.get(sql);
    if (text === undefined) {
      let n = 0;
      text = sql
        .replace(/\?/g, () => `$${++n}`)
        .replace(/json_extract\((\w+), '\$\.(\w+)'\)/g, "($1::jsonb ->> '$2')");
      this.translated.set(sql, text);
    }
    return text;
  }
}

async function schemaVersion(client: pg.PoolClient): Promise<number> {
  const exists = await client.query(
    "SELECT to_regclass('schema_migrations') IS NOT NULL AS present",
  );
  if (!(exists.rows[0] as { present: boolean }).present) return 0;
  const row = await client.query('SELECT MAX(version) AS version FROM schema_migrations');
  return (row.rows[0] as { version: number | null }).version ?? 0;
}

function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** 64-bit integers (count, MAX(id), BIGINT columns) as numbers: lifeboat's never near 2^53. */
const INT8 = 20;
const TYPES = {
  getTypeParser: ((oid: number, format: 'text' | 'binary' = 'text'): unknown =>
    oid === INT8 ? Number : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};

/**
 * The hosts the URL names, one pool each, and which of them takes writes now. With one host and
 * no target_session_attrs, that host; otherwise the first that is not in recovery.
 */
class HostSet {
  private readonly urls: string[];
  private readonly pools = new Map<number, pg.Pool>();
  private readonly wantsWriter: boolean;
  private writer: number | null = null;
  readonly schema: string | null;

  constructor(
    location: PostgresLocation,
    private readonly retryMs: number,
  ) {
    const { urls, targetSessionAttrs } = splitHosts(location.url);
    this.urls = urls;
    this.schema = location.schema;
    this.wantsWriter = urls.length > 1 || targetSessionAttrs === 'read-write';
  }

  /** The pool of the host that takes writes (found again after it failed). */
  async pool(): Promise<pg.Pool> {
    if (this.writer !== null) return this.poolOf(this.writer);
    const seen: string[] = [];
    for (let index = 0; index < this.urls.length; index++) {
      const pool = this.poolOf(index);
      try {
        if (this.wantsWriter) {
          const row = await pool.query('SELECT pg_is_in_recovery() AS standby');
          if ((row.rows[0] as { standby: boolean }).standby) {
            seen.push(`${hostOf(this.urls[index]!)}: a standby (read-only)`);
            continue;
          }
        }
        this.writer = index;
        return pool;
      } catch (error) {
        seen.push(`${hostOf(this.urls[index]!)}: ${(error as Error).message}`);
      }
    }
    throw new Unreachable(`no host of the store takes writes: ${seen.join('; ')}`);
  }

  async connect(): Promise<pg.PoolClient> {
    return (await this.pool()).connect();
  }

  /**
   * `attempt`, again while it fails as a failover makes things fail (connection refused or cut,
   * the server shutting down, a standby refusing writes), for up to retryMs; the writer is looked
   * for afresh before each retry.
   */
  async retrying<T>(attempt: () => Promise<T>): Promise<T> {
    const deadline = Date.now() + this.retryMs;
    for (let delay = 100; ; delay = Math.min(delay * 2, 2000)) {
      try {
        return await attempt();
      } catch (error) {
        if (!isTransient(error) || Date.now() + delay > deadline) throw error;
        this.writer = null;
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
  }

  async end(): Promise<void> {
    await Promise.allSettled([...this.pools.values()].map((pool) => pool.end()));
    this.pools.clear();
  }

  private poolOf(index: number): pg.Pool {
    let pool = this.pools.get(index);
    if (!pool) {
      pool = new pg.Pool({
        connectionString: this.urls[index],
        connectionTimeoutMillis: 3000,
        max: 10,
        types: TYPES,
        ...(this.schema ? { options: `-c search_path=${quoteIdent(this.schema)}` } : {}),
      });
      // A connection cut by a failover, idle in the pool or held between two statements of a
      // transaction: it is dropped (the statement in flight fails and is retried), never left
      // to crash the process with an unheard 'error'; the next query looks for the writer.
      const forget = () => {
        this.writer = null;
      };
      pool.on('error', forget);
      pool.on('connect', (client) => client.on('error', forget));
      this.pools.set(index, pool);
    }
    return pool;
  }
}

class Unreachable extends Error {
  readonly transient = true;
}

/** One single-host URL per host of a libpq-style multi-host URL, and its target_session_attrs. */
export function splitHosts(url: string): { urls: string[]; targetSessionAttrs: string | null } {
  const match = /^([a-z]+:\/\/(?:[^@/]*@)?)([^/?]*)(.*)$/i.exec(url);
  if (!match) return { urls: [url], targetSessionAttrs: null };
  const [, prefix, hostList, rest] = match as unknown as [string, string, string, string];
  const query = rest.includes('?') ? rest.slice(rest.indexOf('?') + 1) : '';
  const params = new URLSearchParams(query);
  const targetSessionAttrs = params.get('target_session_attrs');
  params.delete('target_session_attrs');
  const pathPart = rest.includes('?') ? rest.slice(0, rest.indexOf('?')) : rest;
  const search = params.toString();
  const urls = hostList
    .split(',')
    .map((host) => `${prefix}${host}${pathPart}${search ? `?${search}` : ''}`);
  return { urls, targetSessionAttrs };
}

function hostOf(url: string): string {
  return /^[a-z]+:\/\/(?:[^@/]*@)?([^/?]*)/i.exec(url)?.[1] ?? url;
}

const TRANSIENT_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  '57P01', // admin_shutdown: the server is stopping
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now: starting up, or promoting
  '25006', // read_only_sql_transaction: this host became a standby
  '40001', // serialization_failure
  '40P01', // deadlock_detected
]);

/** The error a failover, a restart or a network blink causes: worth another try. */
function isTransient(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if ((error as { transient?: boolean }).transient) return true;
  const code = (error as { code?: string }).code ?? '';
  if (TRANSIENT_CODES.has(code) || code.startsWith('08')) return true;
  return /Connection terminated|connection error|timeout exceeded when trying to connect|Client was closed/i.test(
    error.message,
  );
}

export type { Sql };
