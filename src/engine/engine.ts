// The run engine: every command a person gives (start, done, skip, note, approve, deny, override,
// retry, abort) and the walk through a runbook's steps. No Slack here.
//
// Never runs a completed action twice: each transition is committed before the side effect starts
// and after it ends, and every command carries an idempotency key, so a redelivered request or a
// double click changes nothing.

import { randomBytes } from 'node:crypto';
import type { Config, Service } from '../config.js';
import { GateRefused, NotFound, UsageError } from '../errors.js';
import type { Logger } from '../log.js';
import { allSteps, type Runbook, type RunKind } from '../runbook/model.js';
import { recordAuditEvents, type AuditEvent } from '../store/audit.js';
import { addVote, approvalsFor, getApproval, setApprovalStatus } from '../store/approvals.js';
import type { Store } from '../store/db.js';
import { findOutcome, storeOutcome, type StoredOutcome } from '../store/idempotency.js';
import { getRun, insertRun, updateRun, type RunRecord } from '../store/runs.js';
import { getStep, insertSteps, recordStepEvent, updateStep } from '../store/steps.js';
import { ACTIONS, type ActionRegistry } from '../actions/registry.js';
import { describeLag } from '../actions/db/describe-lag.js';
import type { ServiceProviders } from '../actions/types.js';
import { approveCount, isExpired, refusalFor } from './approval.js';
import { startConflicts } from './conflicts.js';
import type { EngineEvent, EngineListener } from './events.js';
import { getRunView, type RunView } from './run-view.js';
import { StepRunner } from './step-runner.js';

export interface EngineDeps {
  store: Store;
  config: Config;
  loadRunbook: (name: string) => Runbook;
  providersFor: (service: Service | null, kind: RunKind) => ServiceProviders;
  actions?: ActionRegistry;
  clock?: () => Date;
  sleep?: (ms: number) => Promise<void>;
  newId?: (prefix: 'r' | 'a') => string;
  logger?: Logger;
}

export interface CommandResult {
  runId: string;
  /** True when this key was seen before: nothing was done again. */
  replayed: boolean;
  message: string;
}

/** Who gives a command: a Slack user ID, and how they reached us (`slack`, `cli:alice`). */
export interface Actor {
  user: string;
  via?: string;
}

interface Change {
  runId: string;
  message: string;
  audit: AuditEvent[];
  events: EngineEvent[];
  drive?: boolean;
}

export class Engine {
  readonly store: Store;
  readonly config: Config;
  readonly clock: () => Date;
  private readonly deps: EngineDeps;
  private readonly listeners: EngineListener[] = [];
  private readonly driving = new Map<string, Promise<void>>();
  private readonly runner: StepRunner;
  private readonly newId: (prefix: 'r' | 'a') => string;

