// The gates a step passes before its action runs: the two-person approval request (with the
// measured lag for a promotion), the fence gate (the old primary must not still accept writes)
// and the RPO gate (lag within the RPO). A blocked gate is passed only by an override that a
// second person approves. All commit through the step runner; all fail closed.

import type { Service } from '../config.js';
import { ProviderError } from '../errors.js';
import { formatDuration } from '../duration.js';
import type { Step } from '../runbook/model.js';
import type { LagMeasurement, NodeProbe } from '../providers/types.js';
import type { AuditEvent } from '../store/audit.js';
import {
  approvalsFor,
  setApprovalStatus,
  type ApprovalGate,
  type ApprovalRecord,
} from '../store/approvals.js';
import { updateRun, type RunRecord } from '../store/runs.js';
import { GATE_OVERRIDES, updateStep } from '../store/steps.js';
import { describeLag } from '../actions/db/describe-lag.js';
import { newestRestorable } from '../actions/backup/restorable.js';
import { describeBackupTime } from '../actions/backup/taken-at.js';
import type { ActionContext } from '../actions/types.js';
import type { EngineEvent } from './events.js';
import type { Seen, StepRunnerDeps } from './transitions.js';

/** What the gates need from the step runner. */
export interface GateKit {
  deps: StepRunnerDeps;
  commit(
    runId: string,
    change: (events: EngineEvent[], audit: AuditEvent[]) => Promise<void>,
    seen?: Seen,
  ): Promise<void>;
  requestApproval(
    run: RunRecord,
    stepIndex: number,
    gate: ApprovalGate,
    requestedBy: string,
    required: number,
    reason: string | null,
    binding?: Binding,
  ): Promise<ApprovalRecord>;
  isApproved(runId: string, stepIndex: number, gate: ApprovalGate): Promise<boolean>;
}

/** What an approval covers: the plan shown (its hash) and the attempt of the step. */
export interface Binding {
  planHash: string | null;
  attempt: number;
}

/** Data a promotion may lose, as honestly as it can be known. */
export interface RpoExposure {
  seconds: number | null;
  bytes: number | null;
  /** lower-bound: the primary was unreachable or still writing, so more may be lost. */
  bound: 'exact' | 'lower-bound';
  detail: string;
}

/**
 * Asks for the step's two-person approval, for this plan and attempt. A request still open for
 * the same plan is waited on; one for a plan that has changed since is withdrawn and asked anew.
 * An expired one is asked again only on request (renew).
 */
export async function askForApproval(
  kit: GateKit,
  run: RunRecord,
  step: Step,
  seen: Seen,
  context: ActionContext,
  binding: Binding,
): Promise<void> {
  const db = kit.deps.store;
  const open = await approvalsFor(db, run.id, step.index, 'two-person');
  const pending = open.filter((approval) => approval.status === 'pending');
  if (pending.some((approval) => approval.planHash === binding.planHash)) return;
  const latest = open.at(-1);
  if (latest?.status === 'expired' && latest.planHash === binding.planHash) return;
  const plan = step.action
    ? kit.deps.actions[step.action].plan(context)
    : `a second person agrees to step ${step.index + 1}: ${step.text}`;
  const lag =
    step.action === 'db.promote' && context.providers.database ? await measureLag(context) : null;
  const lagLine =
    lag === null
      ? ''
      : ` Replication lag now: ${lag.measurement ? describeLag(lag.measurement, context.service?.rpoSeconds ?? null) : lag.error}.`;
  await kit.commit(
    run.id,
    async (events, audit) => {
      const now = kit.deps.clock().toISOString();
      for (const stale of pending)
        await setApprovalStatus(
          db,
          stale.id,
          'expired',
          now,
          'the plan changed since it was asked',
        );
      const approval = await kit.requestApproval(
        run,
        step.index,
        'two-person',
        run.startedBy,
        kit.deps.config.approvals.required,
        null,
        binding,
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
          attempt: binding.attempt,
          plan: binding.planHash,
        },
      });
      events.push({
        type: 'approval.requested',
        runId: run.id,
        approval,
        summary: `${plan}${lagLine}`,
      });
    },
    seen,
  );
}

