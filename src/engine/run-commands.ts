// Starting and aborting runs: the one-failover-at-a-time gate, the impact time, exercises ended
// by a real failover.

import { GateRefused, UsageError } from '../errors.js';
import type { NodeName } from '../providers/types.js';
import { allSteps } from '../runbook/model.js';
import { PROMOTING_ACTIONS } from '../runbook/action-names.js';
import { bindCustomActions } from '../runbook/references.js';
import type { AuditEvent } from '../store/audit.js';
import type { Sql } from '../store/db.js';
import { getRun, insertRun, updateRun, isInFlight, type RunRecord } from '../store/runs.js';
import { getSteps, insertSteps, recordStepEvent, updateStep } from '../store/steps.js';
import { changesInfrastructure, startConflicts } from './conflicts.js';
import { requirePermission } from './permissions.js';
import { promoteFor } from './direction.js';
import {
  audited,
  resolveService,
  runOrThrow,
  type Change,
  type EngineCore,
  type StartRunInput,
  type AbortInput,
} from './core.js';
import type { EngineEvent } from './events.js';

export async function startRunChange(core: EngineCore, input: StartRunInput): Promise<Change> {
  const runbook = bindCustomActions(core.config, await core.loadRunbook(input.runbook));
  const kind = input.kind ?? runbook.kind;
  const service = resolveService(core, runbook, input.service ?? null, kind);
  const mutates = changesInfrastructure(runbook, kind);
  requirePermission(
    core.config,
    mutates ? 'start_failover' : 'start_exercise',
    input.actor,
    mutates
      ? `start ${runbook.name} (a ${kind} that changes infrastructure)`
      : `start a ${kind} of ${runbook.name}`,
  );
  const now = core.clock();
  const impactAt = input.impactAt ?? now;
  if (impactAt.getTime() > now.getTime()) {
    throw new UsageError(
      `the impact time ${impactAt.toISOString()} is in the future: it is when the outage began`,
    );
  }
  const { refusal, exercisesToAbort } = await startConflicts(
    core.store,
    service?.name ?? null,
    kind,
    runbook,
  );
  if (refusal) throw new GateRefused('one-at-a-time', refusal);
  const runId = core.newId('r');
  const promote = service ? await promoteFor(core.store, service.name, kind) : undefined;
  await insertRun(core.store, {
    id: runId,
    runbook,
    service: service?.name ?? null,
    kind,
    startedBy: input.actor.user,
    startedAt: now,
    impactAt,
    idempotencyKey: input.key,
    promote,
    mutates,
    startedVia: input.actor.via ?? null,
  });
  await insertSteps(core.store, runId, allSteps(runbook).length);
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
    await endAborted(core.store, exercise, {
      outcome,
      actor: 'system',
      reason: outcome,
      at: now.toISOString(),
      executing: null,
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
      run: (await getRun(core.store, exercise.id))!,
    });
  }
  events.unshift({ type: 'run.started', runId, run: (await getRun(core.store, runId))! });
  return {
    runId,
    message: `started ${kind} run ${runId} of ${runbook.name}`,
    audit,
    events,
    drive: true,
  };
}

