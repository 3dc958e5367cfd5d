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
import type { Sql, Store } from '../store/db.js';
import {
  getRun,
  getRunbookSnapshot,
  isInFlight,
  updateRun,
  type RunRecord,
} from '../store/runs.js';
import { getStep, getSteps, recordStepEvent, updateStep, type StepRecord } from '../store/steps.js';
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
 * The approving votes for one approval. The action is written as a literal: that is what lets the
 * partial index of votes (migration 18) serve it on both stores.
 */
export const AUDITED_VOTES_SQL = `SELECT DISTINCT actor FROM audit_log
     WHERE action = 'approval.granted' AND subject = ? AND json_extract(details, '$.approval') = ?`;

/**
 * The store says approved; the audit log must agree: approving votes by enough people other than
 * the requester. A status set by hand in the database has none.
 */
export async function hasAuditedVotes(db: Sql, approval: ApprovalRecord): Promise<boolean> {
  const rows = await db.all<{ actor: string }>(AUDITED_VOTES_SQL, approval.runId, approval.id);
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
  /** Posts to slack.announcements (the bot); absent where lifeboat cannot post (the CLI). */
  announce?: (text: string) => Promise<{ channel: string; ts: string }>;
}

type Commit = (events: EngineEvent[], audit: AuditEvent[]) => Promise<void>;

/**
 * The step as the walker read it when it decided what to do. Between that read and its commit, a
 * person may have acted (a command committed, or a run was aborted): the commit then goes ahead
 * only if the run is still in flight on that step, in that state — else it throws Moved and the
 * walker reads the store again.
 */
export interface Seen {
  stepIndex: number;
  state: StepRecord['state'];
  waitingOn: StepRecord['waitingOn'];
}

/** The step moved on since the walker read it: nothing was committed; walk again. */
export class Moved extends Error {
  constructor(runId: string, stepIndex: number) {
    super(`step ${stepIndex + 1} of run ${runId} changed while lifeboat was deciding what to do`);
    this.name = 'Moved';
  }
}

export class Transitions {
  private readonly snapshots = new Map<string, Runbook>();
  /** The runs this process walks now, with the epoch of its claim on each (the fencing token). */
  protected readonly held = new Map<string, number>();
  protected readonly executorId: string;

  constructor(readonly deps: TransitionDeps) {
    this.executorId = deps.executorId ?? SELF;
  }

  async runbookOf(runId: string): Promise<Runbook> {
    let runbook = this.snapshots.get(runId);
    if (!runbook) {
      runbook = (await getRunbookSnapshot(this.deps.store, runId)) ?? undefined;
      if (!runbook) throw new Error(`run ${runId} has no runbook snapshot`);
      this.snapshots.set(runId, runbook);
    }
    return runbook;
  }