/**
 * Before promotion: the old primary must not accept writes. Fenced, a standby, or not answering
 * passes (an unreachable primary is the disaster itself: the exposure says so); a writable one
 * blocks the step until it is fenced, or until a "promote unfenced" override is approved.
 */
export async function fenceGate(
  kit: GateKit,
  run: RunRecord,
  step: Step,
  seen: Seen,
  context: ActionContext,
  service: Service,
): Promise<{ blocked: boolean; source: NodeProbe | null }> {
  const database = context.providers.database;
  if (!database) return { blocked: false, source: null };
  const source = await database.probe(database.source);
  if (
    source.role !== 'writable' ||
    database.promotionFences === true ||
    (await kit.isApproved(run.id, step.index, 'fence-override'))
  )
    return { blocked: false, source };
  const reason = `${service.name}'s ${database.sourceName} still accepts writes: fence it first (a db.fence step before the promotion), or override — promote unfenced, with a reason a second person approves. Promoting now would leave two writable primaries.`;
  await block(kit, run, step, seen, 'fence-gate', reason, { source }, 'gate.fence-blocked', {
    source: database.sourceName,
    role: source.role,
  });
  return { blocked: true, source };
}

/** Before promotion: lag within the RPO, or an override approved by a second person. */
export async function rpoGate(
  kit: GateKit,
  run: RunRecord,
  step: Step,
  seen: Seen,
  context: ActionContext,
  service: Service,
): Promise<{ blocked: boolean; exposure: RpoExposure | null }> {
  if (step.action === 'db.restore') return restoreGate(kit, run, step, seen, context, service);
  const fence = context.earlier('db.fence');
  const fencedAt =
    fence?.state === 'done' && fence.details.state === 'fenced'
      ? ((fence.details.finalLsn as string | null) ?? null)
      : null;
  const lag = await measureLag(context, fencedAt);
  const measurement = lag.measurement;
  const exposure = measurement ? exposureOf(measurement, fencedAt) : null;
  const isOverridden = await kit.isApproved(run.id, step.index, 'rpo-override');
  const problem =
    measurement === null
      ? `replication lag could not be measured (${lag.error})`
      : measurement.targetIsReplica &&
          (measurement.lagSeconds === null || measurement.lagSeconds > service.rpoSeconds)
        ? `replication ${describeLag(measurement, service.rpoSeconds)}`
        : null;
  if (problem === null || isOverridden) return { blocked: false, exposure };
  const reason = `${problem}. Promoting now could lose that much committed data. Wait and retry, or override with a reason (a second person must approve).`;
  await block(kit, run, step, seen, 'rpo-gate', reason, { lag: measurement }, 'gate.rpo-blocked', {
    lagSeconds: measurement?.lagSeconds ?? null,
    rpoSeconds: service.rpoSeconds,
  });
  return { blocked: true, exposure };
}

/**
 * Before a restore: what it loses is everything written after the newest backup (more if that one
 * fails its checksum and an older one is restored: a lower bound). Over the RPO, the step waits
 * for a newer backup or an override a second person approves.
 */
