// `lifeboat history` and `lifeboat audit verify`: read the store named by the config.

import { history } from '../../commands/history.js';
import { loadConfig } from '../config.js';
import { NotFound } from '../errors.js';
import { renderReport } from '../report.js';
import { getRunView } from '../engine/run-view.js';
import { formatDuration } from '../duration.js';
import { verifyAuditLog } from '../store/audit.js';
import { openStore, type Store } from '../store/db.js';
import type { RunRecord } from '../store/runs.js';
import { formatTable, type Io } from './io.js';

type Env = Record<string, string | undefined>;

export async function showHistory(
  options: { json?: boolean; limit?: string },
  io: Io,
  env: Env,
  clock: () => Date,
): Promise<number> {
  const config = loadConfig(env);
  return withStore(config.storePath, async (store) => {
    const args = options.limit === undefined ? [] : [options.limit];
    const runs = await history.run(args, { config, store, user: 'cli', clock });
    io.out(options.json ? JSON.stringify(runs.map(historyJson), null, 2) : historyTable(runs));
    return 0;
  });
}

export function showReport(runId: string, io: Io, env: Env): Promise<number> {
  const config = loadConfig(env);
  return withStore(config.storePath, (store) => {
    const view = getRunView(store.db, runId, new Date());
    if (!view) throw new NotFound(`no run "${runId}": lifeboat history lists the recent ones`);
    io.out(renderReport(view, store.db, config, 'markdown'));
    return 0;
  });
}

export function verifyAudit(io: Io, env: Env): Promise<number> {
  const config = loadConfig(env);
  return withStore(config.storePath, (store) => {
    const result = verifyAuditLog(store.db);
    if (!result.ok) {
      io.err(
        `audit log broken at event #${result.brokenAt}: ${result.reason} (${result.count} events before it are intact; store ${store.file})`,
      );
      return 1;
    }
    io.out(
      `audit log intact: ${result.count} events, head ${result.headHash.slice(0, 16)} (store ${store.file})`,
    );
    return 0;
  });
}

/** DESIGN.md's `lifeboat history --json` shape. */
function historyJson(run: RunRecord) {
  return {
    id: run.id,
    runbook: run.runbook,
    service: run.service,
    kind: run.kind,
    status: run.status,
    started_at: run.startedAt,
    finished_at: run.finishedAt,
    rto_seconds: run.rtoSeconds,
  };
}

function historyTable(runs: RunRecord[]): string {
  if (runs.length === 0) return 'no runs yet';
  return formatTable([
    ['RUN', 'STARTED', 'KIND', 'RUNBOOK', 'SERVICE', 'STATUS', 'RTO'],
    ...runs.map((run) => [
      run.id,
      run.startedAt.replace('T', ' ').slice(0, 16),
      run.kind,
      run.runbook,
      run.service ?? '-',
      run.status,
      run.rtoSeconds === null ? '-' : formatDuration(run.rtoSeconds),
    ]),
  ]);
}

async function withStore<T>(file: string, use: (store: Store) => T | Promise<T>): Promise<T> {
  const store = openStore(file);
  try {
    return await use(store);
  } finally {
    store.close();
  }
}
