// Walks a run's steps strictly in order: activates manual steps and waits for people, applies the
// fence gate, asks for approval, applies the RPO gate, and runs actions — committing "started"
// before each side effect and "finished" after it, so a crash between them re-runs an idempotent
// action and a crash after them never runs it again.

import { LifeboatError, ProviderError, StoreError } from '../errors.js';
import { etaOf } from './eta.js';
import { getRunView } from './run-view.js';
import { allSteps, type Step } from '../runbook/model.js';
import { PROMOTING_ACTIONS } from '../runbook/action-names.js';
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
  Moved,
  Transitions,
  hasAuditedVotes,
  type Seen,
  hashPlan,
  type ApprovalBinding,
  type StepRunnerDeps,
} from './transitions.js';
import { approvalsFor, setApprovalStatus, type ApprovalRecord } from '../store/approvals.js';

export type { ProvidersFor, StepRunnerDeps } from './transitions.js';

export class StepRunner extends Transitions implements GateKit {
  private readonly providers = new Map<string, ServiceProviders>();

  constructor(override readonly deps: StepRunnerDeps) {
    super(deps);
  }

  /** Walks the run while this process holds its claim; another live walker means hands off. */
  async drive(runId: string): Promise<void> {
    const db = this.deps.store;
    const self = this.executorId;
    const epoch = await claimRun(db, runId, new Date(), self);
    if (epoch === null) {
      this.deps.logger?.info(
        { run: runId, holder: await holderOf(db, runId, self) },
        'another process is walking this run',
      );
      return;
    }
    this.held.set(runId, epoch);
    try {
      do await this.walk(runId);
      while (!(await releaseRun(db, runId, self)));
    } catch (error) {
      if (error instanceof LeaseLost) {
        // Taken over while paused or cut off: the new holder walks on from what the store says.
        this.deps.logger?.warn(
          { run: runId, holder: error.holder, epoch },
          'lost the run to another process: stopped without committing',
        );
        return;
      }
      await releaseRun(db, runId, self);
      throw error;
    } finally {
      this.held.delete(runId);
    }
  }

  private async walk(runId: string): Promise<void> {
    for (;;) {
      const run = await getRun(this.deps.store, runId);
      if (!run || !isInFlight(run)) {
        // A long-lived bot walks thousands of runs: keep nothing of one that ended.
        this.forget(runId);
        this.providers.delete(runId);
        return;
      }
      const step = allSteps(await this.runbookOf(runId))[run.currentStep];
      if (!step) return;
      const record = (await getStep(this.deps.store, runId, step.index))!;
      try {
        if (record.state === 'done' || record.state === 'skipped') {
          await this.commit(
            run.id,
            (events) => this.advance(run, step.index, events),
            Transitions.seen(record),
          );
          continue;
        }
        if (!(await this.progress(run, step, record))) return;
      } catch (error) {
        // A person acted between what the walker read and its commit: read the store again.
        if (error instanceof Moved) continue;
        // An action that cannot say what it would do (its plan, or whether it applies, needs
        // something that is not there): the step fails, saying why — not a walker stopped in
        // silence with the step still showing as in progress.
        if (!(error instanceof LifeboatError) || error instanceof StoreError) throw error;
        const fresh = (await getStep(this.deps.store, runId, step.index))!;
        if (fresh.waitingOn === 'failure') return;
        await this.fail(
          run,
          step,
          error.message,
          Transitions.seen(fresh),
          error instanceof ProviderError ? error.details : {},
        );
        return;
      }
    }
  }