async function restoreGate(
  kit: GateKit,
  run: RunRecord,
  step: Step,
  seen: Seen,
  context: ActionContext,
  service: Service,
): Promise<{ blocked: boolean; exposure: RpoExposure | null }> {
  let exposure: RpoExposure | null = null;
  let problem: string | null;
  try {
    const newest = await newestRestorable(context);
    if (!newest) problem = 'there is no backup to restore';
    else {
      const at = newest.at;
      const seconds = Math.max(0, (Date.parse(run.impactAt) - at.getTime()) / 1000);
      exposure = {
        seconds,
        bytes: null,
        bound: 'lower-bound',
        detail: `≥ ${formatDuration(seconds)}: everything written between the newest backup (${newest.key}, ${describeBackupTime(newest)}) and the impact — more if it fails its checksum and an older one is restored`,
      };
      problem =
        seconds > service.rpoSeconds
          ? `the newest backup, ${newest.key}, is ${formatDuration(seconds)} older than the impact, over the RPO of ${formatDuration(service.rpoSeconds)}`
          : null;
    }
  } catch (error) {
    if (!(error instanceof ProviderError)) throw error;
    problem = `the backups could not be read (${error.message})`;
  }
  if (problem === null || (await kit.isApproved(run.id, step.index, 'rpo-override')))
    return { blocked: false, exposure };
  const reason = `${problem}. Restoring it loses that much committed data. Wait for a newer backup and retry, or override with a reason (a second person must approve).`;
  await block(kit, run, step, seen, 'rpo-gate', reason, { exposure }, 'gate.rpo-blocked', {
    exposureSeconds: exposure?.seconds ?? null,
    rpoSeconds: service.rpoSeconds,
  });
  return { blocked: true, exposure };
}

/** The step waits on `gate` with `reason`, unless an override of it is already pending. */
async function block(
  kit: GateKit,
  run: RunRecord,
  step: Step,
  seen: Seen,
  gate: keyof typeof GATE_OVERRIDES,
  reason: string,
  details: Record<string, unknown>,
  auditAction: string,
  auditDetails: Record<string, unknown>,
): Promise<void> {
  const db = kit.deps.store;
  const overrides = await approvalsFor(db, run.id, step.index, GATE_OVERRIDES[gate]);
  if (overrides.some((approval) => approval.status === 'pending')) return;
  await kit.commit(
    run.id,
    async (events, audit) => {
      await updateStep(db, run.id, step.index, {
        waitingOn: gate,
        summary: reason,
        details,
      });
      await updateRun(db, run.id, { status: 'waiting' });
      audit.push({
        actor: 'system',
        action: auditAction,
        subject: run.id,
        details: { step: step.index, ...auditDetails },
      });
      events.push({
        type: 'step.blocked',
        runId: run.id,
        stepIndex: step.index,
        reason,
        waitingOn: gate,
      });
    },
    seen,
  );
}

/** What a promotion now would lose, with whether that is all or only what can be seen. */
export function exposureOf(lag: LagMeasurement, fencedAt: string | null): RpoExposure {
  if (!lag.targetIsReplica)
    return { seconds: 0, bytes: 0, bound: 'exact', detail: 'the target was already promoted' };
  const amount =
    lag.lagBytes === 0
      ? '0 bytes'
      : `${lag.lagSeconds === null ? 'unknown time' : `${lag.lagSeconds.toFixed(1)} s`}${lag.lagBytes === null ? '' : ` (${lag.lagBytes} bytes)`}`;
  const detail =
    lag.bound === 'exact'
      ? fencedAt
        ? `${amount} — the primary was fenced at ${fencedAt}; compared with what the replica had replayed`
        : `${amount} — the primary refused writes (fenced) when measured`
      : lag.primaryReachable
        ? `≥ ${amount} — the primary still accepted writes (promoted unfenced), so it may have taken more`
        : `≥ ${amount} — primary unreachable, measured on the replica (WAL it never shipped cannot be seen)`;
  return { seconds: lag.lagSeconds, bytes: lag.lagBytes, bound: lag.bound, detail };
}

export async function measureLag(
  context: ActionContext,
  fencedAt: string | null = null,
): Promise<{ measurement: LagMeasurement | null; error: string | null }> {
  try {
    if (!context.providers.database)
      return { measurement: null, error: 'the service has no database' };
    return { measurement: await context.providers.database.measureLag({ fencedAt }), error: null };
  } catch (error) {
    if (error instanceof ProviderError) return { measurement: null, error: error.message };
    throw error;
  }
}
