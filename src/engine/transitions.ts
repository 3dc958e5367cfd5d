// A run's transitions, each inside one transaction with its audit events, the engine events sent
// after commit: a step finishes, the run moves on (stopping the RTO clock at recovery, finishing
// after the last step), an approval is requested. Shared by the step runner and the commands.

import { SELF, assertHolds } from './executor-lease.js';
import { createHash } from 'node:crypto';
import type { Config, Service } from '../config.js';
import type { ActionRegistry } from '../actions/registry.js';
import type { ServiceProviders } from '../actions/types.js';
import type { Logger } from '../log.js';
import type { NodeName } from '../providers/types.js';
import type { RunKind } from '../runbook/model.js';
import { allSteps, type Runbook, type Step } from '../runbook/model.js';
import { recordAuditEvents, type AuditEvent } from '../store/audit.js';
import {
  approvalsFor,
  getApproval,
  insertApproval,
  type ApprovalGate,
  type ApprovalRecord,
} from '../store/approvals.js';
import type { Store } from '../store/db.js';
import {
  getRun,
  getRunbookSnapshot,
  isInFlight,
  updateRun,
  type RunRecord,
} from '../store/runs.js';
import { getSteps, recordStepEvent, updateStep } from '../store/steps.js';
import type { EngineEvent } from './events.js';
import { recoveryStepIndex } from './run-view.js';

/** What an approval covers: the plan shown (its hash) and the attempt of the step. */
export interface ApprovalBinding {
  planHash: string | null;
  attempt: number;
}

/** The hash an approval is bound to: run, step and the plan as it was shown. */
export function hashPlan(runId: string, stepIndex: number, plan: string): string {
  return createHash('sha256').update(`${runId}\n${stepIndex}\n${plan}`).digest('hex');
}

/**
 * The store says approved; the audit log must agree: approving votes by enough people other than
 * the requester. A status set by hand in the database has none.
 */
export function hasAuditedVotes(db: Store['db'], approval: ApprovalRecord): boolean {
  const rows = db
    .prepare(
      `SELECT DISTINCT actor FROM audit_log
       WHERE action = 'approval.granted' AND subject = ? AND json_extract(details, '$.approval') = ?`,
    )
    .all(approval.runId, approval.id) as { actor: string }[];
  const voters = rows.map((row) => row.actor).filter((actor) => actor !== approval.requestedBy);
  return voters.length >= approval.required;
}

export interface TransitionDeps {
  store: Store;
  config: Config;
  clock: () => Date;
  newId: (prefix: 'r' | 'a') => string;
  emit: (event: EngineEvent) => void;
  /** Who this process is when it claims a run to walk (tests run two in one process). */
  executorId?: string;
}

/** Which providers a run of `kind` on `service` uses (real ones, or a test's). */
export type ProvidersFor = (
  service: Service | null,
  kind: RunKind,
  promote?: NodeName,
) => ServiceProviders;

/** What the step runner (and its gates) need besides the transitions'. */
export interface StepRunnerDeps extends TransitionDeps {
  actions: ActionRegistry;
  providersFor: ProvidersFor;
  sleep: (ms: number) => Promise<void>;
  logger?: Logger;
}

type Commit = (events: EngineEvent[], audit: AuditEvent[]) => void;

export class Transitions {
  private readonly snapshots = new Map<string, Runbook>();
  /** The runs this process walks now, with the epoch of its claim on each (the fencing token). */
  protected readonly held = new Map<string, number>();
  protected readonly executorId: string;

  constructor(readonly deps: TransitionDeps) {
    this.executorId = deps.executorId ?? SELF;
  }

  runbookOf(runId: string): Runbook {
    let runbook = this.snapshots.get(runId);
    if (!runbook) {
      runbook = getRunbookSnapshot(this.deps.store.db, runId) ?? undefined;
      if (!runbook) throw new Error(`run ${runId} has no runbook snapshot`);
      this.snapshots.set(runId, runbook);
    }
    return runbook;
  }

  /** Moves the run past `stepIndex`; stops the RTO clock at recovery; finishes after the last step. */
  advance(run: RunRecord, stepIndex: number, events: EngineEvent[]): void {
    const db = this.deps.store.db;
    const runbook = this.runbookOf(run.id);
    const now = this.deps.clock();
    const sinceImpact = (now.getTime() - Date.parse(run.impactAt)) / 1000;
    // The RTO clock stops when recovery is verified: the recovery step done, not skipped. A run
    // whose verification was skipped has no achieved RTO ("recovery not verified").
    const isRecovery =
      stepIndex === recoveryStepIndex(runbook) &&
      run.rtoSeconds === null &&
      getSteps(db, run.id)[stepIndex]?.state === 'done';
    const isLast = stepIndex + 1 >= allSteps(runbook).length;
    const rtoSeconds = isRecovery ? sinceImpact : undefined;
    updateRun(db, run.id, {
      currentStep: stepIndex + 1,
      status: isLast ? 'succeeded' : 'running',
      rtoSeconds,
      finishedAt: isLast ? now.toISOString() : undefined,
    });
    if (!isLast) return;
    const finished = getRun(db, run.id)!;
    recordAuditEvents(
      db,
      [
        {
          actor: 'system',
          action: 'run.finished',
          subject: run.id,
          details: { status: 'succeeded', rtoSeconds: finished.rtoSeconds },
        },
      ],
      this.deps.clock,
    );
    events.push({ type: 'run.finished', runId: run.id, run: finished });
  }

