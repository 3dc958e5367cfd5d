// What the engine's command handlers share: the store, config and clock they act on, the step
// runner, and the checks every command makes (the run exists, the step is the current one).

import type { Config, Service } from '../config.js';
import type { NodeName } from '../providers/types.js';
import { NotFound, UsageError } from '../errors.js';
import { allSteps, type Runbook, type RunKind } from '../runbook/model.js';
import { recordAuditEvents, type AuditEvent } from '../store/audit.js';
import { getApproval, setApprovalStatus } from '../store/approvals.js';
import type { Store } from '../store/db.js';
import { getRun, type RunRecord, isInFlight } from '../store/runs.js';
import { getStep } from '../store/steps.js';
import { isExpired } from './approval.js';
import type { EngineEvent } from './events.js';
import type { StepRunner } from './step-runner.js';

export interface EngineCore {
  store: Store;
  config: Config;
  clock: () => Date;
  runner: StepRunner;
  newId: (prefix: 'r' | 'a') => string;
  loadRunbook: (name: string) => Runbook | Promise<Runbook>;
}

/**
 * Who gives a command: a Slack user ID, how they reached us (`slack`, `cli:alice`, `token:bob`),
 * and the configured user groups the adapter confirmed they belong to (the CLI confirms none).
 */
export interface Actor {
  user: string;
  via?: string;
  groups?: readonly string[];
}

/** Every command: who gives it, and its idempotency key (a retried request has one effect). */
export interface CommandInput {
  key: string;
  actor: Actor;
}

export interface RunInput extends CommandInput {
  runId: string;
}

export interface StepInput extends RunInput {
  stepIndex: number;
}

/** A step skipped or a gate overridden: the reason goes into the report. */
export interface StepReasonInput extends StepInput {
  reason: string;
}

export interface StartRunInput extends CommandInput {
  runbook: string;
  service?: string | null;
  kind?: RunKind;
  impactAt?: Date;
}

export interface CompleteStepInput extends StepInput {
  note?: string;
}

/** A note on a step, or on the run as a whole when `stepIndex` is null. */
export interface NoteInput extends RunInput {
  stepIndex?: number | null;
  text: string;
}

export interface ApprovalDecisionInput extends CommandInput {
  approvalId: string;
  decision: 'approve' | 'deny';
  reason?: string;
}

export interface AbortInput extends RunInput {
  reason: string;
  /** Also lift the fence the run put on the old primary (not after a promotion). */
  unfence?: boolean;
  force?: boolean;
}

/** A command's effect, computed inside its transaction: committed with its audit, then emitted. */
export interface Change {
  runId: string;
  message: string;
  audit: AuditEvent[];
  events: EngineEvent[];
  drive?: boolean;
  /** After commit: lift the fence this run put on `node` (a switchover stopped before promotion). */
  unfence?: { stepIndex: number; node: NodeName; saved: Record<string, unknown> };
}

export async function expireIfDue(core: EngineCore, approvalId: string): Promise<void> {
  const approval = await getApproval(core.store, approvalId);
  if (!approval || !isExpired(approval, core.clock())) return;
  await core.store.transaction(async () => {
    await setApprovalStatus(core.store, approval.id, 'expired', core.clock().toISOString());
    await recordAuditEvents(
      core.store,
      [
        {
          actor: 'system',
          action: 'approval.expired',
          subject: approval.runId,
          details: { approval: approval.id },
        },
      ],
      core.clock,
    );
  });
}

export function resolveService(
  core: EngineCore,
  runbook: Runbook,
  name: string | null,
  kind: RunKind,
): Service | null {
  const services = core.config.services;
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
      throw new UsageError(`runbook ${runbook.name} acts on a service: name one (known: ${known})`);
    return null;
  }
  const service = services[chosen];
  if (!service) throw new NotFound(`no service "${chosen}" (known: ${known})`);
  if (runbook.service !== null && name !== null && runbook.service !== name) {
    throw new UsageError(`runbook ${runbook.name} is written for ${runbook.service}, not ${name}`);
  }
  return service;
}

export async function runOrThrow(core: EngineCore, runId: string): Promise<RunRecord> {
  const run = await getRun(core.store, runId);
  if (!run) throw new NotFound(`no run "${runId}": /dr history lists the recent ones`);
  return run;
}

export async function currentStep(core: EngineCore, runId: string, stepIndex: number) {
  const run = await runOrThrow(core, runId);
  if (!isInFlight(run)) throw new UsageError(`run ${run.id} is ${run.status}`);
  const runbook = await core.runner.runbookOf(run.id);
  const step = allSteps(runbook)[stepIndex];
  if (!step) throw new UsageError(`run ${run.id} has no step ${stepIndex + 1}`);
  if (stepIndex !== run.currentStep) {
    throw new UsageError(
      `step ${stepIndex + 1} is not the current step of run ${run.id} (the current one is ${run.currentStep + 1})`,
    );
  }
  const record = await getStep(core.store, run.id, stepIndex);
  if (record?.state === 'executing')
    throw new UsageError(`step ${stepIndex + 1} is running ${step.action}: wait for it to finish`);
  return { run, step };
}

export function audited(
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
