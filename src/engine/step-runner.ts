// Walks a run's steps strictly in order: activates manual steps and waits for people, applies the
// fence gate, asks for approval, applies the RPO gate, and runs actions — committing "started"
// before each side effect and "finished" after it, so a crash between them re-runs an idempotent
// action and a crash after them never runs it again.

import { LifeboatError } from '../errors.js';
import { allSteps, type Step } from '../runbook/model.js';
import { recordProtection } from '../store/protection.js';
import { getRun, updateRun, type RunRecord, isInFlight } from '../store/runs.js';
import { getStep, getSteps, recordStepEvent, updateStep, type StepRecord } from '../store/steps.js';
import type {
  ActionContext,
  ActionOutcome,
  EarlierOutcome,
  ServiceProviders,
  Verification,
} from '../actions/types.js';
import {
  HEARTBEAT_MS,
  LeaseLost,
  claimRun,
  holderOf,
  refreshClaim,
  releaseRun,
} from './executor-lease.js';
import { askForApproval, fenceGate, rpoGate, type GateKit, type RpoExposure } from './gates.js';
import {
  Transitions,
  hasAuditedVotes,
  hashPlan,
  type ApprovalBinding,
  type StepRunnerDeps,
} from './transitions.js';
import { approvalsFor, setApprovalStatus } from '../store/approvals.js';

export type { ProvidersFor, StepRunnerDeps } from './transitions.js';

export class StepRunner extends Transitions implements GateKit {
  private readonly providers = new Map<string, ServiceProviders>();

  constructor(override readonly deps: StepRunnerDeps) {
    super(deps);
  }

  /** Walks the run while this process holds its claim; another live walker means hands off. */
  async drive(runId: string): Promise<void> {
    const db = this.deps.store.db;
    const self = this.executorId;
    const epoch = claimRun(db, runId, new Date(), self);
    if (epoch === null) {
      this.deps.logger?.info(
        { run: runId, holder: holderOf(db, runId, self) },
        'another process is walking this run',
      );
      return;
    }
    this.held.set(runId, epoch);
    try {
      do await this.walk(runId);
      while (!releaseRun(db, runId, self));
    } catch (error) {
      if (error instanceof LeaseLost) {
        // Taken over while paused or cut off: the new holder walks on from what the store says.
        this.deps.logger?.warn(
          { run: runId, holder: error.holder, epoch },
          'lost the run to another process: stopped without committing',
        );
        return;
      }
      releaseRun(db, runId, self);
      throw error;
    } finally {
      this.held.delete(runId);
    }
  }

  private async walk(runId: string): Promise<void> {
    for (;;) {
      const run = getRun(this.deps.store.db, runId);
      if (!run || !isInFlight(run)) {
        // A long-lived bot walks thousands of runs: keep nothing of one that ended.
        this.forget(runId);
        this.providers.delete(runId);
        return;
      }
      const step = allSteps(this.runbookOf(runId))[run.currentStep];
      if (!step) return;
      const record = getStep(this.deps.store.db, runId, step.index)!;
      if (record.state === 'done' || record.state === 'skipped') {
        this.commit(run.id, (events) => this.advance(run, step.index, events));
        continue;
      }
      if (!(await this.progress(run, step, record))) return;
    }
  }

