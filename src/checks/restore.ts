// The restore test: a backup nobody restored is not a backup. Pick one (the newest, or one at
// random from a window — a rotten old backup hides behind a good newest one), stream it to disk,
// check its bytes against the store's checksum, pg_restore it into a throwaway PostgreSQL, check
// that the expected tables are there and hold every row the dump holds, and that no table shrank
// beyond row_tolerance since the restore test of an older backup; drop the instance. Never
// touches production: the live primary is not a yardstick for yesterday's backup.

import { execFile, spawn } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import pg from 'pg';
import type { Config, Service } from '../config.js';
import type { ServiceProviders } from '../actions/types.js';
import type { RunKind } from '../runbook/model.js';
import { formatDuration } from '../duration.js';
import { ChecksumMismatch, isLifeboatError } from '../errors.js';
import { localServerArgs, PG_BIN, startThrowawayServer } from '../providers/postgres/servers.js';
import type { BackupDownload, BackupObject, BackupStore } from '../providers/types.js';
import type { Sql } from '../store/db.js';
import { recordCheckResult, type CheckResult } from './backups.js';
import { restoreChainMember } from '../providers/postgres/pgbackrest.js';

const run = promisify(execFile);

export interface RestoreOptions {
  /** pgBackRest: the chain member to restore (a label), instead of the newest. */
  set?: string | null;
  pick: 'newest' | 'random';
  withinSeconds: number | null;
  now: Date;
  random?: () => number;
  /** The last passing restore test of this service, to catch a table that shrank. */
  previous?: PreviousRestore | null;
}

export interface PreviousRestore {
  key: string;
  lastModified: string;
  tables: Record<string, number>;
}

export interface RestoreReport extends CheckResult {
  key: string | null;
  /** When the restored backup was written (the store's time), ISO. */
  lastModified: string | null;
  bytes: number;
  restoreSeconds: number;
  /** Seconds to download the backup; with restoreSeconds, what a backup-restore recovery takes. */
  downloadSeconds: number;
  /** Megabytes (10^6 bytes) of backup restored per second, download included; null if none. */
  megabytesPerSecond: number | null;
  tables: Record<string, number>;
  /** How the downloaded bytes were checked against the store, or why they could not be. */
  integrity: string | null;
  /** Whether restored row counts were compared with the rows in the dump, and why not. */
  rowsCompared: boolean;
}

type ReportFields = Partial<RestoreReport> & { ok: boolean; summary: string; state: string };

/** "accounts (2 rows), payments (2500 rows)", or "no tables". */
function listTables(tables: Record<string, number>): string {
  return (
    Object.entries(tables)
      .map(([name, rows]) => `${name} (${rows} rows)`)
      .join(', ') || 'no tables'
  );
}

/** A restore report of `service` at `at`: what was not measured is zero, none or null. */
function reportOf(service: Service, at: string, fields: ReportFields): RestoreReport {
  return {
    check: 'restore',
    service: service.name,
    at,
    key: null,
    lastModified: null,
    bytes: 0,
    restoreSeconds: 0,
    downloadSeconds: 0,
    megabytesPerSecond: null,
    tables: {},
    integrity: null,
    rowsCompared: false,
    ...fields,
  };
}

