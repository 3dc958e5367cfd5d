// Checks between runbooks and the config: names that must point at something that exists, and
// runbooks nobody has reviewed for too long. Pure: callers load both.

import path from 'node:path';
import type { Config } from '../config.js';
import type { Runbook } from './model.js';

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

/** Not reviewed within STALE_AFTER_DAYS of `now`, or never. */
export function isStale(runbook: Runbook, now: Date, afterDays = STALE_AFTER_DAYS): boolean {
  if (runbook.reviewed === null) return true;
  const ageMs = now.getTime() - Date.parse(`${runbook.reviewed}T00:00:00Z`);
  return ageMs > afterDays * 86_400_000;
}
