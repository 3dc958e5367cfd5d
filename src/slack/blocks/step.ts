// One message per step in the run's thread: what to do (or what the action will do), then what
// happened, with the buttons that fit the step's state.

import { PROMOTING_ACTIONS } from '../../runbook/action-names.js';
import { isInFlight } from '../../store/runs.js';
import type { RunView, StepView } from '../../engine/run-view.js';
import { ActionId } from '../ids.js';
import {
  actions,
  button,
  clip,
  context,
  escape,
  mention,
  outcomeText,
  section,
  type Block,
} from './kit.js';

export function renderStep(
  view: RunView,
  step: StepView,
  plan: string | null,
  progress: string | null = null,
): Block[] {
  const total = view.steps.length;
  const tags = [
    step.checklist ? 'checklist' : '',
    step.action ? `\`${step.action}\`` : '',
    step.approval ? 'two-person approval' : '',
  ].filter(Boolean);
  const blocks: Block[] = [
    section(
      `*Step ${step.index + 1}/${total}* · ${clip(step.text, 1000)}${tags.length ? `\n${tags.join(' · ')}` : ''}`,
    ),
  ];
  if (plan)
    blocks.push(context(`${view.run.kind === 'tabletop' ? 'Would run' : 'Plan'}: ${escape(plan)}`));
  if (step.details) blocks.push(section('```' + clip(step.details, 2800) + '```'));
  const instructions = step.result.instructions;
  if (typeof instructions === 'string' && step.state === 'active')
    blocks.push(section('```' + clip(instructions, 2800) + '```'));
  if (progress && step.state === 'executing')
    blocks.push(context(`:hourglass_flowing_sand: ${escape(progress)}`));
  blocks.push(...stateBlocks(view, step));
  return blocks;
}

/**
 * The run put a fence up and has not promoted: stopping it may lift the fence (the old primary
 * takes writes again). After a promotion started, never.
 */
export function canStopAndUnfence(view: RunView): boolean {
  const fenced = view.steps.some(
    (step) =>
      step.action === 'db.fence' &&
      step.state === 'done' &&
      (step.result.outcome as { state?: string } | undefined)?.state === 'fenced',
  );
  const promoting = view.steps.some(
    (step) =>
      step.action !== null &&
      PROMOTING_ACTIONS.has(step.action) &&
      (step.state === 'executing' || step.state === 'done'),
  );
  return fenced && !promoting;
}

function stateBlocks(view: RunView, step: StepView): Block[] {
  const value = `${view.run.id}:${step.index}`;
  const inFlight = isInFlight(view.run);
  if (step.state === 'done')
    return [
      context(
        `:white_check_mark: ${step.actor && step.actor !== 'lifeboat' ? `${mention(step.actor)}: ` : ''}${escape(step.summary ?? 'done')}${duration(step)}`,
      ),
    ];
  if (step.state === 'skipped')
    return [context(`:fast_forward: ${escape(step.summary ?? 'skipped')}`)];
  if (step.state === 'aborted')
    return [
      context(`:no_entry: not done: ${outcomeText(view.run.outcome ?? 'the run was aborted')}`),
    ];
  if (step.state === 'executing') return [context(':hourglass_flowing_sand: running…')];
  if (!inFlight || step.state !== 'active') return [];
  if (step.waitingOn === 'operator') {
    return [
      actions(
        button('Done', ActionId.stepDone, value, 'primary'),
        button('Skip…', ActionId.stepSkip, value),
        button('Add note…', ActionId.stepNote, value),
      ),
    ];
  }
  if (step.waitingOn === 'failure') {
    return [
      section(`:x: ${escape(step.summary ?? 'failed')}`),
      actions(
        button('Retry', ActionId.stepRetry, value, 'primary'),
        button('Skip…', ActionId.stepSkip, value),
        ...(canStopAndUnfence(view)
          ? [button('Stop and unfence…', ActionId.stopUnfence, view.run.id, 'danger')]
          : []),
      ),
    ];
  }
  if (step.waitingOn === 'fence-gate') {
    return [
      section(
        `:no_entry: ${escape(step.summary ?? 'blocked: the old primary still accepts writes')}`,
      ),
      actions(
        button('Retry', ActionId.stepRetry, value),
        button('Promote unfenced…', ActionId.fenceOverride, value, 'danger'),
        button('Skip…', ActionId.stepSkip, value),
      ),
    ];
  }
  if (step.waitingOn === 'rpo-gate') {
    return [
      section(`:no_entry: ${escape(step.summary ?? 'blocked by the RPO gate')}`),
      actions(
        button('Retry', ActionId.stepRetry, value),
        button('Override…', ActionId.gateOverride, value, 'danger'),
        button('Skip…', ActionId.stepSkip, value),
      ),
    ];
  }
  if (step.waitingOn === 'approval')
    return [context(':lock: waiting for approval (see the request below)')];
  return [];
}

/** How long the step took; a gated step says apart how long it waited for its approval. */
export function duration(step: StepView): string {
  if (!step.startedAt || !step.finishedAt) return '';
  const seconds = (from: string, to: string) =>
    Math.max(0, Math.round((Date.parse(to) - Date.parse(from)) / 1000));
  const approved = step.approvals
    .filter((approval) => approval.status === 'approved' && approval.decidedAt)
    .map((approval) => approval.decidedAt!)
    .sort()
    .at(-1);
  if (!approved) return ` (${seconds(step.startedAt, step.finishedAt)}s)`;
  return ` (waited ${seconds(step.startedAt, approved)}s for approval, then took ${seconds(approved, step.finishedAt)}s)`;
}
