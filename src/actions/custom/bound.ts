// What a custom step is bound to: the definition its runbook names, and the run's facts its
// templates are filled with.

import type { CommandAction, CustomAction, HttpAction, LambdaAction } from '../../config.js';
import { ProviderError } from '../../errors.js';
import { clockTimeUtc } from '../../time.js';
import { unboundReason } from '../../runbook/references.js';
import type { TemplateValues } from '../../template.js';
import type { ActionContext, RunStanding } from '../types.js';

/** Stable across every attempt of one step of one run: a retry or a resume after a crash keeps it. */
export function idempotencyKey(context: ActionContext): string {
  return `lifeboat:${context.run.id}:step-${context.step.index + 1}`;
}

/**
 * The run's facts for a template; `standing` (where the run is, read when the action runs) adds
 * {{phase}} and {{eta}} — a plan, shown before, leaves those two as written.
 */
export function templateValues(
  context: ActionContext,
  standing: RunStanding | null = null,
): TemplateValues {
  return {
    'run.id': context.run.id,
    'run.kind': context.run.kind,
    runbook: context.run.runbook,
    service: context.service?.name ?? '',
    step: String(context.step.index + 1),
    attempt: String(context.attempt),
    idempotency_key: idempotencyKey(context),
    ...(standing
      ? {
          phase: `${standing.phaseNumber} of ${standing.phaseCount}: ${standing.phaseTitle}`,
          eta: standing.etaAt
            ? clockTimeUtc(standing.etaAt)
            : `not known (${standing.etaNote ?? 'no budgets'})`,
        }
      : {}),
  };
}

/** Where the run stands, for {{phase}} and {{eta}}; null where that cannot be read. */
export function standingOf(context: ActionContext): Promise<RunStanding | null> {
  return context.standing().catch(() => null);
}

export function definitionOf(context: ActionContext, kind: 'run'): CommandAction;
export function definitionOf(context: ActionContext, kind: 'http'): HttpAction;
export function definitionOf(context: ActionContext, kind: 'lambda'): LambdaAction;
export function definitionOf(context: ActionContext, kind: CustomAction['kind']): CustomAction {
  const name = context.step.actionArgument ?? '';
  const reason = unboundReason(context.custom.actions, kind, name);
  if (reason) throw new ProviderError(`${kind} ${name}`, reason, true);
  return context.custom.actions[name]!;
}

/** The definition, or null when lifeboat.yml no longer has it (changed since the run started). */
export function definedOrNull(context: ActionContext, kind: 'run'): CommandAction | null;
export function definedOrNull(context: ActionContext, kind: 'http'): HttpAction | null;
export function definedOrNull(context: ActionContext, kind: 'lambda'): LambdaAction | null;
export function definedOrNull(
  context: ActionContext,
  kind: CustomAction['kind'],
): CustomAction | null {
  const found = context.custom.actions[context.step.actionArgument ?? ''];
  return found?.kind === kind ? found : null;
}

/** The plan of a step whose definition is gone: running it fails and says why. */
export function unbound(context: ActionContext): string {
  return `${context.step.action} ${context.step.actionArgument ?? ''}: not defined in lifeboat.yml as it is now, so this step will fail until it is.`;
}

/** A variable a definition reads from lifeboat's environment, or a clear refusal. */
export function envValue(context: ActionContext, name: string, who: string): string {
  const value = context.custom.env[name];
  if (value === undefined)
    throw new ProviderError(
      who,
      `${name} is not set in lifeboat's environment (lifeboat.yml names it): set it and retry the step`,
      true,
    );
  return value;
}
