// Who may do what, in one place, in the engine: the config's lists (Slack user IDs and user group
// IDs) against the person as the adapter knows them — their ID, and the groups it confirmed them
// in. No check lives only in the UI: Slack, the CLI and the console all come through here.

import type { Config, Permission } from '../config.js';
import { GateRefused } from '../errors.js';
import type { Actor } from './core.js';

/** `*` is anyone; else the person by ID, or a configured group the adapter confirmed them in. */
export function isListed(list: readonly string[], actor: Actor): boolean {
  if (list.includes('*')) return true;
  return list.includes(actor.user) || (actor.groups ?? []).some((group) => list.includes(group));
}

/**
 * Refuses (GateRefused, audited by the engine) unless `actor` is in the permission's list, or is
 * `also.user` (the requester of the run, for what they may always do to their own run).
 */
export function requirePermission(
  config: Config,
  permission: Permission,
  actor: Actor,
  what: string,
  also?: { user: string; who: string },
): void {
  if (also && actor.user === also.user) return;
  const list = config.permissions[permission];
  if (isListed(list, actor)) return;
  const listed = `permissions.${permission} (${list.join(', ') || 'nobody'})`;
  throw new GateRefused(
    'permission',
    `${actor.user} may not ${what}: only ${also ? `${also.who} or ` : ''}${listed} may`,
  );
}

/**
 * Acting on a step: a step behind two-person approval is skipped, retried or overridden only by
 * permissions.gated_steps; the steps of a run that changes infrastructure are worked by its
 * requester or permissions.steps; a drill or tabletop that changes nothing, by anyone in the
 * channel.
 */
export function requireStepPermission(
  config: Config,
  run: { id: string; kind: string; mutates: boolean; startedBy: string },
  step: { index: number; approval: string | null },
  actor: Actor,
  verb: 'complete' | 'skip' | 'retry' | 'override the gate of',
): void {
  const what = `${verb} step ${step.index + 1} of run ${run.id}`;
  const gated = step.approval === 'two-person' && run.kind !== 'tabletop';
  if (gated && verb !== 'complete') {
    requirePermission(config, 'gated_steps', actor, `${what} (it is behind two-person approval)`);
    return;
  }
  if (!run.mutates) return;
  requirePermission(config, 'steps', actor, `${what} (the run changes infrastructure)`, {
    user: run.startedBy,
    who: `the person who started it (${run.startedBy})`,
  });
}