  /** Takes the current step as far as it can go; true when it finished and the walk goes on. */
  private async progress(run: RunRecord, step: Step, initial: StepRecord): Promise<boolean> {
    const context = await this.contextFor(run, step);
    const action = step.action ? this.deps.actions[step.action] : null;
    if (initial.state === 'pending') await this.activate(run, step, initial, context);
    const record = (await getStep(this.deps.store, run.id, step.index))!;
    if (record.waitingOn === 'failure') return false;
    const seen = Transitions.seen(record);
    const isManual = this.isManualIn(run, step, context);
    if (action && run.kind !== 'tabletop') {
      const skipReason = action.skipReason?.(context) ?? null;
      if (skipReason !== null) {
        await this.skipInapplicable(run, step, seen, skipReason);
        return true;
      }
    }
    const service = context.service;
    const isPromotion =
      step.action !== null && PROMOTING_ACTIONS.has(step.action) && service !== null && !isManual;
    if (isPromotion && (await fenceGate(this, run, step, seen, context, service)).blocked)
      return false;
    if (step.approval === 'two-person' && run.kind !== 'tabletop') {
      const binding = await this.approvalBinding(run, step, record, context);
      if (await this.refuseForgedApprovals(run, step, seen)) return false;
      if (!(await this.validApproval(run, step.index, binding))) {
        await askForApproval(this, run, step, seen, context, binding);
        return false;
      }
    }
    if (isManual) {
      await this.readyForPeople(run, step, record, context);
      return false;
    }
    let exposure: RpoExposure | null | undefined;
    if (isPromotion) {
      const gate = await rpoGate(this, run, step, seen, context, service);
      if (gate.blocked) return false;
      exposure = gate.exposure;
    }
    return this.execute(run, step, record, context, exposure);
  }

