// The run engine: every command a person gives (start, done, skip, note, approve, deny, override,
// retry, abort) and the walk through a runbook's steps. No Slack here.
//
// Never runs a completed action twice: each transition is committed before the side effect starts
// and after it ends, and every command carries an idempotency key, so a redelivered request or a
// double click changes nothing.

import { randomBytes } from 'node:crypto';
import type { Config, Service } from '../config.js';
import { GateRefused, NotFound } from '../errors.js';
import type { Logger } from '../log.js';
import { allSteps, type Runbook, type RunKind } from '../runbook/model.js';
import { recordAuditEvents } from '../store/audit.js';
import type { Store } from '../store/db.js';
import { findOutcome, storeOutcome, type StoredOutcome } from '../store/idempotency.js';
import { ACTIONS, type ActionRegistry } from '../actions/registry.js';
import { bindCustomActions } from '../runbook/references.js';
import { describeLag } from '../actions/db/describe-lag.js';
import type { ServiceProviders } from '../actions/types.js';
import type { EngineEvent, EngineListener } from './events.js';
import { getRunView, type RunView } from './run-view.js';
import {
  decideApprovalChange,
  overrideGateChange,
  renewApprovalChange,
} from './approval-commands.js';
import {
  audited,
  expireIfDue,
  resolveService,
  type Actor,
  type Change,
  type EngineCore,
  type StartRunInput,
  type CompleteStepInput,
  type StepReasonInput,
  type NoteInput,
  type ApprovalDecisionInput,
  type RunInput,
  type StepInput,
  type AbortInput,
} from './core.js';

export type { Actor };
import { abortRunChange, startRunChange } from './run-commands.js';
import {
  addNoteChange,
  completeStepChange,
  retryStepChange,
  skipStepChange,
} from './step-commands.js';
import { StepRunner, type ProvidersFor } from './step-runner.js';
import { SELF, claimRun, orphanedRuns, releaseRun } from './executor-lease.js';
import { recordStepEvent, updateStep } from '../store/steps.js';
import { promoteFor } from './direction.js';
import type { NodeName } from '../providers/types.js';

export interface EngineDeps {
  store: Store;
  config: Config;
  loadRunbook: (name: string) => Runbook | Promise<Runbook>;
  providersFor: ProvidersFor;
  actions?: ActionRegistry;
  clock?: () => Date;
  sleep?: (ms: number) => Promise<void>;
  newId?: (prefix: 'r' | 'a') => string;
  logger?: Logger;
  /** Who this process is when it walks a run (default: host, pid and a random tag). */
  executorId?: string;
  /** Posts a stakeholder update to slack.announcements (the bot only). */
  announce?: (text: string) => Promise<{ channel: string; ts: string }>;
}

export interface CommandResult {
  runId: string;
  /** True when this key was seen before: nothing was done again. */
  replayed: boolean;
  message: string;
}

export class Engine {
  readonly store: Store;
  readonly config: Config;
  readonly clock: () => Date;
  private readonly executorId: string;
  private readonly deps: EngineDeps;
  private readonly listeners: EngineListener[] = [];
  private readonly driving = new Map<string, Promise<void>>();
  private readonly runner: StepRunner;
  private readonly newId: (prefix: 'r' | 'a') => string;
  private readonly core: EngineCore;

