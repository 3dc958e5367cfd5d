// The gates a step passes before its action runs: the two-person approval request (with the
// measured lag for a promotion) and the RPO gate (lag within the RPO, or an override a second
// person approved). Both commit through the step runner; both fail closed.

import type { Service } from '../config.js';
import { ProviderError } from '../errors.js';
import type { Step } from '../runbook/model.js';
import type { LagMeasurement } from '../providers/types.js';
import type { AuditEvent } from '../store/audit.js';
import { approvalsFor, type ApprovalGate, type ApprovalRecord } from '../store/approvals.js';
import { updateRun, type RunRecord } from '../store/runs.js';
import { updateStep } from '../store/steps.js';
import { describeLag } from '../actions/db/describe-lag.js';
import type { ActionContext } from '../actions/types.js';
import type { EngineEvent } from './events.js';
import type { StepRunnerDeps } from './step-runner.js';

/** What the gates need from the step runner. */
export interface GateKit {
  deps: StepRunnerDeps;
  commit(change: (events: EngineEvent[], audit: AuditEvent[]) => void): void;
  requestApproval(
    run: RunRecord,
    stepIndex: number,
    gate: ApprovalGate,
    requestedBy: string,
    required: number,
    reason: string | null,
  ): ApprovalRecord;
  isApproved(runId: string, stepIndex: number, gate: ApprovalGate): boolean;
}

export async function askForApproval(
  kit: GateKit,
  run: RunRecord,
  step: Step,
  context: ActionContext,
): Promise<void> {
  const open = approvalsFor(kit.deps.store.db, run.id, step.index, 'two-person');
  if (open.some((approval) => approval.status === 'pending')) return;
  if (open.some((approval) => approval.status === 'expired')) return; // renewed on request only
  const plan = kit.deps.actions[step.action!].plan(context);
  const lag =
    step.action === 'db.promote' && context.providers.database ? await measureLag(context) : null;
  const lagLine =
    lag === null
      ? ''
      : ` Replication lag now: ${lag.measurement ? describeLag(lag.measurement, context.service?.rpoSeconds ?? null) : lag.error}.`;
  kit.commit((events, audit) => {
    const approval = kit.requestApproval(
      run,
      step.index,
      'two-person',
      run.startedBy,
      kit.deps.config.approvals.required,
      null,
    );
    audit.push({
      actor: 'system',
      action: 'approval.requested',
      subject: run.id,
      details: {
        step: step.index,
        approval: approval.id,
        action: step.action,
        required: approval.required,
      },
    });
    events.push({
      type: 'approval.requested',
      runId: run.id,
      approval,
      summary: `${plan}${lagLine}`,
    });
  });
}

/** Before promotion: lag within the RPO, or an override approved by a second person. */
export async function rpoGate(
  kit: GateKit,

  run: RunRecord,
  step: Step,
  context: ActionContext,
  service: Service,
): Promise<{ blocked: boolean; exposureSeconds: number | null }> {
  const lag = await measureLag(context);
  const measurement = lag.measurement;
  const exposureSeconds = measurement
    ? measurement.targetIsReplica
      ? measurement.lagSeconds
      : 0
    : null;
  const isOverridden = kit.isApproved(run.id, step.index, 'rpo-override');
  const problem =
    measurement === null
      ? `replication lag could not be measured (${lag.error})`
      : measurement.targetIsReplica &&
          (measurement.lagSeconds === null || measurement.lagSeconds > service.rpoSeconds)
        ? `replication lag is ${describeLag(measurement, service.rpoSeconds)}`
        : null;
  if (problem === null || isOverridden) return { blocked: false, exposureSeconds };
  const overrides = approvalsFor(kit.deps.store.db, run.id, step.index, 'rpo-override');
  if (overrides.some((approval) => approval.status === 'pending'))
    return { blocked: true, exposureSeconds };
  const reason = `${problem}. Promoting now could lose that much committed data. Wait and retry, or override with a reason (a second person must approve).`;
  kit.commit((events, audit) => {
    updateStep(kit.deps.store.db, run.id, step.index, {
      waitingOn: 'rpo-gate',
      summary: reason,
      details: { lag: measurement },
    });
    updateRun(kit.deps.store.db, run.id, { status: 'waiting' });
    audit.push({
      actor: 'system',
      action: 'gate.rpo-blocked',
      subject: run.id,
      details: {
        step: step.index,
        lagSeconds: measurement?.lagSeconds ?? null,
        rpoSeconds: service.rpoSeconds,
      },
    });
    events.push({
      type: 'step.blocked',
      runId: run.id,
      stepIndex: step.index,
      reason,
      waitingOn: 'rpo-gate',
    });
  });
  return { blocked: true, exposureSeconds };
}

export async function measureLag(
  context: ActionContext,
): Promise<{ measurement: LagMeasurement | null; error: string | null }> {
  try {
    if (!context.providers.database)
      return { measurement: null, error: 'the service has no database' };
    return { measurement: await context.providers.database.measureLag(), error: null };
  } catch (error) {
    if (error instanceof ProviderError) return { measurement: null, error: error.message };
    throw error;
  }
}
