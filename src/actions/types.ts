// The contract every action keeps: plan() says what it will do without doing it; run() does it and
// is idempotent (running it again after a crash is safe); verify() checks the result independently.

import type { Service } from '../config.js';
import type { RunKind, Step } from '../runbook/model.js';
import type { BackupStore, DatabaseProvider, DnsProvider } from '../providers/types.js';

export interface ServiceProviders {
  database: DatabaseProvider | null;
  dns: DnsProvider | null;
  backups: BackupStore | null;
}

export interface ActionContext {
  run: { id: string; kind: RunKind };
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
}

export interface ActionOutcome {
  /** One line a person reads in the thread. */
  summary: string;
  details: Record<string, unknown>;
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
   * Facts to commit before the side effect starts, handed back as `previous` if the step is
   * resumed after a crash (a wait's deadline, so a restart does not wait all over again).
   */
  prepare?(context: ActionContext): Record<string, unknown>;
  run(context: ActionContext): Promise<ActionOutcome>;
  verify(context: ActionContext, outcome: ActionOutcome): Promise<Verification>;
}
