// The restore test: a backup nobody restored is not a backup. Pick one (the newest, or one at
// random from a window — a rotten old backup hides behind a good newest one), stream it to disk,
// pg_restore it into a throwaway PostgreSQL, check that the expected tables are there with row
// counts near the primary's, and drop the instance. Never touches production.

import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import type { Config, Service } from '../config.js';
import type { ServiceProviders } from '../actions/types.js';
import type { RunKind } from '../runbook/model.js';
import { formatDuration } from '../duration.js';
import { isLifeboatError } from '../errors.js';
import { PG_BIN, startThrowawayServer } from '../local/postgres-pair.js';
import type { BackupObject, BackupStore } from '../providers/types.js';
import type { Db } from '../store/db.js';
import type { CheckResult } from './backups.js';

const run = promisify(execFile);

export interface RestoreOptions {
  pick: 'newest' | 'random';
  withinSeconds: number | null;
  now: Date;
  random?: () => number;
}

export interface RestoreReport extends CheckResult {
  key: string | null;
  bytes: number;
  restoreSeconds: number;
  tables: Record<string, number>;
}

export async function restoreTest(
  service: Service,
  store: BackupStore,
  options: RestoreOptions,
): Promise<RestoreReport> {
  const at = options.now.toISOString();
  const report = (
    fields: Partial<RestoreReport> & { ok: boolean; summary: string; state: string },
  ): RestoreReport => ({
    check: 'restore',
    service: service.name,
    at,
    key: null,
    bytes: 0,
    restoreSeconds: 0,
    tables: {},
    ...fields,
  });
  let backup: BackupObject | null;
  try {
    backup = pickBackup(await store.listBackups(), options);
  } catch (error) {
    if (!isLifeboatError(error)) throw error;
    return report({ ok: false, summary: error.message, state: 'store unreachable' });
  }
  if (!backup)
    return report({
      ok: false,
      summary: `${store.name}: no backup to restore${options.pick === 'random' ? ' in the window' : ''}`,
      state: 'missing',
    });

  const instance = await startThrowawayServer();
  try {
    const file = path.join(instance.root, 'backup.dump');
    const bytes = await store.downloadBackup(backup.key, file);
    const started = Date.now();
    const restored = await pgRestore(file, instance.server.port);
    const restoreSeconds = (Date.now() - started) / 1000;
    const base = { key: backup.key, bytes, restoreSeconds };
    if (restored !== null) {
      return report({
        ...base,
        ok: false,
        summary: `${backup.key} did not restore: ${restored}`,
        state: 'restore failed',
      });
    }
    const tables = await countRows(instance.server.url);
    const problems = await sanityProblems(service, tables);
    const listing =
      Object.entries(tables)
        .map(([name, rows]) => `${name} (${rows} rows)`)
        .join(', ') || 'no tables';
    const summary = `${backup.key}: ${bytes} bytes restored in ${formatDuration(restoreSeconds)}; ${listing}`;
    return problems.length === 0
      ? report({ ...base, tables, ok: true, summary, state: 'ok' })
      : report({
          ...base,
          tables,
          ok: false,
          summary: `${summary} — ${problems.join('; ')}`,
          state: 'sanity failed',
        });
  } finally {
    await instance.stop();
  }
}

/** Restore tests of every service with backups (or one), each result stored. */
export async function runRestoreTests(
  config: Config,
  db: Db,
  providersFor: (service: Service, kind: RunKind) => ServiceProviders,
  options: RestoreOptions,
  only?: string | null,
): Promise<RestoreReport[]> {
  const reports: RestoreReport[] = [];
  for (const service of Object.values(config.services)) {
    if (!service.backups || (only && service.name !== only)) continue;
    const store = providersFor(service, 'restore-test').backups;
    if (!store) continue;
    const report = await restoreTest(service, store, options);
    recordRestore(db, report);
    reports.push(report);
  }
  return reports;
}