  /** Takes the current step as far as it can go; true when it finished and the walk goes on. */
  private async progress(run: RunRecord, step: Step, initial: StepRecord): Promise<boolean> {
    const context = this.contextFor(run, step);
    const action = step.action ? this.deps.actions[step.action] : null;
    if (initial.state === 'pending') this.activate(run, step, context);
    const record = getStep(this.deps.store.db, run.id, step.index)!;
    if (record.waitingOn === 'failure') return false;
    const isManual = this.isManual(run, step);
    if (action && run.kind !== 'tabletop') {
      const skipReason = action.skipReason?.(context) ?? null;
      if (skipReason !== null) {
        this.skipInapplicable(run, step, skipReason);
        return true;
      }
    }
    const service = context.service;
    const isPromotion = step.action === 'db.promote' && service !== null && !isManual;
    if (isPromotion && (await fenceGate(this, run, step, context, service)).blocked) return false;
    if (step.approval === 'two-person' && run.kind !== 'tabletop') {
      const binding = this.approvalBinding(run, step, record, context);
      if (this.refuseForgedApprovals(run, step)) return false;
      if (!this.validApproval(run, step.index, binding)) {
        await askForApproval(this, run, step, context, binding);
        return false;
      }
    }
    if (isManual) {
      this.readyForPeople(run, step, record, context);
      return false;
    }
    let exposure: RpoExposure | null | undefined;
    if (isPromotion) {
      const gate = await rpoGate(this, run, step, context, service);
      if (gate.blocked) return false;
      exposure = gate.exposure;
    }
    return this.execute(run, step, record, context, exposure);
  }

  /** What a two-person approval of this step covers now: the plan as shown, and the attempt. */
  approvalBinding(
    run: RunRecord,
    step: Step,
    record: StepRecord | null = getStep(this.deps.store.db, run.id, step.index),
    context: ActionContext = this.contextFor(run, step),
  ): ApprovalBinding {
    const action = step.action ? this.deps.actions[step.action] : null;
    const plan = action
      ? `${action.plan(context)}\n${action.instructions?.(context) ?? ''}`
      : `${step.text}\n${step.details}`;
    const attempts = Number(record?.details.attempts ?? 0);
    return {
      planHash: hashPlan(run.id, step.index, plan),
      attempt: record?.state === 'executing' ? attempts : attempts + 1,
    };
  }

  /**
   * An approval the store calls approved, with no approving vote in the audit log, was set by
   * someone editing the database: the step does not run, and says so.
   */
  private refuseForgedApprovals(run: RunRecord, step: Step): boolean {
    const forged = approvalsFor(this.deps.store.db, run.id, step.index).filter(
      (approval) =>
        approval.status === 'approved' && !hasAuditedVotes(this.deps.store.db, approval),
    );
    if (forged.length === 0) return false;
    const ids = forged.map((approval) => approval.id).join(', ');
    this.commit(run.id, (_events, audit) => {
      const now = this.deps.clock().toISOString();
      for (const approval of forged)
        setApprovalStatus(
          this.deps.store.db,
          approval.id,
          'expired',
          now,
          'no votes in the audit log',
        );
      audit.push({
        actor: 'system',
        action: 'approval.forged',
        subject: run.id,
        details: { step: step.index, approvals: forged.map((approval) => approval.id) },
      });
    });
    this.fail(
      run,
      step,
      `approval ${ids} is marked approved in the store, but the audit log holds no approving vote for it: it was not given through lifeboat, so the step will not run. Run "lifeboat audit verify", then retry to ask for a new approval.`,
    );
    return true;
  }

  /** A manual step whose approval (if any) is given: back to waiting for Done. */
  private readyForPeople(
    run: RunRecord,
    step: Step,
    record: StepRecord,
    context: ActionContext,
  ): void {
    if (record.waitingOn === 'operator') return;
    const plan = step.action ? this.deps.actions[step.action].plan(context) : null;
    this.commit(run.id, (events) => {
      updateStep(this.deps.store.db, run.id, step.index, { waitingOn: 'operator' });
      updateRun(this.deps.store.db, run.id, { status: 'waiting' });
      events.push({ type: 'step.started', runId: run.id, stepIndex: step.index, plan });
    });
  }

  /**
   * Done by a person, not lifeboat: a step with no action, any step of a tabletop, and an action
   * whose work is a person's here (rebuilding a self-managed standby: the commands are shown).
   */
  isManual(run: RunRecord, step: Step): boolean {
    if (step.action === null || run.kind === 'tabletop') return true;
    const action = this.deps.actions[step.action];
    return (action.instructions?.(this.contextFor(run, step)) ?? null) !== null;
  }

