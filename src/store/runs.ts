// Rows of the runs table: one execution of a runbook. The engine writes them; history and reports
// read them.

import type { NodeName } from '../providers/types.js';
import { configuredTarget, RUN_KINDS, type RunKind } from '../run-kind.js';
import type { Runbook } from '../runbook/model.js';
import { newestOfEach, sha256Hex, type Sql } from './db.js';

export const RUN_STATUSES = ['running', 'waiting', 'succeeded', 'failed', 'aborted'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

export interface RunRecord {
  id: string;
  runbook: string;
  runbookFile: string;
  service: string | null;
  kind: RunKind;
  status: RunStatus;
  startedBy: string;
  startedAt: string;
  impactAt: string;
  finishedAt: string | null;
  rtoSeconds: number | null;
  rpoExposureSeconds: number | null;
  rpoExposureBytes: number | null;
  /** lower-bound: the old primary was unreachable or still writing at promotion. */
  rpoExposureBound: 'exact' | 'lower-bound' | null;
  rpoExposureDetail: string | null;
  currentStep: number;
  /** Why the run ended as it did (aborted by whom, denied by whom), or null. */
  outcome: string | null;
  /** The node this run promotes (a failback promotes the configured primary). */
  promote: NodeName;
  /** Its runbook changes infrastructure (fence, promote, DNS…): it takes the service's lock. */
  mutates: boolean;
  /** How the requester reached us: `slack`, `cli:alice`. */
  startedVia: string | null;
}

export interface NewRun {
  id: string;
  runbook: Runbook;
  service: string | null;
  kind: RunKind;
  startedBy: string;
  startedAt: Date;
  impactAt: Date;
  idempotencyKey: string | null;
  promote?: NodeName;
  mutates?: boolean;
  startedVia?: string | null;
}

/** The columns a RunRecord is made of: never the runbook snapshot (kilobytes per run). */
const RUN_FIELDS = `id, runbook, runbook_file, service, kind, status, started_by, started_at, impact_at,
  finished_at, rto_seconds, rpo_exposure_seconds, rpo_exposure_bytes, rpo_exposure_bound,
  rpo_exposure_detail, current_step, outcome, promote, mutates, started_via`;

interface RunRow {
  id: string;
  runbook: string;
  runbook_file: string;
  service: string | null;
  kind: RunKind;
  status: RunStatus;
  started_by: string;
  started_at: string;
  impact_at: string;
  finished_at: string | null;
  rto_seconds: number | null;
  rpo_exposure_seconds: number | null;
  rpo_exposure_bytes: number | null;
  rpo_exposure_bound: 'exact' | 'lower-bound' | null;
  rpo_exposure_detail: string | null;
  current_step: number;
  outcome: string | null;
  promote: NodeName;
  mutates: number;
  started_via: string | null;
}

/** Not finished yet: running, or waiting for people. */
export function isInFlight(run: Pick<RunRecord, 'status'>): boolean {
  return run.status === 'running' || run.status === 'waiting';
}

export async function insertRun(db: Sql, run: NewRun): Promise<RunRecord> {
  // The runbook as it is now, stored once per content: the runs of an unchanged runbook share it.
  const snapshot = JSON.stringify(run.runbook);
  const hash = sha256Hex(snapshot);
  await db.run(
    'INSERT INTO runbook_snapshots (hash, body) VALUES (?, ?) ON CONFLICT (hash) DO NOTHING',
    hash,
    snapshot,
  );
  await db.run(
    `INSERT INTO runs (id, runbook, runbook_file, runbook_hash, service, kind, status, started_by,
                       started_at, impact_at, idempotency_key, promote, mutates, started_via)
     VALUES (?, ?, ?, ?, ?, ?, 'running', ?, ?, ?, ?, ?, ?, ?)`,
    run.id,
    run.runbook.name,
    run.runbook.file,
    hash,
    run.service,
    run.kind,
    run.startedBy,
    run.startedAt.toISOString(),
    run.impactAt.toISOString(),
    run.idempotencyKey,
    run.promote ?? configuredTarget(run.kind),
    run.mutates ? 1 : 0,
    run.startedVia ?? null,
  );
  return (await getRun(db, run.id))!;
}

/** Marks a run finished with the RTO the engine measured (null when recovery was never verified). */
export async function finishRun(
  db: Sql,
  id: string,
  outcome: {
    status: Exclude<RunStatus, 'running' | 'waiting'>;
    finishedAt: Date;
    rtoSeconds: number | null;
  },
): Promise<void> {
  const { status, finishedAt, rtoSeconds } = outcome;
  await db.run(
    'UPDATE runs SET status = ?, finished_at = ?, rto_seconds = ? WHERE id = ?',
    status,
    finishedAt.toISOString(),
    rtoSeconds,
    id,
  );
}

export async function updateRun(
  db: Sql,
  id: string,
  patch: Partial<
    Pick<
      RunRecord,
      | 'status'
      | 'currentStep'
      | 'rtoSeconds'
      | 'rpoExposureSeconds'
      | 'rpoExposureBytes'
      | 'rpoExposureBound'
      | 'rpoExposureDetail'
      | 'outcome'
      | 'finishedAt'
    >
  >,
): Promise<void> {
  const columns: Record<string, unknown> = {
    status: patch.status,
    current_step: patch.currentStep,
    rto_seconds: patch.rtoSeconds,
    rpo_exposure_seconds: patch.rpoExposureSeconds,
    rpo_exposure_bytes: patch.rpoExposureBytes,
    rpo_exposure_bound: patch.rpoExposureBound,
    rpo_exposure_detail: patch.rpoExposureDetail,
    outcome: patch.outcome,
    finished_at: patch.finishedAt,
  };
  const set = Object.entries(columns).filter(([, value]) => value !== undefined);
  if (set.length === 0) return;
  await db.run(
    `UPDATE runs SET ${set.map(([name]) => `${name} = ?`).join(', ')} WHERE id = ?`,
    ...set.map(([, value]) => value),
    id,
  );
}

/** The runs in flight (of one service, or all), oldest first; from the in-flight index. */
export async function listRunsInFlight(db: Sql, service?: string | null): Promise<RunRecord[]> {
  const inFlight = `SELECT ${RUN_FIELDS} FROM runs WHERE status IN ('running', 'waiting')`;
  const rows = service
    ? await db.all<RunRow>(`${inFlight} AND service = ? ORDER BY started_at, rowid`, service)
    : await db.all<RunRow>(`${inFlight} ORDER BY started_at, rowid`);
  return rows.map(toRecord);
}

/**
 * The runs that hold a service's one-at-a-time lock: those in flight, and those aborted while an
 * action was still executing (the lock is released only once its result is recorded).
 */
export async function listRunsHoldingLock(db: Sql, service: string): Promise<RunRecord[]> {
  const rows = await db.all<RunRow>(
    `SELECT ${RUN_FIELDS} FROM runs WHERE service = ? AND (status IN ('running', 'waiting')
         OR (status = 'aborted' AND EXISTS (
           SELECT 1 FROM run_steps s WHERE s.run_id = runs.id AND s.state = 'executing')))
       ORDER BY started_at, rowid`,
    service,
  );
  return rows.map(toRecord);
}

/** The runbook as it was when the run started. */
export async function getRunbookSnapshot(db: Sql, id: string): Promise<Runbook | null> {
  const row = await db.get<{ body: string }>(
    `SELECT body FROM runs JOIN runbook_snapshots ON runbook_snapshots.hash = runs.runbook_hash
     WHERE runs.id = ?`,
    id,
  );
  return row ? (JSON.parse(row.body) as Runbook) : null;
}

export async function getRun(db: Sql, id: string): Promise<RunRecord | null> {
  const row = await db.get<RunRow>(`SELECT ${RUN_FIELDS} FROM runs WHERE id = ?`, id);
  return row ? toRecord(row) : null;
}

/**
 * The newest run of `runbook` that succeeded having done something: a DR test whose every step
 * was skipped proves nothing. One query, whatever the history's length.
 */
export async function lastDoneRun(db: Sql, runbook: string): Promise<RunRecord | null> {
  const row = await db.get<RunRow>(
    `SELECT ${RUN_FIELDS} FROM runs WHERE runbook = ? AND status = 'succeeded'
       AND finished_at IS NOT NULL
       AND EXISTS (SELECT 1 FROM run_steps s WHERE s.run_id = runs.id AND s.state = 'done')
     ORDER BY finished_at DESC LIMIT 1`,
    runbook,
  );
  return row ? toRecord(row) : null;
}

/**
 * The newest finished run of each kind for a service, however long ago (a quarterly drill is not
 * among the last 200 runs of a team with 50 services): one index seek per kind.
 */
export async function lastRunOfEachKind(db: Sql, services: string[]): Promise<RunRecord[]> {
  const rows = await newestOfEach<RunRow>(db, {
    table: 'runs',
    fields: RUN_FIELDS,
    keys: ['service', 'kind'],
    groups: services.flatMap((service) => RUN_KINDS.map((kind) => [service, kind])),
    where: 'finished_at IS NOT NULL',
    newest: 'finished_at DESC',
  });
  return rows.map(toRecord);
}

/** Newest first. */
export async function listRuns(db: Sql, limit = 50): Promise<RunRecord[]> {
  const rows = await db.all<RunRow>(
    `SELECT ${RUN_FIELDS} FROM runs ORDER BY started_at DESC, rowid DESC LIMIT ?`,
    limit,
  );
  return rows.map(toRecord);
}

function toRecord(row: RunRow): RunRecord {
  return {
    id: row.id,
    runbook: row.runbook,
    runbookFile: row.runbook_file,
    service: row.service,
    kind: row.kind,
    status: row.status,
    startedBy: row.started_by,
    startedAt: row.started_at,
    impactAt: row.impact_at,
    finishedAt: row.finished_at,
    rtoSeconds: row.rto_seconds,
    rpoExposureSeconds: row.rpo_exposure_seconds,
    rpoExposureBytes: row.rpo_exposure_bytes ?? null,
    rpoExposureBound: row.rpo_exposure_bound ?? null,
    rpoExposureDetail: row.rpo_exposure_detail ?? null,
    currentStep: row.current_step,
    outcome: row.outcome ?? null,
    promote: row.promote ?? 'replica',
    mutates: row.mutates === 1,
    startedVia: row.started_via ?? null,
  };
}