/** Stores a restore test's result with its duration, size and table counts. */
export function recordRestore(db: Db, report: RestoreReport): void {
  const details = {
    state: report.state,
    key: report.key,
    bytes: report.bytes,
    restoreSeconds: report.restoreSeconds,
    tables: report.tables,
  };
  db.prepare(
    'INSERT INTO check_results (check_name, service, ok, summary, details, at) VALUES (?, ?, ?, ?, ?, ?)',
  ).run(
    'restore',
    report.service,
    report.ok ? 1 : 0,
    report.summary,
    JSON.stringify(details),
    report.at,
  );
}

function pickBackup(listing: BackupObject[], options: RestoreOptions): BackupObject | null {
  if (options.pick === 'newest') return listing[0] ?? null;
  const oldest =
    options.withinSeconds === null ? 0 : options.now.getTime() - options.withinSeconds * 1000;
  const window = listing.filter((backup) => backup.lastModified.getTime() >= oldest);
  return window[Math.floor((options.random ?? Math.random)() * window.length)] ?? null;
}

/** Null when pg_restore succeeded, else its first error line. */
async function pgRestore(file: string, port: number): Promise<string | null> {
  try {
    await run(
      path.join(PG_BIN, 'pg_restore'),
      [
        '--exit-on-error',
        '--no-owner',
        '--no-privileges',
        '-h',
        '127.0.0.1',
        '-p',
        String(port),
        '-U',
        'postgres',
        '-d',
        'postgres',
        file,
      ],
      {
        maxBuffer: 16 * 1024 * 1024,
      },
    );
    return null;
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? (error as Error).message;
    return (
      stderr.split('\n').find((line) => line.includes('error')) ??
      stderr.split('\n')[0] ??
      'pg_restore failed'
    );
  }
}

async function countRows(url: string): Promise<Record<string, number>> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ name: string }>(
      `SELECT quote_ident(schemaname) || '.' || quote_ident(tablename) AS name FROM pg_tables
       WHERE schemaname NOT IN ('pg_catalog', 'information_schema', 'lifeboat') ORDER BY 1`,
    );
    const counts: Record<string, number> = {};
    for (const { name } of rows) {
      const result = await client.query<{ n: string }>(`SELECT count(*) AS n FROM ${name}`);
      counts[name.replace(/^public\./, '')] = Number(result.rows[0]?.n ?? 0);
    }
    return counts;
  } finally {
    await client.end();
  }
}

/** Expected tables present; row counts within the tolerance of the primary's, when it answers. */
async function sanityProblems(service: Service, tables: Record<string, number>): Promise<string[]> {
  const { expected_tables: expected, row_tolerance: tolerance } = service.backups!.restore_test;
  const problems: string[] = [];
  if (Object.keys(tables).length === 0) problems.push('the restored database has no tables');
  for (const table of expected)
    if (!(table in tables)) problems.push(`expected table ${table} is missing`);
  const primaryUrl =
    service.database.provider === 'postgres'
      ? service.database.primary
      : service.database.primary.url;
  if (!primaryUrl || expected.length === 0) return problems;
  const primary = await countRowsOn(
    primaryUrl,
    expected.filter((table) => table in tables),
  ).catch(() => null);
  if (!primary) return problems; // the primary does not answer: nothing to compare with
  for (const [table, live] of Object.entries(primary)) {
    const restored = tables[table] ?? 0;
    if (live > 0 && Math.abs(live - restored) / live > tolerance) {
      problems.push(
        `${table} has ${restored} rows, the primary ${live} (more than ${Math.round(tolerance * 100)}% apart)`,
      );
    }
  }
  return problems;
}

async function countRowsOn(url: string, tables: string[]): Promise<Record<string, number>> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  client.on('error', () => undefined);
  await client.connect();
  try {
    const counts: Record<string, number> = {};
    for (const table of tables) {
      const result = await client.query<{ n: string }>(
        `SELECT count(*) AS n FROM ${table
          .split('.')
          .map((part) => `"${part.replace(/"/g, '""')}"`)
          .join('.')}`,
      );
      counts[table] = Number(result.rows[0]?.n ?? 0);
    }
    return counts;
  } finally {
    await client.end();
  }
}