  private activate(run: RunRecord, step: Step, context: ActionContext): void {
    const action = step.action ? this.deps.actions[step.action] : null;
    const plan = action ? action.plan(context) : null;
    const instructions =
      action && run.kind !== 'tabletop' ? (action.instructions?.(context) ?? null) : null;
    const isManual = this.isManual(run, step);
    this.commit(run.id, (events) => {
      const now = this.deps.clock().toISOString();
      updateStep(this.deps.store.db, run.id, step.index, {
        state: 'active',
        startedAt: now,
        waitingOn: isManual ? 'operator' : null,
        ...(instructions ? { details: { instructions } } : {}),
      });
      recordStepEvent(this.deps.store.db, {
        runId: run.id,
        stepIndex: step.index,
        event: 'started',
        actor: 'lifeboat',
        at: now,
        details: { plan },
      });
      events.push({ type: 'step.started', runId: run.id, stepIndex: step.index, plan });
    });
  }

  private async execute(
    run: RunRecord,
    step: Step,
    record: StepRecord,
    context: ActionContext,
    exposure: RpoExposure | null | undefined,
  ): Promise<boolean> {
    const action = this.deps.actions[step.action!];
    const attempt = Number(record.details.attempts ?? 0) + 1;
    const resumed = record.state === 'executing' && typeof record.details.prepared === 'object';
    const prepared = resumed
      ? (record.details.prepared as Record<string, unknown>)
      : ((await action.prepare?.(context)) ?? {});
    const plan = action.plan(context);
    this.commit(run.id, (events) => {
      const now = this.deps.clock().toISOString();
      updateStep(this.deps.store.db, run.id, step.index, {
        state: 'executing',
        waitingOn: null,
        details: { ...record.details, prepared, attempts: attempt },
      });
      updateRun(this.deps.store.db, run.id, { status: 'running' });
      recordStepEvent(this.deps.store.db, {
        runId: run.id,
        stepIndex: step.index,
        event: 'action.started',
        actor: 'lifeboat',
        at: now,
        details: { action: step.action, attempt, plan },
      });
      events.push({ type: 'action.started', runId: run.id, stepIndex: step.index, plan, attempt });
    });
    let outcome: ActionOutcome;
    let verification: Verification | null;
    const epoch = this.held.get(run.id);
    const heartbeat = setInterval(() => {
      if (epoch !== undefined)
        refreshClaim(this.deps.store.db, run.id, new Date(), epoch, this.executorId);
    }, HEARTBEAT_MS);
    heartbeat.unref();
    const attemptContext = { ...context, previous: prepared, attempt };
    try {
      outcome = await action.run(attemptContext);
      verification = action.verify ? await action.verify(attemptContext, outcome) : null;
    } catch (error) {
      this.fail(run, step, this.describeFailure(error, run, step));
      return false;
    } finally {
      clearInterval(heartbeat);
    }
    if (verification && !verification.ok) {
      this.fail(run, step, `verification failed: ${verification.summary}`);
      return false;
    }
    this.commit(run.id, (events, audit) => {
      const db = this.deps.store.db;
      if (exposure !== undefined)
        updateRun(db, run.id, {
          rpoExposureSeconds: exposure?.seconds ?? null,
          rpoExposureBytes: exposure?.bytes ?? null,
          rpoExposureBound: exposure?.bound ?? null,
          rpoExposureDetail: exposure?.detail ?? 'replication lag could not be measured',
        });
      if (outcome.protection && run.service) {
        const { changed } = recordProtection(db, {
          service: run.service,
          ...outcome.protection,
          at: this.deps.clock(),
          runId: run.id,
        });
        if (changed)
          audit.push({
            actor: 'system',
            action: 'protection.changed',
            subject: run.service,
            details: { run: run.id, ...outcome.protection },
          });
      }
      audit.push({
        actor: 'system',
        action: 'action.done',
        subject: run.id,
        details: { step: step.index, action: step.action, summary: outcome.summary },
      });
      this.finishStep(
        run,
        step,
        {
          state: 'done',
          actor: 'lifeboat',
          summary: outcome.summary,
          event: 'action.finished',
          eventDetails: { action: step.action, state: 'done', summary: outcome.summary },
          details: {
            prepared,
            attempts: attempt,
            outcome: outcome.details,
            verification:
              verification?.summary ?? 'no independent check: the action itself is the check',
          },
        },
        events,
      );
    });
    return true;
  }

