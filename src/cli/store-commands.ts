// `lifeboat history`, `report`, `audit verify` read the store named by the config; `store backup`
// and `store restore` copy it whole.

import { history } from '../../commands/history.js';
import type { StoreLocation } from '../config.js';
import { loadConfigCached } from '../config/cache.js';
import { NotFound, UsageError, redact } from '../errors.js';
import { renderReport } from '../report.js';
import { getRunView, shortExposure } from '../engine/run-view.js';
import { unprotectedAfter } from '../store/protection.js';
import { formatDuration } from '../duration.js';
import { findAuditHash, recordAuditCheckpoint } from '../store/audit.js';
import { verifyAuditLogParallel } from '../store/audit-verify-parallel.js';
import { openStore, type Store } from '../store/db.js';
import { describeStore, openStoreAt } from '../store/open.js';
import { copyToPostgres } from '../store/to-postgres.js';
import { POSTGRES_URL, SCHEMA_NAME } from '../config/names.js';
import type { RunRecord } from '../store/runs.js';
import path from 'node:path';
import { assertNotRunning } from '../local/running.js';
import { backupStore, restoreStore, type StoreCopy } from '../store/copy.js';
import { formatTable, type Io } from './io.js';
import { RUN_COLUMNS, runCells } from './runs-table.js';
import { cliPersonName } from '../people.js';

type Env = Record<string, string | undefined>;

export async function showHistory(
  options: { json?: boolean; limit?: string },
  io: Io,
  env: Env,
  clock: () => Date,
): Promise<number> {
  const config = await loadConfigCached(env);
  return withStore(config.store, async (store) => {
    const args = options.limit === undefined ? [] : [options.limit];
    const runs = await history.run(args, { config, store, user: 'cli', clock });
    const now = clock();
    const rows = await Promise.all(
      runs.map(async (run) => ({ run, unprotected: await unprotectedAfter(store, run.id, now) })),
    );
    io.out(
      options.json
        ? JSON.stringify(rows.map(historyJson), null, 2)
        : historyTable(rows, cliPersonName(config.cliUsers)),
    );
    return 0;
  });
}

export async function showReport(
  runId: string,
  options: { markdown?: boolean; html?: boolean },
  io: Io,
  env: Env,
  clock: () => Date = () => new Date(),
): Promise<number> {
  const config = await loadConfigCached(env);
  if (options.markdown && options.html) throw new UsageError('--markdown or --html, not both');
  return withStore(config.store, async (store) => {
    const view = await getRunView(store, runId, clock());
    if (!view) throw new NotFound(`no run "${runId}": lifeboat history lists the recent ones`);
    if (options.html) {
      const { renderHtmlReport } = await import('../report-html.js');
      io.out(await renderHtmlReport(view, store, config, clock()));
      return 0;
    }
    io.out(
      await renderReport(view, store, config, options.markdown ? 'markdown' : 'text', clock()),
    );
    return 0;
  });
}

export async function verifyAudit(
  options: { since?: string },
  io: Io,
  env: Env,
  clock: () => Date,
): Promise<number> {
  const config = await loadConfigCached(env);
  return withStore(config.store, async (store) => {
    // Walked by every core at once, each over its own connection to the store.
    const result = await verifyAuditLogParallel(store, config.store, {
      // The verdict is the same, only slower: say why, so a slow verify is not a mystery.
      onOneThread: (why) => io.err(`audit verify: walked on one thread (${why})`),
    });
    if (!result.ok) {
      io.err(
        `audit log broken at event #${result.brokenAt}: ${result.reason} (${result.count} events before it are intact; store ${store.location})`,
      );
      return 1;
    }
    await recordAuditCheckpoint(store, { seq: result.count, hash: result.headHash }, clock());
    io.out(`audit log intact: ${result.count} events (store ${store.location})`);
    io.out(`head ${result.headHash}`);
    if (options.since) {
      const seq = await findAuditHash(store, options.since);
      if (seq === null) {
        io.err(
          `${options.since} is not in the chain: the log was cut or rewritten after that hash was published`,
        );
        return 1;
      }
      io.out(
        `${options.since} is event #${seq}: nothing after it was cut (${result.count - seq} events since)`,
      );
    }
    return 0;
  });
}

/** `lifeboat store backup FILE`: an online snapshot, proven before it gets its name. */
export async function backupStoreTo(destination: string, io: Io, env: Env): Promise<number> {
  const config = await loadConfigCached(env);
  return withStore(config.store, async (store) => {
    const copy = await backupStore(store, path.resolve(destination));
    io.out(`store backed up to ${copy.file}: ${describeCopy(copy)}`);
    return 0;
  });
}