  /**
   * Inside a transaction: the step is done or skipped — by a person or by lifeboat — its event is
   * recorded, and the run moves on. The one way a step finishes.
   */
  finishStep(
    run: RunRecord,
    step: Step,
    finish: {
      state: 'done' | 'skipped';
      actor: string;
      summary: string;
      event: string;
      eventDetails: Record<string, unknown>;
      details?: Record<string, unknown>;
    },
    events: EngineEvent[],
  ): void {
    const db = this.deps.store.db;
    const now = this.deps.clock().toISOString();
    updateStep(db, run.id, step.index, {
      state: finish.state,
      waitingOn: null,
      finishedAt: now,
      actor: finish.actor,
      summary: finish.summary,
      details: finish.details,
    });
    recordStepEvent(db, {
      runId: run.id,
      stepIndex: step.index,
      event: finish.event,
      actor: finish.actor,
      at: now,
      details: finish.eventDetails,
    });
    events.push({
      type: 'step.finished',
      runId: run.id,
      stepIndex: step.index,
      state: finish.state,
      summary: finish.summary,
      by: finish.actor,
    });
    const fresh = getRun(db, run.id)!;
    if (isInFlight(fresh)) this.advance(fresh, step.index, events);
  }

  /** Inside a transaction: a new approval request for the step (for `binding`'s plan and attempt). */
  requestApproval(
    run: RunRecord,
    stepIndex: number,
    gate: ApprovalGate,
    requestedBy: string,
    required: number,
    reason: string | null,
    binding: ApprovalBinding = { planHash: null, attempt: 1 },
  ): ApprovalRecord {
    const now = this.deps.clock();
    const id = this.deps.newId('a');
    insertApproval(this.deps.store.db, {
      id,
      runId: run.id,
      stepIndex,
      gate,
      requestedBy,
      requestedAt: now.toISOString(),
      expiresAt: new Date(
        now.getTime() + this.deps.config.approvals.expiresAfterSeconds * 1000,
      ).toISOString(),
      required,
      reason,
      planHash: binding.planHash,
      attempt: binding.attempt,
    });
    updateStep(this.deps.store.db, run.id, stepIndex, {
      waitingOn: gate === 'two-person' ? 'approval' : 'rpo-gate',
    });
    updateRun(this.deps.store.db, run.id, { status: 'waiting' });
    return getApproval(this.deps.store.db, id)!;
  }

  /** An override of a gate (RPO, fence) was approved, with its vote in the audit log. */
  isApproved(runId: string, stepIndex: number, gate: ApprovalGate): boolean {
    return approvalsFor(this.deps.store.db, runId, stepIndex, gate).some(
      (approval) => approval.status === 'approved' && hasAuditedVotes(this.deps.store.db, approval),
    );
  }

  /**
   * The two-person approval that lets this attempt of the step go ahead: approved, for the plan
   * shown now (its hash), given for this attempt — or for an earlier one, if no older than
   * approvals.expires_after — and backed by approving votes in the audit log.
   */
  validApproval(
    run: RunRecord,
    stepIndex: number,
    binding: ApprovalBinding,
  ): ApprovalRecord | null {
    const now = this.deps.clock().getTime();
    const maxAgeMs = this.deps.config.approvals.expiresAfterSeconds * 1000;
    return (
      approvalsFor(this.deps.store.db, run.id, stepIndex, 'two-person').find(
        (approval) =>
          approval.status === 'approved' &&
          approval.planHash === binding.planHash &&
          (approval.attempt === binding.attempt ||
            now - Date.parse(approval.decidedAt ?? approval.requestedAt) <= maxAgeMs) &&
          hasAuditedVotes(this.deps.store.db, approval),
      ) ?? null
    );
  }

  /** One transaction: the change, its audit events; then the events go out. */
  /**
   * The walker's commit for `runId`: refused (LeaseLost) unless this process still holds the run
   * at the epoch it claimed, so a walker that was paused and taken over commits nothing.
   */
  commit(runId: string, change: Commit): void {
    const events: EngineEvent[] = [];
    const audit: AuditEvent[] = [];
    this.deps.store.db
      .transaction(() => {
        const epoch = this.held.get(runId);
        if (epoch !== undefined) assertHolds(this.deps.store.db, runId, epoch, this.executorId);
        change(events, audit);
        if (audit.length > 0) recordAuditEvents(this.deps.store.db, audit, this.deps.clock);
      })
      .immediate();
    for (const event of events) this.deps.emit(event);
  }

  /** Drops what is cached of a run that ended (a long-lived bot walks thousands of runs). */
  protected forget(runId: string): void {
    this.snapshots.delete(runId);
  }
}