  private skipInapplicable(run: RunRecord, step: Step, reason: string): void {
    this.commit(run.id, (events, audit) => {
      audit.push({
        actor: 'system',
        action: 'step.skipped',
        subject: run.id,
        details: { step: step.index, action: step.action, reason },
      });
      this.finishStep(
        run,
        step,
        {
          state: 'skipped',
          actor: 'lifeboat',
          summary: reason,
          event: 'skipped',
          eventDetails: { reason },
        },
        events,
      );
    });
  }

  private fail(run: RunRecord, step: Step, reason: string): void {
    this.commit(run.id, (events, audit) => {
      const now = this.deps.clock().toISOString();
      updateStep(this.deps.store.db, run.id, step.index, {
        state: 'active',
        waitingOn: 'failure',
        summary: reason,
      });
      const fresh = getRun(this.deps.store.db, run.id)!;
      if (fresh.status === 'running') updateRun(this.deps.store.db, run.id, { status: 'waiting' });
      recordStepEvent(this.deps.store.db, {
        runId: run.id,
        stepIndex: step.index,
        event: 'action.failed',
        actor: 'lifeboat',
        at: now,
        details: { reason },
      });
      audit.push({
        actor: 'system',
        action: 'action.failed',
        subject: run.id,
        details: { step: step.index, action: step.action, reason },
      });
      events.push({
        type: 'step.blocked',
        runId: run.id,
        stepIndex: step.index,
        reason,
        waitingOn: 'failure',
      });
    });
  }

  private describeFailure(error: unknown, run: RunRecord, step: Step): string {
    if (error instanceof LifeboatError) return error.message;
    this.deps.logger?.error(
      { err: error, run: run.id, step: step.index, action: step.action },
      'action raised an unexpected error',
    );
    return `internal error in ${step.action}: ${(error as Error).message} (logged; retry or skip the step)`;
  }

  private contextFor(run: RunRecord, step: Step): ActionContext {
    const service = run.service ? (this.deps.config.services[run.service] ?? null) : null;
    let providers = this.providers.get(run.id);
    if (!providers) {
      providers = this.deps.providersFor(service, run.kind, run.promote);
      this.providers.set(run.id, providers);
    }
    return {
      run: { id: run.id, kind: run.kind },
      step,
      service,
      providers,
      clock: this.deps.clock,
      sleep: this.deps.sleep,
      notify: (text) => this.deps.emit({ type: 'notify', runId: run.id, text }),
      previous: {}, // execute() hands the action what an interrupted attempt prepared
      attempt: 1, // and which attempt this is
      earlier: (action) => this.earlierOutcome(run.id, step.index, action),
      progress: (text) =>
        this.deps.emit({ type: 'action.progress', runId: run.id, stepIndex: step.index, text }),
    };
  }

  private earlierOutcome(runId: string, before: number, action: string): EarlierOutcome | null {
    const steps = allSteps(this.runbookOf(runId));
    const records = getSteps(this.deps.store.db, runId);
    for (let index = before - 1; index >= 0; index--) {
      const record = records[index];
      if (steps[index]?.action !== action || !record) continue;
      if (record.state !== 'done' && record.state !== 'skipped') continue;
      return {
        state: record.state,
        finishedAt: record.finishedAt,
        details: (record.details.outcome as Record<string, unknown> | undefined) ?? {},
      };
    }
    return null;
  }
}