/** `lifeboat store restore FILE`: the proven copy in place of the store; the old one kept. */
export async function restoreStoreFrom(
  source: string,
  io: Io,
  env: Env,
  clock: () => Date,
): Promise<number> {
  const config = await loadConfigCached(env);
  if (config.store.kind !== 'sqlite')
    throw new UsageError(
      "lifeboat store restore puts a SQLite copy in place of a SQLite store; a PostgreSQL store is restored with the database server's own tools (pg_restore, point-in-time recovery)",
    );
  const file = config.store.file;
  assertNotRunning(path.dirname(file), 'restore its store');
  const { restored, keptAt } = await restoreStore(file, path.resolve(source), clock());
  io.out(`store ${restored.file} restored from ${source}: ${describeCopy(restored)}`);
  io.out(
    keptAt
      ? `the store it replaced is kept at ${keptAt}`
      : 'there was no store there before: nothing was replaced',
  );
  return 0;
}

/** `lifeboat store migrate --to URL`: the SQLite store, whole and proven, into PostgreSQL. */
export async function migrateStoreTo(
  options: { to: string; schema?: string },
  io: Io,
  env: Env,
): Promise<number> {
  const config = await loadConfigCached(env);
  if (config.store.kind !== 'sqlite')
    throw new UsageError(
      `the store is already in PostgreSQL (${describeStore(config.store)}): there is nothing to migrate`,
    );
  if (!POSTGRES_URL.test(options.to))
    throw new UsageError(
      `--to must be a PostgreSQL URL like postgres://lifeboat@db.internal:5432/ops, not ${JSON.stringify(redact(options.to))}`,
    );
  if (options.schema !== undefined && !SCHEMA_NAME.test(options.schema))
    throw new UsageError(`--schema must be a plain lower-case name like lifeboat`);
  const file = config.store.file;
  assertNotRunning(path.dirname(file), 'copy its store');
  const target = { kind: 'postgres' as const, url: options.to, schema: options.schema ?? null };
  const source = openStore(file);
  try {
    const report = await copyToPostgres(source, target);
    const rows = report.rows;
    io.out(
      `copied ${file} to ${describeStore(target)}: ${rows.runs} runs, ${rows.run_steps} steps, ${rows.approvals} approvals, ${rows.check_results} check results, ${report.auditEvents} audit events — chain verified in PostgreSQL${report.headHash ? `, head ${report.headHash}` : ''}`,
    );
    const url = describeStore(target);
    const setting = options.schema
      ? `store: { url: "${url}", schema: ${options.schema} }`
      : `store: "${url}"`;
    io.out(
      `next: in lifeboat.yml, ${setting} (the password in PGPASSWORD or ~/.pgpass, not in the file), then start lifeboat. ${file} is left as it was.`,
    );
    return 0;
  } finally {
    await source.close();
  }
}

function describeCopy(copy: StoreCopy): string {
  return `schema version ${copy.schemaVersion}, ${copy.runs} runs, ${copy.auditEvents} audit events, chain intact${copy.headHash ? ` (head ${copy.headHash})` : ''}`;
}

interface HistoryRow {
  run: RunRecord;
  unprotected: Awaited<ReturnType<typeof unprotectedAfter>>;
}

/** DESIGN.md's `lifeboat history --json` shape (the RPO and protection fields came later). */
function historyJson({ run, unprotected }: HistoryRow) {
  return {
    id: run.id,
    runbook: run.runbook,
    service: run.service,
    kind: run.kind,
    status: run.status,
    started_at: run.startedAt,
    finished_at: run.finishedAt,
    rto_seconds: run.rtoSeconds,
    rpo_exposure_seconds: run.rpoExposureSeconds,
    rpo_exposure_bytes: run.rpoExposureBytes,
    rpo_exposure_bound: run.rpoExposureBound,
    unprotected_seconds: unprotected ? Math.round(unprotected.seconds) : null,
    unprotected_ongoing: unprotected ? unprotected.ongoing : null,
  };
}

function historyTable(rows: HistoryRow[], personName: (id: string) => string): string {
  if (rows.length === 0) return 'no runs yet';
  return formatTable([
    [...RUN_COLUMNS, 'RTO', 'RPO', 'UNPROTECTED'],
    ...rows.map(({ run, unprotected }) => [
      ...runCells(run, personName),
      run.rtoSeconds === null ? '-' : formatDuration(run.rtoSeconds),
      shortExposure(run),
      unprotected
        ? `${formatDuration(unprotected.seconds)}${unprotected.ongoing ? ' so far' : ''}`
        : '-',
    ]),
  ]);
}

async function withStore<T>(
  location: StoreLocation,
  use: (store: Store) => T | Promise<T>,
): Promise<T> {
  const store = await openStoreAt(location);
  try {
    return await use(store);
  } finally {
    await store.close();
  }
}
