// Starting and aborting runs: the one-failover-at-a-time gate, the impact time, exercises ended
// by a real failover.

import { GateRefused, UsageError } from '../errors.js';
import { allSteps, type RunKind } from '../runbook/model.js';
import type { AuditEvent } from '../store/audit.js';
import { getRun, insertRun, updateRun, isInFlight } from '../store/runs.js';
import { insertSteps } from '../store/steps.js';
import { startConflicts } from './conflicts.js';
import {
  audited,
  resolveService,
  runOrThrow,
  type Actor,
  type Change,
  type EngineCore,
} from './core.js';
import type { EngineEvent } from './events.js';

export function startRunChange(
  core: EngineCore,
  input: {
    key: string;
    actor: Actor;
    runbook: string;
    service?: string | null;
    kind?: RunKind;
    impactAt?: Date;
  },
): Change {
  const runbook = core.loadRunbook(input.runbook);
  const kind = input.kind ?? runbook.kind;
  const service = resolveService(core, runbook, input.service ?? null, kind);
  const now = core.clock();
  const impactAt = input.impactAt ?? now;
  if (impactAt.getTime() > now.getTime()) {
    throw new UsageError(
      `the impact time ${impactAt.toISOString()} is in the future: it is when the outage began`,
    );
  }
  const { refusal, exercisesToAbort } = startConflicts(core.store.db, service?.name ?? null, kind);
  if (refusal) throw new GateRefused('one-at-a-time', refusal);
  const runId = core.newId('r');
  insertRun(core.store.db, {
    id: runId,
    runbook,
    service: service?.name ?? null,
    kind,
    startedBy: input.actor.user,
    startedAt: now,
    impactAt,
    idempotencyKey: input.key,
  });
  insertSteps(core.store.db, runId, allSteps(runbook).length);
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
    updateRun(core.store.db, exercise.id, {
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
      run: getRun(core.store.db, exercise.id)!,
    });
  }
  events.unshift({ type: 'run.started', runId, run: getRun(core.store.db, runId)! });
  return {
    runId,
    message: `started ${kind} run ${runId} of ${runbook.name}`,
    audit,
    events,
    drive: true,
  };
}

export function abortRunChange(
  core: EngineCore,
  input: { key: string; actor: Actor; runId: string; reason: string },
): Change {
  const run = runOrThrow(core, input.runId);
  if (!isInFlight(run)) throw new UsageError(`run ${run.id} is already ${run.status}`);
  const now = core.clock().toISOString();
  const outcome = `aborted by ${input.actor.user}${input.reason.trim() ? `: ${input.reason.trim()}` : ''}`;
  updateRun(core.store.db, run.id, { status: 'aborted', outcome, finishedAt: now });
  return {
    runId: run.id,
    message: `run ${run.id} aborted`,
    audit: [audited(input.actor, 'run.aborted', run.id, { reason: input.reason })],
    events: [{ type: 'run.finished', runId: run.id, run: getRun(core.store.db, run.id)! }],
  };
}