  constructor(deps: EngineDeps) {
    this.deps = deps;
    this.store = deps.store;
    this.config = deps.config;
    this.clock = deps.clock ?? (() => new Date());
    this.newId = deps.newId ?? ((prefix) => `${prefix}-${randomBytes(4).toString('hex')}`);
    this.runner = new StepRunner({
      store: deps.store,
      config: deps.config,
      actions: deps.actions ?? ACTIONS,
      providersFor: deps.providersFor,
      clock: this.clock,
      sleep: deps.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms))),
      newId: this.newId,
      emit: (event) => this.emit(event),
      logger: deps.logger,
    });
  }

  on(listener: EngineListener): () => void {
    this.listeners.push(listener);
    return () => this.listeners.splice(this.listeners.indexOf(listener), 1);
  }

  getRun(runId: string): RunView {
    const view = getRunView(this.store.db, runId, this.clock());
    if (!view) throw new NotFound(`no run "${runId}": /dr history lists the recent ones`);
    return view;
  }

  /**
   * What a run would do, before it exists: each action step with its plan. No side effects;
   * for confirmations ("this will promote replica X").
   */
  previewPlan(
    runbookName: string,
    serviceName: string | null,
    kind: RunKind,
  ): { runbook: Runbook; lines: string[] } {
    const runbook = this.deps.loadRunbook(runbookName);
    const service = this.resolveService(runbook, serviceName, kind);
    const providers = this.deps.providersFor(service, kind);
    const actions = this.deps.actions ?? ACTIONS;
    const lines = allSteps(runbook)
      .filter((step) => step.action !== null)
      .map((step) => {
        const context = {
          run: { id: 'preview', kind },
          step,
          service,
          providers,
          clock: this.clock,
          sleep: () => Promise.resolve(),
          notify: () => undefined,
          previous: {},
        };
        const action = actions[step.action!];
        const skip = action.skipReason?.(context) ?? null;
        return `${step.index + 1}. ${step.text} — ${skip ?? action.plan(context)}${step.approval && !skip ? ' (two-person approval)' : ''}`;
      });
    return { runbook, lines };
  }

  /** The providers of a service, as a run of `kind` would use them (checks use these too). */
  providersFor(service: Service, kind: RunKind): ServiceProviders {
    return this.deps.providersFor(service, kind);
  }

  /** Replication lag of the database a run of `kind` would promote, as one line against the RPO. */
  async measureLagFor(serviceName: string, kind: RunKind): Promise<string> {
    const service = this.config.services[serviceName];
    if (!service) throw new NotFound(`no service "${serviceName}"`);
    const database = this.deps.providersFor(service, kind).database;
    if (!database) return 'no database configured';
    return describeLag(await database.measureLag(), service.rpoSeconds);
  }

  /** Resolves when no run is being driven: tests and shutdown wait on it. */
  async idle(): Promise<void> {
    while (this.driving.size > 0) await Promise.allSettled([...this.driving.values()]);
  }

  /** After a restart: pick up every run in flight where it stopped. */
  resume(): void {
    const rows = this.store.db
      .prepare("SELECT id FROM runs WHERE status IN ('running', 'waiting')")
      .all() as {
      id: string;
    }[];
    for (const { id } of rows) this.drive(id);
  }

  startRun(input: {
    key: string;
    actor: Actor;
    runbook: string;
    service?: string | null;
    kind?: RunKind;
    impactAt?: Date;
  }): CommandResult {
    return this.command(input.key, 'run.start', null, input.actor, () => {
      const runbook = this.deps.loadRunbook(input.runbook);
      const kind = input.kind ?? runbook.kind;
      const service = this.resolveService(runbook, input.service ?? null, kind);
      const now = this.clock();
      const impactAt = input.impactAt ?? now;
      if (impactAt.getTime() > now.getTime()) {
        throw new UsageError(
          `the impact time ${impactAt.toISOString()} is in the future: it is when the outage began`,
        );
      }
      const { refusal, exercisesToAbort } = startConflicts(
        this.store.db,
        service?.name ?? null,
        kind,
      );
      if (refusal) throw new GateRefused('one-at-a-time', refusal);
      const runId = this.newId('r');
      insertRun(this.store.db, {
        id: runId,
        runbook,
        service: service?.name ?? null,
        kind,
        startedBy: input.actor.user,
        startedAt: now,
        impactAt,
        idempotencyKey: input.key,
      });
      insertSteps(this.store.db, runId, allSteps(runbook).length);
      const audit: AuditEvent[] = [
        audited(input.actor, 'run.started', runId, {
          runbook: runbook.name,
          kind,
          service: service?.name ?? null,
          impactAt: impactAt.toISOString(),
        }),
      ];
      const events: EngineEvent[] = [];
      for (const exercise of exercisesToAbort) {
        const outcome = `aborted: a real ${kind} of ${service?.name} started (run ${runId})`;
        updateRun(this.store.db, exercise.id, {
          status: 'aborted',
          outcome,
          finishedAt: now.toISOString(),
        });
        audit.push({
          actor: 'system',
          action: 'run.aborted',
          subject: exercise.id,
          details: { reason: outcome },
        });
        events.push({
          type: 'run.finished',
          runId: exercise.id,
          run: getRun(this.store.db, exercise.id)!,
        });
      }
      events.unshift({ type: 'run.started', runId, run: getRun(this.store.db, runId)! });
      return {
        runId,
        message: `started ${kind} run ${runId} of ${runbook.name}`,
        audit,
        events,
        drive: true,
      };
    });
  }

  completeStep(input: {
    key: string;
    actor: Actor;
    runId: string;
    stepIndex: number;
    note?: string;
  }): CommandResult {
    return this.command(input.key, 'step.done', input.runId, input.actor, () => {
      const { run, step } = this.currentStep(input.runId, input.stepIndex);
      const isTabletop = run.kind === 'tabletop';
      if (step.action !== null && !isTabletop) {
        throw new UsageError(
          `step ${step.index + 1} runs ${step.action}: it finishes when the action does (retry or skip it instead)`,
        );
      }
      const now = this.clock().toISOString();
      updateStep(this.store.db, run.id, step.index, {
        state: 'done',
        waitingOn: null,
        finishedAt: now,
        actor: input.actor.user,
        summary: input.note ?? 'done',
      });
      recordStepEvent(this.store.db, {
        runId: run.id,
        stepIndex: step.index,
        event: 'done',
        actor: input.actor.user,
        at: now,
        details: { note: input.note ?? null },
      });
      const events: EngineEvent[] = [
        {
          type: 'step.finished',
          runId: run.id,
          stepIndex: step.index,
          state: 'done',
          summary: input.note ?? 'done',
          by: input.actor.user,
        },
      ];
      this.runner.advance(run, step.index, events);
      return {
        runId: run.id,
        message: `step ${step.index + 1} done`,
        audit: [audited(input.actor, 'step.done', run.id, { step: step.index })],
        events,
        drive: true,
      };
    });
  }

  skipStep(input: {
    key: string;
    actor: Actor;
    runId: string;
    stepIndex: number;
    reason: string;
  }): CommandResult {
    return this.command(input.key, 'step.skip', input.runId, input.actor, () => {
      if (!input.reason.trim())
        throw new UsageError('skipping a step needs a reason (it goes into the report)');
      const { run, step } = this.currentStep(input.runId, input.stepIndex);
      const now = this.clock().toISOString();
      const summary = `skipped by ${input.actor.user}: ${input.reason.trim()}`;
      updateStep(this.store.db, run.id, step.index, {
        state: 'skipped',
        waitingOn: null,
        finishedAt: now,
        actor: input.actor.user,
        summary,
      });
      recordStepEvent(this.store.db, {
        runId: run.id,
        stepIndex: step.index,
        event: 'skipped',
        actor: input.actor.user,
        at: now,
        details: { reason: input.reason },
      });
      for (const approval of approvalsFor(this.store.db, run.id, step.index)) {
        if (approval.status === 'pending')
          setApprovalStatus(this.store.db, approval.id, 'expired', now, 'step skipped');
      }
      const events: EngineEvent[] = [
        {
          type: 'step.finished',
          runId: run.id,
          stepIndex: step.index,
          state: 'skipped',
          summary,
          by: input.actor.user,
        },
      ];
      this.runner.advance(run, step.index, events);
      return {
        runId: run.id,
        message: `step ${step.index + 1} skipped`,
        audit: [
          audited(input.actor, 'step.skipped', run.id, { step: step.index, reason: input.reason }),
        ],
        events,
        drive: true,
      };
    });
  }

  addNote(input: {
    key: string;
    actor: Actor;
    runId: string;
    stepIndex?: number | null;
    text: string;
  }): CommandResult {
    return this.command(input.key, 'note.add', input.runId, input.actor, () => {
      if (!input.text.trim()) throw new UsageError('a note needs some text');
      const run = this.runOrThrow(input.runId);
      const stepIndex = input.stepIndex ?? null;
      this.store.db
        .prepare('INSERT INTO notes (run_id, step_index, author, text, at) VALUES (?, ?, ?, ?, ?)')
        .run(run.id, stepIndex, input.actor.user, input.text.trim(), this.clock().toISOString());
      return {
        runId: run.id,
        message: 'note added',
        audit: [
          audited(input.actor, 'note.added', run.id, { step: stepIndex, text: input.text.trim() }),
        ],
        events: [
          {
            type: 'note.added',
            runId: run.id,
            stepIndex,
            author: input.actor.user,
            text: input.text.trim(),
          },
        ],
      };
    });
  }

  decideApproval(input: {
    key: string;
    actor: Actor;
    approvalId: string;
    decision: 'approve' | 'deny';
    reason?: string;
    isUsergroupMember?: boolean;
  }): CommandResult {
    this.expireIfDue(input.approvalId);
    return this.command(input.key, `approval.${input.decision}`, null, input.actor, () => {
      const approval = getApproval(this.store.db, input.approvalId);
      if (!approval) throw new NotFound(`no approval request "${input.approvalId}"`);
      const run = this.runOrThrow(approval.runId);
      if (run.status !== 'running' && run.status !== 'waiting') {
        throw new GateRefused(
          'two-person',
          `run ${run.id} is ${run.status}: there is nothing left to approve`,
        );
      }
      const refusal = refusalFor({
        approval,
        user: input.actor.user,
        approvals: this.config.approvals,
        isUsergroupMember: input.isUsergroupMember ?? false,
        now: this.clock(),
      });
      if (refusal) throw new GateRefused(approval.gate, refusal);
      const now = this.clock().toISOString();
      const counted = addVote(this.store.db, approval.id, {
        approver: input.actor.user,
        decision: input.decision,
        at: now,
      });
      if (!counted)
        return {
          runId: run.id,
          message: 'your decision was already counted',
          audit: [],
          events: [],
        };
      const decided = { approval: approval.id, gate: approval.gate, step: approval.stepIndex };
      if (input.decision === 'deny') {
        const outcome = `denied by ${input.actor.user}${input.reason ? `: ${input.reason}` : ''}`;
        setApprovalStatus(this.store.db, approval.id, 'denied', now, input.reason);
        updateRun(this.store.db, run.id, { status: 'aborted', outcome, finishedAt: now });
        return {
          runId: run.id,
          message: `denied: run ${run.id} is stopped`,
          audit: [
            audited(input.actor, 'approval.denied', run.id, {
              ...decided,
              reason: input.reason ?? null,
            }),
          ],
          events: [
            {
              type: 'approval.decided',
              runId: run.id,
              approval: getApproval(this.store.db, approval.id)!,
              by: input.actor.user,
              decision: 'deny',
            },
            { type: 'run.finished', runId: run.id, run: getRun(this.store.db, run.id)! },
          ],
        };
      }
      const approvals = approveCount(getApproval(this.store.db, approval.id)!);
      const isApproved = approvals >= approval.required;
      if (isApproved) setApprovalStatus(this.store.db, approval.id, 'approved', now);
      return {
        runId: run.id,
        message: isApproved ? 'approved' : `approval ${approvals} of ${approval.required} counted`,
        audit: [
          audited(input.actor, 'approval.granted', run.id, {
            ...decided,
            count: approvals,
            required: approval.required,
          }),
        ],
        events: [
          {
            type: 'approval.decided',
            runId: run.id,
            approval: getApproval(this.store.db, approval.id)!,
            by: input.actor.user,
            decision: 'approve',
          },
        ],
        drive: isApproved,
      };
    });
  }

  /** Asks again after a request expired. */
  renewApproval(input: { key: string; actor: Actor; runId: string }): CommandResult {
    return this.command(input.key, 'approval.renew', input.runId, input.actor, () => {
      const run = this.runOrThrow(input.runId);
      const step = getStep(this.store.db, run.id, run.currentStep);
      const pending = approvalsFor(this.store.db, run.id, run.currentStep).filter(
        (a) => a.status === 'pending',
      );
      for (const approval of pending) this.expireIfDue(approval.id);
      const stillOpen = approvalsFor(this.store.db, run.id, run.currentStep).some(
        (a) => a.status === 'pending',
      );
      if (stillOpen || step?.waitingOn !== 'approval') {
        throw new UsageError(`run ${run.id} has no expired approval request to renew`);
      }
      const approval = this.runner.requestApproval(
        run,
        run.currentStep,
        'two-person',
        run.startedBy,
        this.config.approvals.required,
        null,
      );
      return {
        runId: run.id,
        message: 'approval requested again',
        audit: [
          audited(input.actor, 'approval.renewed', run.id, {
            step: run.currentStep,
            approval: approval.id,
          }),
        ],
        events: [
          {
            type: 'approval.requested',
            runId: run.id,
            approval,
            summary: `step ${run.currentStep + 1} needs approval again: the previous request expired`,
          },
        ],
      };
    });
  }

  /** Lag is over the RPO: proceed anyway, with a reason, once a second person approves. */
  overrideRpoGate(input: {
    key: string;
    actor: Actor;
    runId: string;
    stepIndex: number;
    reason: string;
  }): CommandResult {
    return this.command(input.key, 'gate.rpo-override', input.runId, input.actor, () => {
      if (!input.reason.trim())
        throw new UsageError('an RPO override needs a reason (it goes into the report)');
      const { run, step } = this.currentStep(input.runId, input.stepIndex);
      const record = getStep(this.store.db, run.id, step.index);
      if (record?.waitingOn !== 'rpo-gate')
        throw new UsageError(`step ${step.index + 1} is not blocked by the RPO gate`);
      const approval = this.runner.requestApproval(
        run,
        step.index,
        'rpo-override',
        input.actor.user,
        1,
        input.reason.trim(),
      );
      return {
        runId: run.id,
        message: 'RPO override requested: a second person must approve it',
        audit: [
          audited(input.actor, 'gate.rpo-override-requested', run.id, {
            step: step.index,
            reason: input.reason,
            approval: approval.id,
          }),
        ],
        events: [
          {
            type: 'approval.requested',
            runId: run.id,
            approval,
            summary: `override the RPO gate: ${input.reason.trim()}`,
          },
        ],
      };
    });
  }

  retryStep(input: { key: string; actor: Actor; runId: string; stepIndex: number }): CommandResult {
    return this.command(input.key, 'step.retry', input.runId, input.actor, () => {
      const { run, step } = this.currentStep(input.runId, input.stepIndex);
      const record = getStep(this.store.db, run.id, step.index);
      if (record?.waitingOn !== 'failure' && record?.waitingOn !== 'rpo-gate') {
        throw new UsageError(`step ${step.index + 1} has not failed: there is nothing to retry`);
      }
      updateStep(this.store.db, run.id, step.index, { waitingOn: null });
      updateRun(this.store.db, run.id, { status: 'running' });
      return {
        runId: run.id,
        message: `retrying step ${step.index + 1}`,
        audit: [audited(input.actor, 'step.retried', run.id, { step: step.index })],
        events: [],
        drive: true,
      };
    });
  }

  abortRun(input: { key: string; actor: Actor; runId: string; reason: string }): CommandResult {
    return this.command(input.key, 'run.abort', input.runId, input.actor, () => {
      const run = this.runOrThrow(input.runId);
      if (run.status !== 'running' && run.status !== 'waiting')
        throw new UsageError(`run ${run.id} is already ${run.status}`);
      const now = this.clock().toISOString();
      const outcome = `aborted by ${input.actor.user}${input.reason.trim() ? `: ${input.reason.trim()}` : ''}`;
      updateRun(this.store.db, run.id, { status: 'aborted', outcome, finishedAt: now });
      return {
        runId: run.id,
        message: `run ${run.id} aborted`,
        audit: [audited(input.actor, 'run.aborted', run.id, { reason: input.reason })],
        events: [{ type: 'run.finished', runId: run.id, run: getRun(this.store.db, run.id)! }],
      };
    });
  }

  /** Starts (or chains onto) the walk of a run; one walker per run in this process. */
  drive(runId: string): void {
    const previous = this.driving.get(runId) ?? Promise.resolve();
    const next = previous
      .then(() => this.runner.drive(runId))
      .catch((error: unknown) =>
        this.deps.logger?.error({ err: error, run: runId }, 'run walker failed'),
      )
      .finally(() => {
        if (this.driving.get(runId) === next) this.driving.delete(runId);
      });
    this.driving.set(runId, next);
  }

  private command(
    key: string,
    name: string,
    runId: string | null,
    actor: Actor,
    change: () => Change,
  ): CommandResult {
    const db = this.store.db;
    type Applied = { seen: StoredOutcome; result?: never } | { seen?: never; result: Change };
    let applied: Applied;
    try {
      applied = db
        .transaction((): Applied => {
          const seen = findOutcome(db, key);
          if (seen) return { seen };
          const result = change();
          recordAuditEvents(db, result.audit, this.clock);
          storeOutcome(
            db,
            key,
            { command: name, runId: result.runId, result: { ok: true, message: result.message } },
            this.clock().toISOString(),
          );
          return { result };
        })
        .immediate();
    } catch (error) {
      if (error instanceof GateRefused) this.recordRefusal(key, name, runId, actor, error);
      throw error;
    }
    if (applied.seen) {
      const { seen } = applied;
      if (!seen.result.ok) throw new GateRefused(seen.result.gate, seen.result.reason);
      return { runId: seen.runId ?? '', replayed: true, message: seen.result.message };
    }
    const { result } = applied;
    for (const event of result.events) this.emit(event);
    if (result.drive) this.drive(result.runId);
    return { runId: result.runId, replayed: false, message: result.message };
  }

  /** A refusal is remembered (a redelivery is refused the same way) and audited, once. */
  private recordRefusal(
    key: string,
    name: string,
    runId: string | null,
    actor: Actor,
    error: GateRefused,
  ): void {
    const db = this.store.db;
    db.transaction(() => {
      if (findOutcome(db, key)) return;
      recordAuditEvents(
        db,
        [
          audited(actor, `${name}.refused`, runId ?? 'lifeboat', {
            gate: error.gate,
            reason: error.reason,
          }),
        ],
        this.clock,
      );
      storeOutcome(
        db,
        key,
        { command: name, runId, result: { ok: false, gate: error.gate, reason: error.reason } },
        this.clock().toISOString(),
      );
    }).immediate();
  }

  private expireIfDue(approvalId: string): void {
    const approval = getApproval(this.store.db, approvalId);
    if (!approval || !isExpired(approval, this.clock())) return;
    this.store.db
      .transaction(() => {
        setApprovalStatus(this.store.db, approval.id, 'expired', this.clock().toISOString());
        recordAuditEvents(
          this.store.db,
          [
            {
              actor: 'system',
              action: 'approval.expired',
              subject: approval.runId,
              details: { approval: approval.id },
            },
          ],
          this.clock,
        );
      })
      .immediate();
  }

  private resolveService(runbook: Runbook, name: string | null, kind: RunKind): Service | null {
    const services = this.config.services;
    const known = Object.keys(services).join(', ') || 'none configured';
    const chosen = name ?? runbook.service;
    if (chosen === null) {
      const needsService =
        kind === 'failover' ||
        kind === 'failback' ||
        allSteps(runbook).some(
          (step) => step.action !== null && !['wait', 'notify'].includes(step.action),
        );
      if (needsService)
        throw new UsageError(
          `runbook ${runbook.name} acts on a service: name one (known: ${known})`,
        );
      return null;
    }
    const service = services[chosen];
    if (!service) throw new NotFound(`no service "${chosen}" (known: ${known})`);
    if (runbook.service !== null && name !== null && runbook.service !== name) {
      throw new UsageError(
        `runbook ${runbook.name} is written for ${runbook.service}, not ${name}`,
      );
    }
    return service;
  }

  private runOrThrow(runId: string): RunRecord {
    const run = getRun(this.store.db, runId);
    if (!run) throw new NotFound(`no run "${runId}": /dr history lists the recent ones`);
    return run;
  }

  private currentStep(runId: string, stepIndex: number) {
    const run = this.runOrThrow(runId);
    if (run.status !== 'running' && run.status !== 'waiting')
      throw new UsageError(`run ${run.id} is ${run.status}`);
    const runbook = this.runner.runbookOf(run.id);
    const step = allSteps(runbook)[stepIndex];
    if (!step) throw new UsageError(`run ${run.id} has no step ${stepIndex + 1}`);
    if (stepIndex !== run.currentStep) {
      throw new UsageError(
        `step ${stepIndex + 1} is not the current step of run ${run.id} (the current one is ${run.currentStep + 1})`,
      );
    }
    const record = getStep(this.store.db, run.id, stepIndex);
    if (record?.state === 'executing')
      throw new UsageError(
        `step ${stepIndex + 1} is running ${step.action}: wait for it to finish`,
      );
    return { run, step };
  }

  private emit(event: EngineEvent): void {
    for (const listener of this.listeners) {
      try {
        const result = listener(event);
        if (result instanceof Promise) {
          result.catch((error: unknown) =>
            this.deps.logger?.error(
              { err: error, run: event.runId, event: event.type },
              'listener failed',
            ),
          );
        }
      } catch (error) {
        this.deps.logger?.error(
          { err: error, run: event.runId, event: event.type },
          'listener failed',
        );
      }
    }
  }
}

function audited(
  actor: Actor,
  action: string,
  subject: string,
  details: Record<string, unknown>,
): AuditEvent {
  return {
    actor: actor.user,
    action,
    subject,
    details: actor.via ? { ...details, via: actor.via } : details,
  };
}
