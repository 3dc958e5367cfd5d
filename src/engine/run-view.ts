// A run as adapters show it: every step with its state, each phase's time against its budget, the
// RTO clock. Pure reads; renderers are functions of this.

import { allSteps, type Runbook, type Step } from '../runbook/model.js';
import { approvalsOfRun, type ApprovalRecord } from '../store/approvals.js';
import type { Sql } from '../store/db.js';
import { getRun, getRunbookSnapshot, type RunRecord, isInFlight } from '../store/runs.js';
import { getSteps, type StepRecord } from '../store/steps.js';
import { unprotectedAfter } from '../store/protection.js';

export interface StepView extends Step {
  state: StepRecord['state'];
  waitingOn: StepRecord['waitingOn'];
  startedAt: string | null;
  finishedAt: string | null;
  actor: string | null;
  summary: string | null;
  /** What the step's action measured or did (its committed details). */
  result: Record<string, unknown>;
  approvals: ApprovalRecord[];
}

export interface PhaseView {
  index: number;
  title: string;
  budgetMinutes: number | null;
  startedAt: string | null;
  finishedAt: string | null;
  elapsedSeconds: number | null;
  isOverBudget: boolean;
}

export interface RunView {
  run: RunRecord;
  runbook: Runbook;
  steps: StepView[];
  phases: PhaseView[];
  current: StepView | null;
  /** From the impact time to now, or to when recovery was verified. */
  elapsedSeconds: number;
  /** After this run's promotion: how long no replica followed the new writer (so far). */
  unprotected: { seconds: number; ongoing: boolean; since: string } | null;
}

export async function getRunView(db: Sql, runId: string, now: Date): Promise<RunView | null> {
  const run = await getRun(db, runId);
  const runbook = await getRunbookSnapshot(db, runId);
  if (!run || !runbook) return null;
  const records = await getSteps(db, runId);
  const approvals = await approvalsOfRun(db, runId);
  const steps = allSteps(runbook).map((step): StepView => {
    const record = records[step.index];
    return {
      ...step,
      state: record?.state ?? 'pending',
      waitingOn: record?.waitingOn ?? null,
      startedAt: record?.startedAt ?? null,
      finishedAt: record?.finishedAt ?? null,
      actor: record?.actor ?? null,
      summary: record?.summary ?? null,
      result: record?.details ?? {},
      approvals: approvals.filter((approval) => approval.stepIndex === step.index),
    };
  });
  // An ended run's phases stop where it ended (an aborted phase does not go on counting).
  const ended = run.finishedAt ? new Date(run.finishedAt) : null;
  const phases = runbook.phases.map((phase) =>
    phaseView(phase.index, phase.title, phase.budgetMinutes, steps, ended ?? now),
  );
  const current = isInFlight(run) ? (steps[run.currentStep] ?? null) : null;
  const end =
    run.rtoSeconds !== null ? null : run.finishedAt ? Date.parse(run.finishedAt) : now.getTime();
  const elapsedSeconds =
    run.rtoSeconds ?? ((end ?? now.getTime()) - Date.parse(run.impactAt)) / 1000;
  const unprotected = await unprotectedAfter(db, runId, now);
  return { run, runbook, steps, phases, current, elapsedSeconds, unprotected };
}

/**
 * The data a promotion may have lost, as honestly as it is known: exact (the old primary was
 * fenced, or refused writes) or a lower bound ("≥": it was unreachable or still writing).
 */
export function describeExposure(run: RunRecord): string | null {
  if (run.rpoExposureDetail) return run.rpoExposureDetail;
  // Runs recorded before exposures carried their bound: the lag at promotion, as it was measured.
  if (run.rpoExposureSeconds !== null)
    return `${run.rpoExposureSeconds.toFixed(1)} s of replication lag at promotion`;
  return null;
}

function phaseView(
  index: number,
  title: string,
  budgetMinutes: number | null,
  steps: StepView[],
  now: Date,
): PhaseView {
  const own = steps.filter((step) => step.phaseIndex === index);
  const started =
    own
      .map((step) => step.startedAt)
      .filter((at): at is string => at !== null)
      .sort()[0] ?? null;
  const isFinished = own.every((step) => step.state === 'done' || step.state === 'skipped');
  const finishedAt = isFinished
    ? (own
        .map((step) => step.finishedAt)
        .filter((at): at is string => at !== null)
        .sort()
        .at(-1) ?? null)
    : null;
  const elapsedSeconds = started
    ? ((finishedAt ? Date.parse(finishedAt) : now.getTime()) - Date.parse(started)) / 1000
    : null;
  const isOverBudget =
    budgetMinutes !== null && elapsedSeconds !== null && elapsedSeconds > budgetMinutes * 60;
  return {
    index,
    title,
    budgetMinutes,
    startedAt: started,
    finishedAt,
    elapsedSeconds,
    isOverBudget,
  };
}

/**
 * The step whose completion means recovery is verified: the last step of the last phase with a
 * time budget (unbudgeted phases — pre-flight and after-action checklists — are outside the RTO
 * clock); without budgets, the last step.
 */
export function recoveryStepIndex(runbook: Runbook): number {
  const budgeted = runbook.phases.filter((phase) => phase.budgetMinutes !== null);
  const phase = budgeted.at(-1) ?? runbook.phases.at(-1);
  return phase?.steps.at(-1)?.index ?? 0;
}

/** The exposure in a few characters for tables: "0 bytes", "≥ 2.1 s", "-" without a promotion. */
export function shortExposure(run: RunRecord): string {
  if (run.rpoExposureBytes === 0 && run.rpoExposureBound === 'exact') return '0 bytes';
  if (run.rpoExposureSeconds === null) return run.rpoExposureDetail ? 'unknown' : '-';
  return `${run.rpoExposureBound === 'lower-bound' ? '≥ ' : ''}${run.rpoExposureSeconds.toFixed(1)} s`;
}