  /** What a two-person approval of this step covers now: the plan as shown, and the attempt. */
  async approvalBinding(
    run: RunRecord,
    step: Step,
    known?: StepRecord | null,
    knownContext?: ActionContext,
  ): Promise<ApprovalBinding> {
    const record = known === undefined ? await getStep(this.deps.store, run.id, step.index) : known;
    const action = step.action ? this.deps.actions[step.action] : null;
    // A step without an action is approved as written: no action context to build for it.
    let plan = `${step.text}\n${step.details}`;
    if (action) {
      const context = knownContext ?? (await this.contextFor(run, step));
      plan = `${action.plan(context)}\n${action.instructions?.(context) ?? ''}`;
    }
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
  private async refuseForgedApprovals(run: RunRecord, step: Step, seen: Seen): Promise<boolean> {
    const db = this.deps.store;
    const forged: ApprovalRecord[] = [];
    for (const approval of await approvalsFor(db, run.id, step.index))
      if (approval.status === 'approved' && !(await hasAuditedVotes(db, approval)))
        forged.push(approval);
    if (forged.length === 0) return false;
    const ids = forged.map((approval) => approval.id).join(', ');
    await this.commit(
      run.id,
      async (_events, audit) => {
        const now = this.deps.clock().toISOString();
        for (const approval of forged)
          await setApprovalStatus(db, approval.id, 'expired', now, 'no votes in the audit log');
        audit.push({
          actor: 'system',
          action: 'approval.forged',
          subject: run.id,
          details: { step: step.index, approvals: forged.map((approval) => approval.id) },
        });
      },
      seen,
    );
    await this.fail(
      run,
      step,
      `approval ${ids} is marked approved in the store, but the audit log holds no approving vote for it: it was not given through lifeboat, so the step will not run. Run "lifeboat audit verify", then retry to ask for a new approval.`,
      seen,
    );
    return true;
  }

  /** A manual step whose approval (if any) is given: back to waiting for Done. */
  private async readyForPeople(
    run: RunRecord,
    step: Step,
    record: StepRecord,
    context: ActionContext,
  ): Promise<void> {
    if (record.waitingOn === 'operator') return;
    const plan = step.action ? this.deps.actions[step.action].plan(context) : null;
    await this.commit(
      run.id,
      async (events) => {
        await updateStep(this.deps.store, run.id, step.index, { waitingOn: 'operator' });
        await updateRun(this.deps.store, run.id, { status: 'waiting' });
        events.push({ type: 'step.started', runId: run.id, stepIndex: step.index, plan });
      },
      Transitions.seen(record),
    );
  }

  /**
   * Done by a person, not lifeboat: a step with no action, any step of a tabletop, and an action
   * whose work is a person's here (rebuilding a self-managed standby: the commands are shown).
   */
  async isManual(run: RunRecord, step: Step): Promise<boolean> {
    if (step.action === null || run.kind === 'tabletop') return true;
    return this.isManualIn(run, step, await this.contextFor(run, step));
  }

  private isManualIn(run: RunRecord, step: Step, context: ActionContext): boolean {
    if (step.action === null || run.kind === 'tabletop') return true;
    return (this.deps.actions[step.action].instructions?.(context) ?? null) !== null;
  }

  private async activate(
    run: RunRecord,
    step: Step,
    initial: StepRecord,
    context: ActionContext,
  ): Promise<void> {
    const action = step.action ? this.deps.actions[step.action] : null;
    const plan = action ? action.plan(context) : null;
    const instructions =
      action && run.kind !== 'tabletop' ? (action.instructions?.(context) ?? null) : null;
    const isManual = this.isManualIn(run, step, context);
    await this.commit(
      run.id,
      async (events) => {
        const now = this.deps.clock().toISOString();
        await updateStep(this.deps.store, run.id, step.index, {
          state: 'active',
          startedAt: now,
          waitingOn: isManual ? 'operator' : null,
          ...(instructions ? { details: { instructions } } : {}),
        });
        await recordStepEvent(this.deps.store, {
          runId: run.id,
          stepIndex: step.index,
          event: 'started',
          actor: 'lifeboat',
          at: now,
          details: { plan },
        });
        events.push({ type: 'step.started', runId: run.id, stepIndex: step.index, plan });
      },
      Transitions.seen(initial),
    );
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
    await this.commit(
      run.id,
      async (events) => {
        const now = this.deps.clock().toISOString();
        await updateStep(this.deps.store, run.id, step.index, {
          state: 'executing',
          waitingOn: null,
          details: { ...record.details, prepared, attempts: attempt },
        });
        await updateRun(this.deps.store, run.id, { status: 'running' });
        await recordStepEvent(this.deps.store, {
          runId: run.id,
          stepIndex: step.index,
          event: 'action.started',
          actor: 'lifeboat',
          at: now,
          details: { action: step.action, attempt, plan },
        });
        events.push({
          type: 'action.started',
          runId: run.id,
          stepIndex: step.index,
          plan,
          attempt,
        });
      },
      Transitions.seen(record),
    );
    let outcome: ActionOutcome;
    let verification: Verification | null;
    const epoch = this.held.get(run.id);
    const heartbeat = setInterval(() => {
      if (epoch !== undefined)
        refreshClaim(this.deps.store, run.id, new Date(), epoch, this.executorId).catch(
          (error: unknown) =>
            this.deps.logger?.warn({ err: error, run: run.id }, 'could not refresh the claim'),
        );
    }, HEARTBEAT_MS);
    heartbeat.unref();
    const attemptContext = { ...context, previous: prepared, attempt };
    try {
      outcome = await action.run(attemptContext);
      verification = action.verify ? await action.verify(attemptContext, outcome) : null;
    } catch (error) {
      const details = error instanceof ProviderError ? error.details : {};
      await this.fail(run, step, this.describeFailure(error, run, step), undefined, details);
      return false;
    } finally {
      clearInterval(heartbeat);
    }
    if (verification && !verification.ok) {
      await this.fail(run, step, `verification failed: ${verification.summary}`);
      return false;
    }
    await this.commit(run.id, async (events, audit) => {
      const db = this.deps.store;
      if (exposure !== undefined)
        await updateRun(db, run.id, {
          rpoExposureSeconds: exposure?.seconds ?? null,
          rpoExposureBytes: exposure?.bytes ?? null,
          rpoExposureBound: exposure?.bound ?? null,
          rpoExposureDetail: exposure?.detail ?? 'replication lag could not be measured',
        });
      if (outcome.protection && run.service) {
        const { changed } = await recordProtection(db, {
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
      await this.finishStep(
        run,
        step,
        {
          state: 'done',
          actor: 'lifeboat',
          summary: outcome.summary,
          event: 'action.finished',
          eventDetails: {
            action: step.action,
            state: 'done',
            summary: outcome.summary,
            // A command's output goes into the timeline, where the report reads it.
            ...(outcome.details.output ? { output: outcome.details.output } : {}),
          },
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

  private async skipInapplicable(
    run: RunRecord,
    step: Step,
    seen: Seen,
    reason: string,
  ): Promise<void> {
    await this.commit(
      run.id,
      async (events, audit) => {
        audit.push({
          actor: 'system',
          action: 'step.skipped',
          subject: run.id,
          details: { step: step.index, action: step.action, reason },
        });
        await this.finishStep(
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
      },
      seen,
    );
  }

  /** The step waits on a failure; `seen` unless the action ran (an executing step is its own). */
  private async fail(
    run: RunRecord,
    step: Step,
    reason: string,
    seen?: Seen,
    details: Record<string, unknown> = {},
  ): Promise<void> {
    const db = this.deps.store;
    await this.commit(
      run.id,
      async (events, audit) => {
        const now = this.deps.clock().toISOString();
        await updateStep(db, run.id, step.index, {
          state: 'active',
          waitingOn: 'failure',
          summary: reason,
        });
        const fresh = (await getRun(db, run.id))!;
        if (fresh.status === 'running') await updateRun(db, run.id, { status: 'waiting' });
        await recordStepEvent(db, {
          runId: run.id,
          stepIndex: step.index,
          event: 'action.failed',
          actor: 'lifeboat',
          at: now,
          details: { ...details, reason },
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
      },
      seen,
    );
  }

  private describeFailure(error: unknown, run: RunRecord, step: Step): string {
    if (error instanceof LifeboatError) return error.message;
    this.deps.logger?.error(
      { err: error, run: run.id, step: step.index, action: step.action },
      'action raised an unexpected error',
    );
    return `internal error in ${step.action}: ${(error as Error).message} (logged; retry or skip the step)`;
  }

  /**
   * What an action is handed. Earlier steps' outcomes are read now: they do not change while this
   * step is taken.
   */
  private async contextFor(run: RunRecord, step: Step): Promise<ActionContext> {
    const runbook = await this.runbookOf(run.id);
    const steps = allSteps(runbook);
    const records = await getSteps(this.deps.store, run.id);
    const service = run.service ? (this.deps.config.services[run.service] ?? null) : null;
    let providers = this.providers.get(run.id);
    if (!providers) {
      providers = this.deps.providersFor(service, run.kind, run.promote);
      this.providers.set(run.id, providers);
    }
    return {
      run: { id: run.id, kind: run.kind, runbook: runbook.name },
      step,
      service,
      providers,
      clock: this.deps.clock,
      sleep: this.deps.sleep,
      notify: (text) => this.deps.emit({ type: 'notify', runId: run.id, text }),
      previous: {}, // execute() hands the action what an interrupted attempt prepared
      attempt: 1, // and which attempt this is
      earlier: (action) => earlierOutcome(steps, records, step.index, action),
      later: (action) => steps.slice(step.index + 1).some((each) => each.action === action),
      progress: (text) =>
        this.deps.emit({ type: 'action.progress', runId: run.id, stepIndex: step.index, text }),
      custom: { actions: this.deps.config.actions, env: this.deps.config.actionEnv },
      standing: async () => {
        const now = this.deps.clock();
        const view = (await getRunView(this.deps.store, run.id, now))!;
        const phase = runbook.phases[step.phaseIndex];
        const eta = etaOf(view, now);
        return {
          phaseNumber: step.phaseIndex + 1,
          phaseCount: runbook.phases.length,
          phaseTitle: phase?.title ?? '',
          impactAt: run.impactAt,
          service: run.service,
          etaAt: eta.at,
          etaNote: eta.note,
        };
      },
      announce: this.deps.announce ?? null,
      announcements: this.deps.config.slackAnnouncements,
    };
  }
}

/** The latest step before `before` that ran `action` and ended (done or skipped). */
function earlierOutcome(
  steps: Step[],
  records: StepRecord[],
  before: number,
  action: string,
): EarlierOutcome | null {
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