export async function restoreTest(
  service: Service,
  store: BackupStore,
  options: RestoreOptions,
): Promise<RestoreReport> {
  const at = options.now.toISOString();
  const report = (fields: ReportFields) => reportOf(service, at, fields);
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
    const lastModified = backup.lastModified.toISOString();
    let download: BackupDownload;
    const downloadStarted = performance.now();
    try {
      download = await store.downloadBackup(backup.key, file);
    } catch (error) {
      if (!isLifeboatError(error)) throw error;
      return report({
        key: backup.key,
        lastModified,
        ok: false,
        summary: `${backup.key}: ${error.message}`,
        state: error instanceof ChecksumMismatch ? 'checksum mismatch' : 'download failed',
      });
    }
    const { bytes, integrity } = download;
    const downloadSeconds = (performance.now() - downloadStarted) / 1000;
    const started = performance.now();
    const restored = await pgRestore(file, instance.server.port);
    const restoreSeconds = (performance.now() - started) / 1000;
    const total = downloadSeconds + restoreSeconds;
    const megabytesPerSecond = total > 0 ? Math.round((bytes / 1e6 / total) * 100) / 100 : null;
    const base = {
      key: backup.key,
      lastModified,
      bytes,
      restoreSeconds,
      downloadSeconds,
      megabytesPerSecond,
      integrity: integrity.detail,
    };
    if (restored !== null) {
      return report({
        ...base,
        ok: false,
        summary: `${backup.key} did not restore: ${restored}`,
        state: 'restore failed',
      });
    }
    const tables = await countRows(instance.server.url);
    const inDump = await dumpRowCounts(file);
    const problems = sanityProblems(service, tables, inDump, backup, options.previous ?? null);
    if (download.manifest) problems.push(...countsAtBackup(tables, download.manifest.tables));
    const listing = listTables(tables);
    const compared =
      ('error' in inDump
        ? `row counts NOT compared with the dump: ${inDump.error}`
        : 'row counts match the dump') +
      (download.manifest ? ' and those counted when the backup was taken' : '');
    const speed =
      megabytesPerSecond === null ? '' : `, ${megabytesPerSecond} MB/s with the download`;
    const summary = `${backup.key}: ${bytes} bytes restored in ${formatDuration(restoreSeconds)} (download ${formatDuration(downloadSeconds)}${speed}); ${listing}; ${compared}; ${integrity.detail}`;
    const rowsCompared = !('error' in inDump);
    return problems.length === 0
      ? report({
          ...base,
          tables,
          rowsCompared,
          ok: true,
          summary,
          state: rowsCompared && integrity.verified ? 'ok' : 'ok, not all checked',
        })
      : report({
          ...base,
          tables,
          rowsCompared,
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
  db: Sql,
  providersFor: (service: Service, kind: RunKind) => ServiceProviders,
  options: RestoreOptions,
  only?: string | null,
): Promise<RestoreReport[]> {
  const reports: RestoreReport[] = [];
  for (const service of Object.values(config.services)) {
    if (only && service.name !== only) continue;
    if (service.pitr && (options.set || !service.backups)) {
      const report = await restorePitrTest(service, options);
      await recordRestore(db, report);
      reports.push(report);
      continue;
    }
    if (!service.backups) continue;
    const store = providersFor(service, 'restore-test').backups;
    if (!store) continue;
    const report = await restoreTest(service, store, {
      ...options,
      previous: options.previous ?? (await lastPassingRestore(db, service.name)),
    });
    await recordRestore(db, report);
    reports.push(report);
  }
  return reports;
}

/**
 * The restore test of a service whose backups pgBackRest keeps: one member of the chain (the
 * newest, or `set`) restored to its own consistent point in a throwaway server, its tables counted.
 * pgBackRest checks every file's checksum as it restores; row counts have nothing recorded to be
 * compared with, and the report says so.
 */
async function restorePitrTest(service: Service, options: RestoreOptions): Promise<RestoreReport> {
  const pitr = service.pitr!;
  const at = options.now.toISOString();
  // Nothing restored: what it was asked for, why not.
  const unrestored = (summary: string, state: string) =>
    reportOf(service, at, { key: options.set ?? null, ok: false, summary, state });
  if (pitr.tool !== 'pgbackrest' || !pitr.stanza)
    return unrestored(
      "not checked: lifeboat restores pgBackRest chain members; restoring WAL-G's (backup-fetch) is not built — give the service backups: to restore-test a pg_dump, or test WAL-G's restores outside lifeboat",
      'not checked',
    );
  try {
    const restored = await restoreChainMember(
      { command: pitr.command, stanza: pitr.stanza, config: pitr.config },
      options.set ?? null,
    );
    const expected = service.backups?.restore_test.expected_tables ?? [];
    const missing = expected.filter((table) => !(table in restored.tables));
    const empty = Object.keys(restored.tables).length === 0;
    const listing = listTables(restored.tables);
    const problems = [
      ...(empty ? ['the restored database has no tables'] : []),
      ...missing.map((table) => `expected table ${table} is missing`),
    ];
    const summary = `pgbackrest ${pitr.stanza} ${restored.set}: restored to its consistent point in ${formatDuration(restored.seconds)}; ${listing}; pgBackRest checked each file's checksum; row counts NOT compared (nothing recorded to compare with)`;
    return reportOf(service, at, {
      key: restored.set,
      restoreSeconds: restored.seconds,
      tables: restored.tables,
      integrity: "pgBackRest checked each file's checksum as it restored",
      ok: problems.length === 0,
      summary: problems.length === 0 ? summary : `${summary} — ${problems.join('; ')}`,
      state: problems.length === 0 ? 'ok, not all checked' : 'sanity failed',
    });
  } catch (error) {
    if (!isLifeboatError(error)) throw error;
    return unrestored(error.message, 'restore failed');
  }
}

/** Stores a restore test's result with its duration, size and table counts. */
export async function recordRestore(db: Sql, report: RestoreReport): Promise<void> {
  const details = {
    state: report.state,
    key: report.key,
    lastModified: report.lastModified,
    bytes: report.bytes,
    restoreSeconds: report.restoreSeconds,
    downloadSeconds: report.downloadSeconds,
    megabytesPerSecond: report.megabytesPerSecond,
    tables: report.tables,
    integrity: report.integrity,
    rowsCompared: report.rowsCompared,
  };
  await recordCheckResult(db, 'restore', report, details);
}

/** The newest passing restore test of a service that recorded what it restored, or null. */
export async function lastPassingRestore(
  db: Sql,
  service: string,
): Promise<PreviousRestore | null> {
  const rows = await db.all<{ details: string }>(
    "SELECT details FROM check_results WHERE check_name = 'restore' AND service = ? AND ok = 1 ORDER BY at DESC, id DESC LIMIT 20",
    service,
  );
  for (const row of rows) {
    const details = JSON.parse(row.details) as Partial<PreviousRestore>;
    if (details.key && details.lastModified && details.tables)
      return { key: details.key, lastModified: details.lastModified, tables: details.tables };
  }
  return null;
}

export function pickBackup(listing: BackupObject[], options: RestoreOptions): BackupObject | null {
  if (options.pick === 'newest') return listing[0] ?? null;
  const oldest =
    options.withinSeconds === null ? 0 : options.now.getTime() - options.withinSeconds * 1000;
  const window = listing.filter((backup) => backup.lastModified.getTime() >= oldest);
  return window[Math.floor((options.random ?? Math.random)() * window.length)] ?? null;
}

/** How the restore test runs pg_restore (the benchmark's bare side uses the same). */
export function pgRestoreArgs(file: string, port: number): string[] {
  return [
    '--exit-on-error',
    '--no-owner',
    '--no-privileges',
    ...localServerArgs(port),
    '-d',
    'postgres',
    file,
  ];
}

/** Null when pg_restore succeeded, else its first error line. */
async function pgRestore(file: string, port: number): Promise<string | null> {
  try {
    await run(path.join(PG_BIN, 'pg_restore'), pgRestoreArgs(file, port), {
      maxBuffer: 16 * 1024 * 1024,
    });
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

/**
 * Rows per table in the dump's own data sections (`pg_restore -f -` prints each table's rows as
 * COPY lines, one row a line), named as countRows names them. What the backup holds, read apart
 * from the restore that is being checked.
 */
async function dumpRowCounts(file: string): Promise<Record<string, number> | { error: string }> {
  const child = spawn(path.join(PG_BIN, 'pg_restore'), ['--data-only', '-f', '-', file], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', resolve);
  });
  const counts: Record<string, number> = {};
  let table: string | null = null;
  for await (const line of createInterface({ input: child.stdout, crlfDelay: Infinity })) {
    if (table === null) {
      const copy = /^COPY (\S+) (?:.* )?FROM stdin;$/.exec(line);
      if (copy?.[1]) {
        table = copy[1].replace(/^public\./, '');
        // lifeboat's own write checks are not the service's data (countRows skips them too).
        if (!table.startsWith('lifeboat.')) counts[table] = counts[table] ?? 0;
      }
    } else if (line === '\\.') table = null;
    else if (table in counts) counts[table] = (counts[table] ?? 0) + 1;
  }
  const code = await exited.catch((error: Error) => error.message);
  if (code !== 0)
    return {
      error: `pg_restore could not list the dump's data (${typeof code === 'string' ? code : stderr.trim().split('\n')[0] || `exit ${code}`})`,
    };
  return counts;
}

/** Every table counted in the dump's snapshot when lifeboat took the backup holds those rows. */
function countsAtBackup(
  tables: Record<string, number>,
  atBackup: Record<string, number>,
): string[] {
  return Object.entries(atBackup).flatMap(([table, rows]) => {
    const restored = tables[table];
    if (restored === undefined)
      return [`${table} held ${rows} rows when the backup was taken but was not restored`];
    return restored === rows
      ? []
      : [`${table} restored ${restored} rows, ${rows} were counted when the backup was taken`];
  });
}

/**
 * Expected tables present; every table holds the rows its dump holds; no table shrank by more
 * than row_tolerance since the last passing restore test of an older backup.
 */
function sanityProblems(
  service: Service,
  tables: Record<string, number>,
  inDump: Record<string, number> | { error: string },
  backup: BackupObject,
  previous: PreviousRestore | null,
): string[] {
  const { expected_tables: expected, row_tolerance: tolerance } = service.backups!.restore_test;
  const problems: string[] = [];
  if (Object.keys(tables).length === 0) problems.push('the restored database has no tables');
  for (const table of expected)
    if (!(table in tables)) problems.push(`expected table ${table} is missing`);
  if (!('error' in inDump)) {
    for (const [table, rows] of Object.entries(inDump)) {
      const restored = tables[table];
      if (restored === undefined) problems.push(`${table} is in the dump but was not restored`);
      else if (restored !== rows)
        problems.push(`${table} restored ${restored} rows, the dump holds ${rows}`);
    }
  }
  if (
    previous &&
    previous.key !== backup.key &&
    new Date(previous.lastModified) < backup.lastModified
  ) {
    for (const [table, before] of Object.entries(previous.tables)) {
      const now = tables[table];
      if (now === undefined || before === 0) continue;
      if ((before - now) / before > tolerance)
        problems.push(
          `${table} has ${now} rows, ${before} in the older backup ${previous.key} (more than ${Math.round(tolerance * 100)}% fewer)`,
        );
    }
  }
  return problems;
}