export async function abortRunChange(core: EngineCore, input: AbortInput): Promise<Change> {
  const run = await runOrThrow(core, input.runId);
  if (!isInFlight(run)) throw new UsageError(`run ${run.id} is already ${run.status}`);
  if (!input.reason.trim())
    throw new UsageError('aborting a run needs a reason (it goes into the report)');
  requirePermission(core.config, 'abort', input.actor, `abort run ${run.id}`, {
    user: run.startedBy,
    who: `the person who started it (${run.startedBy})`,
  });
  const executing = await executingStep(core, run);
  if (executing && run.mutates) {
    if (!input.force)
      throw new GateRefused(
        'abort',
        `run ${run.id} is running ${executing.action} (step ${executing.index + 1}) right now: an abort would not stop it. Wait for it to finish, or force the abort (\`/dr abort ${run.id} --force <reason>\`, \`lifeboat run abort ${run.id} --force\`): the service stays locked until the action ends and its result is recorded.`,
      );
    requirePermission(
      core.config,
      'force_abort',
      input.actor,
      `force the abort of run ${run.id} while it runs ${executing.action}`,
    );
  }
  const unfence = input.unfence ? await unfenceTarget(core, run) : undefined;
  const now = core.clock().toISOString();
  const outcome = `aborted by ${input.actor.user}${input.reason.trim() ? `: ${input.reason.trim()}` : ''}`;
  await endAborted(core.store, run, {
    outcome,
    actor: input.actor.user,
    reason: input.reason.trim(),
    at: now,
    executing: executing?.action ?? null,
  });
  return {
    runId: run.id,
    message: `run ${run.id} aborted${unfence ? '; lifting the fence of the old primary' : ''}`,
    audit: [
      audited(input.actor, 'run.aborted', run.id, {
        reason: input.reason,
        ...(unfence ? { unfence: unfence.node } : {}),
      }),
    ],
    events: [{ type: 'run.finished', runId: run.id, run: (await getRun(core.store, run.id))! }],
    unfence,
  };
}

/**
 * Ends a run as aborted, with the step it was on: not done (no buttons left in its thread), and
 * the abort in its timeline. A step whose action is still executing (a forced abort) keeps its
 * state until the action's result is recorded.
 */
export async function endAborted(
  db: Sql,
  run: RunRecord,
  how: { outcome: string; actor: string; reason: string; at: string; executing: string | null },
): Promise<void> {
  await updateRun(db, run.id, { status: 'aborted', outcome: how.outcome, finishedAt: how.at });
  const current = (await getSteps(db, run.id))[run.currentStep];
  if (current?.state === 'active')
    await updateStep(db, run.id, run.currentStep, {
      state: 'aborted',
      waitingOn: null,
      finishedAt: how.at,
      summary: `not done: ${how.outcome}`,
    });
  await recordStepEvent(db, {
    runId: run.id,
    stepIndex: run.currentStep,
    event: 'run.aborted',
    actor: how.actor,
    at: how.at,
    details: { reason: how.reason, ...(how.executing ? { executing: how.executing } : {}) },
  });
}

/** The step of the run whose action is executing right now, if any. */
async function executingStep(core: EngineCore, run: RunRecord) {
  const records = await getSteps(core.store, run.id);
  return (
    allSteps(await core.runner.runbookOf(run.id)).find(
      (step) => records[step.index]?.state === 'executing',
    ) ?? null
  );
}

/**
 * What stopping with "unfence" would undo: the fence this run put up. Refused once a promotion
 * may have happened — lifting the fence then could leave two writable primaries.
 */
async function unfenceTarget(
  core: EngineCore,
  run: RunRecord,
): Promise<NonNullable<Change['unfence']>> {
  const steps = allSteps(await core.runner.runbookOf(run.id));
  const records = await getSteps(core.store, run.id);
  const promotion = steps.find(
    (step) =>
      step.action !== null &&
      PROMOTING_ACTIONS.has(step.action) &&
      (records[step.index]?.state === 'executing' || records[step.index]?.state === 'done'),
  );
  if (promotion)
    throw new GateRefused(
      'fence',
      `step ${promotion.index + 1} (${promotion.text}) has promoted, or may have promoted, the replica: lifting the fence of the old primary now could leave two writable primaries, so it stays fenced. Abort without unfencing, or rebuild the old primary as a replica.`,
    );
  const fenced = [...steps]
    .reverse()
    .find(
      (step) =>
        step.action === 'db.fence' &&
        records[step.index]?.state === 'done' &&
        (records[step.index]?.details.outcome as { state?: string } | undefined)?.state ===
          'fenced',
    );
  if (!fenced) throw new UsageError(`run ${run.id} fenced nothing: there is nothing to unfence`);
  const outcome = records[fenced.index]!.details.outcome as { node: NodeName; saved?: unknown };
  return {
    stepIndex: fenced.index,
    node: outcome.node,
    saved: (outcome.saved as Record<string, unknown> | undefined) ?? {},
  };
}