  /** Moves the run past `stepIndex`; stops the RTO clock at recovery; finishes after the last step. */
  async advance(run: RunRecord, stepIndex: number, events: EngineEvent[]): Promise<void> {
    const db = this.deps.store;
    const runbook = await this.runbookOf(run.id);
    const now = this.deps.clock();
    const sinceImpact = (now.getTime() - Date.parse(run.impactAt)) / 1000;
    // The RTO clock stops when recovery is verified: the recovery step done, not skipped. A run
    // whose verification was skipped has no achieved RTO ("recovery not verified").
    const isRecovery =
      stepIndex === recoveryStepIndex(runbook) &&
      run.rtoSeconds === null &&
      (await getSteps(db, run.id))[stepIndex]?.state === 'done';
    const isLast = stepIndex + 1 >= allSteps(runbook).length;
    const rtoSeconds = isRecovery ? sinceImpact : undefined;
    await updateRun(db, run.id, {
      currentStep: stepIndex + 1,
      status: isLast ? 'succeeded' : 'running',
      rtoSeconds,
      finishedAt: isLast ? now.toISOString() : undefined,
    });
    if (!isLast) return;
    const finished = (await getRun(db, run.id))!;
    await recordAuditEvents(
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
  async finishStep(
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
  ): Promise<void> {
    const db = this.deps.store;
    const now = this.deps.clock().toISOString();
    await updateStep(db, run.id, step.index, {
      state: finish.state,
      waitingOn: null,
      finishedAt: now,
      actor: finish.actor,
      summary: finish.summary,
      details: finish.details,
    });
    await recordStepEvent(db, {
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
    const fresh = (await getRun(db, run.id))!;
    if (isInFlight(fresh)) await this.advance(fresh, step.index, events);
  }

  /** Inside a transaction: a new approval request for the step (for `binding`'s plan and attempt). */
  async requestApproval(
    run: RunRecord,
    stepIndex: number,
    gate: ApprovalGate,
    requestedBy: string,
    required: number,
    reason: string | null,
    binding: ApprovalBinding = { planHash: null, attempt: 1 },
  ): Promise<ApprovalRecord> {
    const now = this.deps.clock();
    const id = this.deps.newId('a');
    const db = this.deps.store;
    await insertApproval(db, {
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
    await updateStep(db, run.id, stepIndex, {
      waitingOn: gate === 'two-person' ? 'approval' : 'rpo-gate',
    });
    await updateRun(db, run.id, { status: 'waiting' });
    return (await getApproval(db, id))!;
  }

  /** An override of a gate (RPO, fence) was approved, with its vote in the audit log. */
  async isApproved(runId: string, stepIndex: number, gate: ApprovalGate): Promise<boolean> {
    const db = this.deps.store;
    for (const approval of await approvalsFor(db, runId, stepIndex, gate))
      if (approval.status === 'approved' && (await hasAuditedVotes(db, approval))) return true;
    return false;
  }

  /**
   * The two-person approval that lets this attempt of the step go ahead: approved, for the plan
   * shown now (its hash), given for this attempt — or for an earlier one, if no older than
   * approvals.expires_after — and backed by approving votes in the audit log.
   */
  async validApproval(
    run: RunRecord,
    stepIndex: number,
    binding: ApprovalBinding,
  ): Promise<ApprovalRecord | null> {
    const db = this.deps.store;
    const now = this.deps.clock().getTime();
    const maxAgeMs = this.deps.config.approvals.expiresAfterSeconds * 1000;
    for (const approval of await approvalsFor(db, run.id, stepIndex, 'two-person'))
      if (
        approval.status === 'approved' &&
        approval.planHash === binding.planHash &&
        (approval.attempt === binding.attempt ||
          now - Date.parse(approval.decidedAt ?? approval.requestedAt) <= maxAgeMs) &&
        (await hasAuditedVotes(db, approval))
      )
        return approval;
    return null;
  }

  /**
   * One transaction: the change, its audit events; then the events go out. The walker's commit
   * for `runId`: refused (LeaseLost) unless this process still holds the run at the epoch it
   * claimed, so a walker that was paused and taken over commits nothing.
   */
  async commit(runId: string, change: Commit, seen?: Seen): Promise<void> {
    const events: EngineEvent[] = [];
    const audit: AuditEvent[] = [];
    const db = this.deps.store;
    await db.transaction(async () => {
      // A transaction retried after the store failed over starts again from nothing.
      events.length = 0;
      audit.length = 0;
      const epoch = this.held.get(runId);
      if (epoch !== undefined) await assertHolds(db, runId, epoch, this.executorId);
      if (seen && !(await stillStands(db, runId, seen))) throw new Moved(runId, seen.stepIndex);
      await change(events, audit);
      if (audit.length > 0) await recordAuditEvents(db, audit, this.deps.clock);
    });
    for (const event of events) this.deps.emit(event);
  }

  /** The walker's view of a step, to commit against (see Seen). */
  static seen(record: StepRecord): Seen {
    return { stepIndex: record.stepIndex, state: record.state, waitingOn: record.waitingOn };
  }

  /** Drops what is cached of a run that ended (a long-lived bot walks thousands of runs). */
  protected forget(runId: string): void {
    this.snapshots.delete(runId);
  }
}

/** Inside the commit: the run is still in flight on the step, which is as the walker saw it. */
async function stillStands(db: Sql, runId: string, seen: Seen): Promise<boolean> {
  const run = await getRun(db, runId);
  const step = await getStep(db, runId, seen.stepIndex);
  return (
    run !== null &&
    isInFlight(run) &&
    run.currentStep === seen.stepIndex &&
    step?.state === seen.state &&
    step.waitingOn === seen.waitingOn
  );
}
