// Decisions on approval requests (the two-person rule lives in approval.ts), asking again after
// expiry, and the RPO-gate override that itself needs a second person.

import { GateRefused, NotFound, UsageError } from '../errors.js';
import { requirePermission } from './permissions.js';
import { allSteps } from '../runbook/model.js';
import {
  addVote,
  approvalsFor,
  getApproval,
  setApprovalStatus,
  type ApprovalRecord,
} from '../store/approvals.js';
import { getRun, isInFlight, type RunRecord } from '../store/runs.js';
import { GATE_OVERRIDES, getStep } from '../store/steps.js';
import { endAborted } from './run-commands.js';
import { approveCount, refusalFor } from './approval.js';
import {
  audited,
  currentStep,
  expireIfDue,
  runOrThrow,
  type Actor,
  type Change,
  type EngineCore,
  type ApprovalDecisionInput,
  type RunInput,
  type StepReasonInput,
} from './core.js';

export async function decideApprovalChange(
  core: EngineCore,
  input: ApprovalDecisionInput,
): Promise<Change> {
  const approval = await getApproval(core.store, input.approvalId);
  if (!approval) throw new NotFound(`no approval request "${input.approvalId}"`);
  const run = await runOrThrow(core, approval.runId);
  if (!isInFlight(run)) {
    throw new GateRefused(
      'two-person',
      `run ${run.id} is ${run.status}: there is nothing left to approve`,
    );
  }
  const refusal = refusalFor({
    approval,
    user: input.actor.user,
    approvals: core.config.approvals,
    isUsergroupMember:
      core.config.approvals.usergroup !== null &&
      (input.actor.groups ?? []).includes(core.config.approvals.usergroup),
    now: core.clock(),
  });
  if (refusal) throw new GateRefused(approval.gate, refusal);
  const sameAccount = sameOsAccount(run, approval, input.actor);
  if (sameAccount) throw new GateRefused(approval.gate, sameAccount);
  const now = core.clock().toISOString();
  const counted = await addVote(core.store, approval.id, {
    approver: input.actor.user,
    decision: input.decision,
    at: now,
    via: input.actor.via ?? null,
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
    await setApprovalStatus(core.store, approval.id, 'denied', now, input.reason);
    await endAborted(core.store, run, {
      outcome,
      actor: input.actor.user,
      reason: input.reason ?? 'denied',
      at: now,
      executing: null,
    });
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
          approval: (await getApproval(core.store, approval.id))!,
          by: input.actor.user,
          decision: 'deny',
        },
        { type: 'run.finished', runId: run.id, run: (await getRun(core.store, run.id))! },
      ],
    };
  }
  const approvals = approveCount((await getApproval(core.store, approval.id))!);
  const isApproved = approvals >= approval.required;
  if (isApproved) await setApprovalStatus(core.store, approval.id, 'approved', now);
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
        approval: (await getApproval(core.store, approval.id))!,
        by: input.actor.user,
        decision: 'approve',
      },
    ],
    drive: isApproved,
  };
}

/**
 * Two people are two OS accounts on the break-glass host: an approval from the account that
 * started the run, or from one that already approved this request, is refused whatever Slack ID
 * it maps to. (A signed token is another person's key, not an account here.)
 */
function sameOsAccount(run: RunRecord, approval: ApprovalRecord, actor: Actor): string | null {
  const via = actor.via ?? '';
  if (!via.startsWith('cli:')) return null;
  const account = via.slice('cli:'.length);
  if (run.startedVia === via)
    return `the OS account "${account}" started this run: a second approval must come from another account, or as a token signed by another approver`;
  if (approval.votes.some((vote) => vote.via === via))
    return `the OS account "${account}" already decided this request: a second approval must come from another account`;
  return null;
}

export async function renewApprovalChange(core: EngineCore, input: RunInput): Promise<Change> {
  const run = await runOrThrow(core, input.runId);
  requirePermission(
    core.config,
    'gated_steps',
    input.actor,
    `ask again for approval in run ${run.id}`,
    {
      user: run.startedBy,
      who: `the person who started it (${run.startedBy})`,
    },
  );
  const step = await getStep(core.store, run.id, run.currentStep);
  const pending = (await approvalsFor(core.store, run.id, run.currentStep)).filter(
    (a) => a.status === 'pending',
  );
  for (const approval of pending) await expireIfDue(core, approval.id);
  const stillOpen = (await approvalsFor(core.store, run.id, run.currentStep)).some(
    (a) => a.status === 'pending',
  );
  if (stillOpen || step?.waitingOn !== 'approval') {
    throw new UsageError(`run ${run.id} has no expired approval request to renew`);
  }
  const currentStep = allSteps(await core.runner.runbookOf(run.id))[run.currentStep]!;
  const approval = await core.runner.requestApproval(
    run,
    run.currentStep,
    'two-person',
    run.startedBy,
    core.config.approvals.required,
    null,
    await core.runner.approvalBinding(run, currentStep),
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
}

/**
 * The step is blocked by the RPO gate (lag over the RPO) or the fence gate (the old primary still
 * accepts writes): proceed anyway, with a reason, once a second person approves the override.
 */
export async function overrideGateChange(
  core: EngineCore,
  input: StepReasonInput,
): Promise<Change> {
  if (!input.reason.trim())
    throw new UsageError('an override needs a reason (it goes into the report)');
  const { run, step } = await currentStep(core, input.runId, input.stepIndex);
  requirePermission(
    core.config,
    'gated_steps',
    input.actor,
    `override the gate of step ${step.index + 1} of run ${run.id}`,
  );
  const record = await getStep(core.store, run.id, step.index);
  const blockedBy = record?.waitingOn;
  if (blockedBy !== 'rpo-gate' && blockedBy !== 'fence-gate')
    throw new UsageError(`step ${step.index + 1} is not blocked by the RPO gate or the fence gate`);
  const gate = GATE_OVERRIDES[blockedBy];
  const what =
    blockedBy === 'rpo-gate'
      ? 'override the RPO gate'
      : 'promote UNFENCED (the old primary still accepts writes: two primaries until it is fenced)';
  const approval = await core.runner.requestApproval(
    run,
    step.index,
    gate,
    input.actor.user,
    1,
    input.reason.trim(),
  );
  return {
    runId: run.id,
    message: `${blockedBy === 'rpo-gate' ? 'RPO' : 'fence'} override requested: a second person must approve it`,
    audit: [
      audited(input.actor, `gate.${gate}-requested`, run.id, {
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
        summary: `${what}: ${input.reason.trim()}`,
      },
    ],
  };
}
