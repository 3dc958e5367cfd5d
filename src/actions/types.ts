// The contract every action keeps: plan() says what it will do without doing it; run() does it and
// is idempotent (running it again after a crash is safe); verify(), where an action has one, checks
// the result independently of run() — an action with nothing independent to check has none.

import type { CustomAction, Service } from '../config.js';
import type { RunKind, Step } from '../runbook/model.js';
import type { ActionName } from '../runbook/action-names.js';
import type { NodeName, ServiceProviders } from '../providers/types.js';

export type { ServiceProviders } from '../providers/types.js';

export interface ActionContext {
  run: { id: string; kind: RunKind; runbook: string };
  step: Step;
  service: Service | null;
  providers: ServiceProviders;
  clock: () => Date;
  /** Waits `ms`; tests pass one that does not wait on real time. */
  sleep: (ms: number) => Promise<void>;
  /** Posts `text` to the run's thread (through the engine's events: actions never call Slack). */
  notify: (text: string) => void;
  /** What an earlier, interrupted attempt of this step recorded (a wait's deadline, ...). */
  previous: Record<string, unknown>;
  /** 1 for the first attempt of this step; more after a failure was retried or a crash resumed. */
  attempt: number;
  /** The outcome of the latest finished step of this run bound to `action`, or null. */
  earlier: (action: ActionName) => EarlierOutcome | null;
  /** Whether a later step of this run's runbook is bound to `action`. */
  later: (action: ActionName) => boolean;
  /** Shows how a long action is getting on, in place (a replica catching up); not a new message. */
  progress: (text: string) => void;
  /** Where the run stands now: its phase and the ETA of recovery from the phase budgets. */
  standing: () => Promise<RunStanding>;
  /**
   * Posts a stakeholder update to slack.announcements and says where it went; null where lifeboat
   * cannot post (the break-glass CLI): a person posts it, from the step's instructions.
   */
  announce: ((text: string) => Promise<{ channel: string; ts: string }>) | null;
  /** slack.announcements, where announce posts (or tells a person to). */
  announcements: string | null;
  /** The team's own actions from lifeboat.yml, and the part of lifeboat's environment they may read. */
  custom: { actions: Record<string, CustomAction>; env: Record<string, string | undefined> };
}

export interface RunStanding {
  phaseNumber: number;
  phaseCount: number;
  phaseTitle: string;
  impactAt: string;
  service: string | null;
  etaAt: Date | null;
  etaNote: string | null;
}

export interface EarlierOutcome {
  state: 'done' | 'skipped';
  finishedAt: string | null;
  details: Record<string, unknown>;
}

/** Whether a replica follows the service's writer, as an action found it. */
export interface ProtectionChange {
  state: 'protected' | 'unprotected';
  writer: NodeName;
  detail: string;
}

export interface ActionOutcome {
  /** One line a person reads in the thread. */
  summary: string;
  details: Record<string, unknown>;
  /** Recorded with the step: a promotion leaves the service unprotected, a verified replica protects it. */
  protection?: ProtectionChange;
}

export interface Verification {
  ok: boolean;
  summary: string;
}

export interface Action {
  name: string;
  /** One or two sentences: what it will do, to which resource. No side effects. */
  plan(context: ActionContext): string;
  /**
   * Why this action does not apply to the run's service (no dns:, no backups: …), or null. A step
   * whose action does not apply is skipped with this reason, before any approval is asked for.
   */
  skipReason?(context: ActionContext): string | null;
  /**
   * When non-null, this step is done by a person, not by lifeboat (rebuilding a self-managed
   * PostgreSQL standby): the text is what to do, and the step waits for Done.
   */
  instructions?(context: ActionContext): string | null;
  /**
   * Facts to commit before the side effect starts, handed back as `previous` if the step is
   * resumed after a crash (a wait's deadline, a fenced instance's security groups).
   */
  prepare?(context: ActionContext): Record<string, unknown> | Promise<Record<string, unknown>>;
  run(context: ActionContext): Promise<ActionOutcome>;
  /**
   * An independent check of what run() claims; absent — or null for this step (a command defined
   * without a verify command) — when there is nothing independent to check.
   */
  verify?(context: ActionContext, outcome: ActionOutcome): Promise<Verification | null>;
}
