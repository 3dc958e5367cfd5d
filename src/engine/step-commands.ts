// What people do to the current step: done, skip (with a reason), note, retry after a failure.

import { GateRefused, UsageError } from '../errors.js';
import { approvalsFor, setApprovalStatus } from '../store/approvals.js';
import { isInFlight, updateRun } from '../store/runs.js';
import { requirePermission, requireStepPermission } from './permissions.js';
import { getStep, updateStep } from '../store/steps.js';
import {
  audited,
  currentStep,
  runOrThrow,
  type Change,
  type EngineCore,
  type CompleteStepInput,
  type StepReasonInput,
  type NoteInput,
  type StepInput,
} from './core.js';
import type { EngineEvent } from './events.js';

export async function completeStepChange(
  core: EngineCore,
  input: CompleteStepInput,
): Promise<Change> {
  const { run, step } = await currentStep(core, input.runId, input.stepIndex);
  requireStepPermission(core.config, run, step, input.actor, 'complete');
  if (
    step.approval === 'two-person' &&
    run.kind !== 'tabletop' &&
    !(await core.runner.validApproval(
      run,
      step.index,
      await core.runner.approvalBinding(run, step),
    ))
  ) {
    throw new GateRefused(
      'two-person',
      `step ${step.index + 1} needs a second person's approval before it is done: approve the request in the thread first (the requester cannot approve it)`,
    );
  }
  if (!(await core.runner.isManual(run, step))) {
    throw new UsageError(
      `step ${step.index + 1} runs ${step.action}: it finishes when the action does (retry or skip it instead)`,
    );
  }
  const events: EngineEvent[] = [];
  await core.runner.finishStep(
    run,
    step,
    {
      state: 'done',
      actor: input.actor.user,
      summary: input.note ?? 'done',
      event: 'done',
      eventDetails: { note: input.note ?? null },
    },
    events,
  );
  return {
    runId: run.id,
    message: `step ${step.index + 1} done`,
    audit: [audited(input.actor, 'step.done', run.id, { step: step.index })],
    events,
    drive: true,
  };
}

export async function skipStepChange(core: EngineCore, input: StepReasonInput): Promise<Change> {
  if (!input.reason.trim())
    throw new UsageError('skipping a step needs a reason (it goes into the report)');
  const { run, step } = await currentStep(core, input.runId, input.stepIndex);
  requireStepPermission(core.config, run, step, input.actor, 'skip');
  const now = core.clock().toISOString();
  for (const approval of await approvalsFor(core.store, run.id, step.index)) {
    if (approval.status === 'pending')
      await setApprovalStatus(core.store, approval.id, 'expired', now, 'step skipped');
  }
  const events: EngineEvent[] = [];
  await core.runner.finishStep(
    run,
    step,
    {
      state: 'skipped',
      actor: input.actor.user,
      summary: `skipped by ${input.actor.user}: ${input.reason.trim()}`,
      event: 'skipped',
      eventDetails: { reason: input.reason },
    },
    events,
  );
  return {
    runId: run.id,
    message: `step ${step.index + 1} skipped`,
    audit: [
      audited(input.actor, 'step.skipped', run.id, { step: step.index, reason: input.reason }),
    ],
    events,
    drive: true,
  };
}

export async function addNoteChange(core: EngineCore, input: NoteInput): Promise<Change> {
  if (!input.text.trim()) throw new UsageError('a note needs some text');
  const run = await runOrThrow(core, input.runId);
  if (!isInFlight(run))
    requirePermission(
      core.config,
      'steps',
      input.actor,
      `add a note to run ${run.id}, which has ended`,
      {
        user: run.startedBy,
        who: `the person who started it (${run.startedBy})`,
      },
    );
  const stepIndex = input.stepIndex ?? null;
  await core.store.run(
    'INSERT INTO notes (run_id, step_index, author, text, at) VALUES (?, ?, ?, ?, ?)',
    run.id,
    stepIndex,
    input.actor.user,
    input.text.trim(),
    core.clock().toISOString(),
  );
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
}

export async function retryStepChange(core: EngineCore, input: StepInput): Promise<Change> {
  const { run, step } = await currentStep(core, input.runId, input.stepIndex);
  requireStepPermission(core.config, run, step, input.actor, 'retry');
  const record = await getStep(core.store, run.id, step.index);
  const waiting = record?.waitingOn;
  if (waiting !== 'failure' && waiting !== 'rpo-gate' && waiting !== 'fence-gate') {
    throw new UsageError(`step ${step.index + 1} has not failed: there is nothing to retry`);
  }
  await updateStep(core.store, run.id, step.index, { waitingOn: null });
  await updateRun(core.store, run.id, { status: 'running' });
  return {
    runId: run.id,
    message: `retrying step ${step.index + 1}`,
    audit: [audited(input.actor, 'step.retried', run.id, { step: step.index })],
    events: [],
    drive: true,
  };
}
