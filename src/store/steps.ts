// The state of each step of a run (run_steps) and the history of what happened to it (step_events).

import type { Sql } from './db.js';

/** `aborted`: the step the run was on when it was aborted (not done, and never will be). */
export type StepState = 'pending' | 'active' | 'executing' | 'done' | 'skipped' | 'aborted';
/**
 * Why an active step is not moving: a person, an approval, the RPO gate, the fence gate (the old
 * primary still accepts writes), or a failed action.
 */
export type WaitingOn = 'operator' | 'approval' | 'rpo-gate' | 'fence-gate' | 'failure' | null;

/** The gate a blocked promotion waits on, and the approval that overrides it. */
export const GATE_OVERRIDES = {
  'rpo-gate': 'rpo-override',
  'fence-gate': 'fence-override',
} as const;

export interface StepRecord {
  runId: string;
  stepIndex: number;
  state: StepState;
  waitingOn: WaitingOn;
  startedAt: string | null;
  finishedAt: string | null;
  actor: string | null;
  summary: string | null;
  details: Record<string, unknown>;
}

export interface StepEvent {
  id: number;
  runId: string;
  stepIndex: number;
  event: string;
  actor: string;
  at: string;
  details: Record<string, unknown>;
}

interface StepRow {
  run_id: string;
  step_index: number;
  state: StepState;
  waiting_on: WaitingOn;
  started_at: string | null;
  finished_at: string | null;
  actor: string | null;
  summary: string | null;
  details: string;
}

export async function insertSteps(db: Sql, runId: string, count: number): Promise<void> {
  for (let i = 0; i < count; i++)
    await db.run(
      "INSERT INTO run_steps (run_id, step_index, state) VALUES (?, ?, 'pending')",
      runId,
      i,
    );
}

export async function getSteps(db: Sql, runId: string): Promise<StepRecord[]> {
  const rows = await db.all<StepRow>(
    'SELECT * FROM run_steps WHERE run_id = ? ORDER BY step_index',
    runId,
  );
  return rows.map(toStep);
}

export async function getStep(
  db: Sql,
  runId: string,
  stepIndex: number,
): Promise<StepRecord | null> {
  const row = await db.get<StepRow>(
    'SELECT * FROM run_steps WHERE run_id = ? AND step_index = ?',
    runId,
    stepIndex,
  );
  return row ? toStep(row) : null;
}

export async function updateStep(
  db: Sql,
  runId: string,
  stepIndex: number,
  patch: Partial<Omit<StepRecord, 'runId' | 'stepIndex'>>,
): Promise<void> {
  const columns: Record<string, unknown> = {
    state: patch.state,
    waiting_on: patch.waitingOn,
    started_at: patch.startedAt,
    finished_at: patch.finishedAt,
    actor: patch.actor,
    summary: patch.summary,
    details: patch.details === undefined ? undefined : JSON.stringify(patch.details),
  };
  const set = Object.entries(columns).filter(([, value]) => value !== undefined);
  if (set.length === 0) return;
  await db.run(
    `UPDATE run_steps SET ${set.map(([name]) => `${name} = ?`).join(', ')} WHERE run_id = ? AND step_index = ?`,
    ...set.map(([, value]) => value),
    runId,
    stepIndex,
  );
}

export async function recordStepEvent(db: Sql, event: Omit<StepEvent, 'id'>): Promise<void> {
  await db.run(
    'INSERT INTO step_events (run_id, step_index, event, actor, at, details) VALUES (?, ?, ?, ?, ?, ?)',
    event.runId,
    event.stepIndex,
    event.event,
    event.actor,
    event.at,
    JSON.stringify(event.details),
  );
}

export async function listStepEvents(db: Sql, runId: string): Promise<StepEvent[]> {
  const rows = await db.all<{
    id: number;
    run_id: string;
    step_index: number;
    event: string;
    actor: string;
    at: string;
    details: string;
  }>('SELECT * FROM step_events WHERE run_id = ? ORDER BY id', runId);
  return rows.map((row) => ({
    id: row.id,
    runId: row.run_id,
    stepIndex: row.step_index,
    event: row.event,
    actor: row.actor,
    at: row.at,
    details: JSON.parse(row.details) as Record<string, unknown>,
  }));
}

function toStep(row: StepRow): StepRecord {
  return {
    runId: row.run_id,
    stepIndex: row.step_index,
    state: row.state,
    waitingOn: row.waiting_on,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    actor: row.actor,
    summary: row.summary,
    details: JSON.parse(row.details) as Record<string, unknown>,
  };
}