  constructor(deps: EngineDeps) {
    this.deps = deps;
    this.store = deps.store;
    this.config = deps.config;
    this.clock = deps.clock ?? (() => new Date());
    this.executorId = deps.executorId ?? SELF;
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
      executorId: this.executorId,
      announce: deps.announce,
    });
    this.core = {
      store: deps.store,
      config: deps.config,
      clock: this.clock,
      runner: this.runner,
      newId: this.newId,
      loadRunbook: deps.loadRunbook,
    };
  }

  on(listener: EngineListener): () => void {
    this.listeners.push(listener);
    return () => this.listeners.splice(this.listeners.indexOf(listener), 1);
  }

  async getRun(runId: string): Promise<RunView> {
    const view = await getRunView(this.store, runId, this.clock());
    if (!view) throw new NotFound(`no run "${runId}": /dr history lists the recent ones`);
    return view;
  }

  /**
   * What a run would do, before it exists: each action step with its plan. No side effects;
   * for confirmations ("this will promote replica X").
   */
  async previewPlan(
    runbookName: string,
    serviceName: string | null,
    kind: RunKind,
  ): Promise<{ runbook: Runbook; lines: string[] }> {
    const runbook = bindCustomActions(this.deps.config, await this.deps.loadRunbook(runbookName));
    const service = resolveService(this.core, runbook, serviceName, kind);
    const providers = this.deps.providersFor(
      service,
      kind,
      service ? await this.promoteFor(service.name, kind) : undefined,
    );
    const actions = this.deps.actions ?? ACTIONS;
    const lines = allSteps(runbook)
      .filter((step) => step.action !== null)
      .map((step) => {
        const context = {
          run: { id: 'preview', kind, runbook: runbook.name },
          step,
          service,
          providers,
          clock: this.clock,
          sleep: () => Promise.resolve(),
          notify: () => undefined,
          previous: {},
          attempt: 1,
          earlier: () => null,
          later: () => false,
          progress: () => undefined,
          custom: { actions: this.deps.config.actions, env: this.deps.config.actionEnv },
          standing: () => Promise.reject(new Error('a preview has no standing')),
          announce: this.deps.announce ?? null,
          announcements: this.deps.config.slackAnnouncements,
        };
        const action = actions[step.action!];
        const skip = action.skipReason?.(context) ?? null;
        return `${step.index + 1}. ${step.text} — ${skip ?? action.plan(context)}${step.approval && !skip ? ' (two-person approval)' : ''}`;
      });
    return { runbook, lines };
  }

  /** The providers of a service, as a run of `kind` would use them (checks use these too). */
  /**
   * The providers of a service, as a run of `kind` promoting `promote` would use them (checks use
   * these too); without `promote`, the providers' own default (the replica; the primary for a
   * failback). A switchover's direction depends on who writes now: ask promoteFor first.
   */
  providersFor(service: Service, kind: RunKind, promote?: NodeName): ServiceProviders {
    return this.deps.providersFor(service, kind, promote);
  }

  /** The node a run of `kind` on the service would promote now. */
  promoteFor(serviceName: string, kind: RunKind): Promise<NodeName> {
    return promoteFor(this.store, serviceName, kind);
  }

  /** Replication lag of the database a run of `kind` would promote, as one line against the RPO. */
  async measureLagFor(serviceName: string, kind: RunKind): Promise<string> {
    const service = this.config.services[serviceName];
    if (!service) throw new NotFound(`no service "${serviceName}"`);
    const database = this.providersFor(
      service,
      kind,
      await this.promoteFor(service.name, kind),
    ).database;
    if (!database) return 'no database configured';
    return describeLag(await database.measureLag(), service.rpoSeconds);
  }

  /** Resolves when no run is being driven: tests and shutdown wait on it. */
  async idle(): Promise<void> {
    while (this.driving.size > 0) await Promise.allSettled([...this.driving.values()]);
  }

  /**
   * While serving, every few seconds: walk on any run whose walker died or was cut off (another
   * instance killed, paused past its lease), from where the store says it stands. Returns the runs
   * taken up.
   */
  async adoptOrphans(): Promise<string[]> {
    const orphans = (await orphanedRuns(this.store, new Date(), this.executorId)).filter(
      (runId) => !this.driving.has(runId),
    );
    for (const runId of orphans) {
      this.deps.logger?.warn({ run: runId }, 'taking over a run whose walker is gone');
      this.drive(runId);
    }
    return orphans;
  }

  /**
   * `lifeboat run resume RUN`: walk this one run on from where the store says it stands (an
   * aborted run's interrupted action is recorded as of unknown effect). Nothing else is walked.
   */
  async resumeRun(runId: string): Promise<void> {
    await this.getRun(runId); // NotFound for a run that does not exist
    await this.closeInterruptedAborts(runId);
    this.drive(runId);
  }

  /** After a restart: pick up every run in flight where it stopped. */
  async resume(): Promise<void> {
    await this.closeInterruptedAborts();
    const rows = await this.store.all<{ id: string }>(
      "SELECT id FROM runs WHERE status IN ('running', 'waiting')",
    );
    for (const { id } of rows) this.drive(id);
  }

  startRun(input: StartRunInput): Promise<CommandResult> {
    return this.command(input.key, 'run.start', null, input.actor, () =>
      startRunChange(this.core, input),
    );
  }

  completeStep(input: CompleteStepInput): Promise<CommandResult> {
    return this.command(input.key, 'step.done', input.runId, input.actor, () =>
      completeStepChange(this.core, input),
    );
  }

  skipStep(input: StepReasonInput): Promise<CommandResult> {
    return this.command(input.key, 'step.skip', input.runId, input.actor, () =>
      skipStepChange(this.core, input),
    );
  }

  addNote(input: NoteInput): Promise<CommandResult> {
    return this.command(input.key, 'note.add', input.runId, input.actor, () =>
      addNoteChange(this.core, input),
    );
  }

  async decideApproval(input: ApprovalDecisionInput): Promise<CommandResult> {
    await expireIfDue(this.core, input.approvalId);
    return this.command(input.key, `approval.${input.decision}`, null, input.actor, () =>
      decideApprovalChange(this.core, input),
    );
  }

  /** Asks again after a request expired. */
  renewApproval(input: RunInput): Promise<CommandResult> {
    return this.command(input.key, 'approval.renew', input.runId, input.actor, () =>
      renewApprovalChange(this.core, input),
    );
  }

  /**
   * A promotion is blocked by the RPO gate or the fence gate: proceed anyway, with a reason, once
   * a second person approves.
   */
  overrideGate(input: StepReasonInput): Promise<CommandResult> {
    return this.command(input.key, 'gate.override', input.runId, input.actor, () =>
      overrideGateChange(this.core, input),
    );
  }

  retryStep(input: StepInput): Promise<CommandResult> {
    return this.command(input.key, 'step.retry', input.runId, input.actor, () =>
      retryStepChange(this.core, input),
    );
  }

  /** Stops a run; with `unfence`, also lifts the fence it put on the old primary (not after a promotion). */
  abortRun(input: AbortInput): Promise<CommandResult> {
    return this.command(input.key, 'run.abort', input.runId, input.actor, () =>
      abortRunChange(this.core, input),
    );
  }

  /**
   * A run force-aborted while an action ran, whose process then died before the action ended: no
   * walker will ever record its result, so it is recorded as interrupted (its effect unknown) and
   * the service's lock is released. A run some live process still walks is left to it.
   */
  private async closeInterruptedAborts(only: string | null = null): Promise<void> {
    const db = this.store;
    const stuck = await db.all<{ runId: string; stepIndex: number }>(
      `SELECT s.run_id AS "runId", s.step_index AS "stepIndex" FROM run_steps s JOIN runs r ON r.id = s.run_id
       WHERE r.status = 'aborted' AND s.state = 'executing' AND (r.id = ? OR CAST(? AS TEXT) IS NULL)`,
      only,
      only,
    );
    for (const { runId, stepIndex } of stuck) {
      if ((await claimRun(db, runId, this.clock(), this.executorId)) === null) continue;
      const summary =
        'interrupted: the run was aborted while this action ran, and lifeboat stopped before it ended — its effect is unknown: check the resource by hand';
      await db.transaction(async () => {
        const now = this.clock().toISOString();
        await updateStep(db, runId, stepIndex, {
          state: 'skipped',
          finishedAt: now,
          actor: 'lifeboat',
          summary,
        });
        await recordStepEvent(db, {
          runId,
          stepIndex,
          event: 'interrupted',
          actor: 'lifeboat',
          at: now,
          details: {},
        });
        await recordAuditEvents(
          db,
          [
            {
              actor: 'system',
              action: 'action.interrupted',
              subject: runId,
              details: { step: stepIndex },
            },
          ],
          this.clock,
        );
      });
      await releaseRun(db, runId, this.executorId);
    }
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

  private async command(
    key: string,
    name: string,
    runId: string | null,
    actor: Actor,
    change: () => Promise<Change>,
  ): Promise<CommandResult> {
    const db = this.store;
    type Applied = { seen: StoredOutcome; result?: never } | { seen?: never; result: Change };
    let applied: Applied;
    try {
      applied = await db.transaction(async (): Promise<Applied> => {
        const seen = await findOutcome(db, key);
        if (seen) return { seen };
        const result = await change();
        await recordAuditEvents(db, result.audit, this.clock);
        await storeOutcome(
          db,
          key,
          { command: name, runId: result.runId, result: { ok: true, message: result.message } },
          this.clock().toISOString(),
        );
        return { result };
      });
    } catch (error) {
      if (error instanceof GateRefused) await this.recordRefusal(key, name, runId, actor, error);
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
    if (result.unfence)
      this.track(`unfence:${result.runId}`, this.unfence(result.runId, result.unfence, actor));
    return { runId: result.runId, replayed: false, message: result.message };
  }

  /** Work started by a command that outlives it; idle() waits for it too. */
  private track(key: string, work: Promise<void>): void {
    const tracked = work
      .catch((error: unknown) => this.deps.logger?.error({ err: error, key }, 'follow-up failed'))
      .finally(() => {
        if (this.driving.get(key) === tracked) this.driving.delete(key);
      });
    this.driving.set(key, tracked);
  }

  /** Lifts a fence after the run that put it up was stopped; the result is audited and posted. */
  private async unfence(
    runId: string,
    target: NonNullable<Change['unfence']>,
    actor: Actor,
  ): Promise<void> {
    const run = (await this.getRun(runId)).run;
    const service = run.service ? (this.config.services[run.service] ?? null) : null;
    const database = this.deps.providersFor(service, run.kind, run.promote).database;
    let text: string;
    let audit: { action: string; details: Record<string, unknown> };
    try {
      if (!database) throw new NotFound(`run ${runId} has no database to unfence`);
      const result = await database.unfence(target.node, target.saved);
      text = `:unlock: ${result.detail}`;
      audit = { action: 'fence.lifted', details: { node: target.node, detail: result.detail } };
    } catch (error) {
      const message = (error as Error).message;
      text = `:x: the fence could not be lifted: ${message}. The old primary stays read-only until someone lifts it by hand (ALTER SYSTEM RESET default_transaction_read_only; SELECT pg_reload_conf();).`;
      audit = { action: 'fence.lift-failed', details: { node: target.node, error: message } };
    }
    await recordAuditEvents(
      this.store,
      [audited(actor, audit.action, runId, { step: target.stepIndex, ...audit.details })],
      this.clock,
    );
    this.emit({ type: 'notify', runId, text });
  }

  /**
   * A refusal is remembered (a redelivery is refused the same way) and audited, once. Adapters
   * call it for what they refuse before the engine is asked (a forged approval token).
   */
  recordRefusal(
    key: string,
    name: string,
    runId: string | null,
    actor: Actor,
    error: GateRefused,
  ): Promise<void> {
    const db = this.store;
    return db.transaction(async () => {
      if (await findOutcome(db, key)) return;
      await recordAuditEvents(
        db,
        [
          audited(actor, `${name}.refused`, runId ?? 'lifeboat', {
            gate: error.gate,
            reason: error.reason,
          }),
        ],
        this.clock,
      );
      await storeOutcome(
        db,
        key,
        { command: name, runId, result: { ok: false, gate: error.gate, reason: error.reason } },
        this.clock().toISOString(),
      );
    });
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
