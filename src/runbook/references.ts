// Checks between runbooks and the config: names that must point at something that exists, and
// runbooks nobody has reviewed for too long. Pure: callers load both.

import path from 'node:path';
import { UsageError } from '../errors.js';
import type { Config } from '../config.js';
import { allSteps, type Runbook } from './model.js';
import { CUSTOM_ACTIONS, CUSTOM_KIND_NAMES } from './action-names.js';

export const STALE_AFTER_DAYS = 180;

/** `file:line: message` lines for every reference that points nowhere. */
export function checkRunbookReferences(
  config: Config,
  library: Runbook[],
  extra: Runbook[] = [],
): string[] {
  const problems: string[] = [];
  const services = Object.keys(config.services);
  const byName = new Map(library.map((runbook) => [runbook.name, runbook]));
  const known = [...byName.keys()].join(', ') || 'none';
  const configFile = path.basename(config.file);

  for (const runbook of [...library, ...extra]) {
    problems.push(...customActionProblems(config, runbook));
    if (runbook.service !== null && !services.includes(runbook.service)) {
      problems.push(
        `${runbook.file}:${runbook.serviceLine ?? 1}: service "${runbook.service}" is not configured in ${configFile} (known: ${services.join(', ') || 'none'})`,
      );
    }
  }
  for (const service of Object.values(config.services)) {
    for (const [kind, name] of Object.entries(service.runbooks)) {
      const keyPath = `${configFile}: services.${service.name}.runbooks.${kind}`;
      const runbook = byName.get(name);
      if (!runbook) {
        problems.push(
          `${keyPath}: no runbook "${name}" in ${config.runbooksDir} (known: ${known})`,
        );
      } else if ((kind === 'failover' || kind === 'failback') && runbook.kind !== kind) {
        problems.push(
          `${keyPath}: runbook "${name}" is a ${runbook.kind} (kind: in its front matter), not a ${kind}`,
        );
      }
    }
  }
  config.schedules.forEach((schedule, i) => {
    if (schedule.remind !== null && !byName.has(schedule.remind)) {
      problems.push(
        `${configFile}: schedules[${i}].remind: no runbook "${schedule.remind}" (known: ${known})`,
      );
    }
  });
  return problems;
}

/**
 * Why `action: KIND NAME` names nothing these definitions hold as that kind, or null when it is
 * bound: what `runbooks check`, the run start and the action itself say.
 */
export function unboundReason(
  actions: Config['actions'],
  kind: keyof typeof CUSTOM_KIND_NAMES,
  name: string,
  configFile = 'lifeboat.yml',
): string | null {
  const definition = actions[name];
  if (definition?.kind === kind) return null;
  if (definition)
    return `actions.${name} in ${configFile} is ${CUSTOM_KIND_NAMES[definition.kind].a}: write "action: ${definition.kind} ${name}"`;
  const known = Object.values(actions)
    .filter((each) => each.kind === kind)
    .map((each) => each.name);
  return `"action: ${kind} ${name}" names no ${CUSTOM_KIND_NAMES[kind].noun} in ${configFile} actions: (known: ${known.join(', ') || 'none'})`;
}

/** `file:line: …` for each step naming a custom action lifeboat.yml does not define as that kind. */
export function customActionProblems(config: Config, runbook: Runbook): string[] {
  const configFile = path.basename(config.file);
  return allSteps(runbook).flatMap((step) => {
    if (step.action === null || !CUSTOM_ACTIONS.has(step.action)) return [];
    const kind = step.action as keyof typeof CUSTOM_KIND_NAMES;
    const reason = unboundReason(config.actions, kind, step.actionArgument ?? '', configFile);
    return reason ? [`${runbook.file}:${step.line}: ${reason}`] : [];
  });
}

/**
 * The runbook as a run of it is stored: every custom step checked against lifeboat.yml, and its
 * approval what the config says (two-person unless `approval: none` there). Throws on a step that
 * names nothing, before anything starts.
 */
export function bindCustomActions(config: Config, runbook: Runbook): Runbook {
  const problems = customActionProblems(config, runbook);
  if (problems.length) throw new UsageError(problems.join('\n'));
  if (!allSteps(runbook).some((step) => step.action !== null && CUSTOM_ACTIONS.has(step.action)))
    return runbook;
  return {
    ...runbook,
    phases: runbook.phases.map((phase) => ({
      ...phase,
      steps: phase.steps.map((step) =>
        step.action !== null &&
        CUSTOM_ACTIONS.has(step.action) &&
        config.actions[step.actionArgument ?? '']?.approval === 'none'
          ? { ...step, approval: null }
          : step,
      ),
    })),
  };
}

/** Not reviewed within STALE_AFTER_DAYS of `now`, or never. */
export function isStale(runbook: Runbook, now: Date, afterDays = STALE_AFTER_DAYS): boolean {
  if (runbook.reviewed === null) return true;
  const ageMs = now.getTime() - Date.parse(`${runbook.reviewed}T00:00:00Z`);
  return ageMs > afterDays * 86_400_000;
}
