// When recovery should be done, from the phase budgets: what is left of the current phase's
// budget, plus every later budgeted phase. Phases without a budget (pre-flight, after-action) are
// outside the RTO and do not count; a budgeted phase already over its budget adds nothing more —
// and the ETA then says it is late, not a time that has passed.

import type { RunView } from './run-view.js';

export interface Eta {
  at: Date | null;
  /** Why there is no ETA, or that the run is behind its budgets. */
  note: string | null;
}

export function etaOf(view: RunView, now: Date): Eta {
  const current = view.current;
  if (!current) return { at: null, note: 'the run has ended' };
  const budgeted = view.phases.filter((phase) => phase.budgetMinutes !== null);
  if (!budgeted.length) return { at: null, note: 'no phase of the runbook has a time budget' };
  let remainingSeconds = 0;
  let late = false;
  for (const phase of budgeted) {
    if (phase.index < current.phaseIndex) continue;
    const budget = (phase.budgetMinutes ?? 0) * 60;
    if (phase.index === current.phaseIndex) {
      const spent = phase.elapsedSeconds ?? 0;
      if (spent > budget) late = true;
      remainingSeconds += Math.max(0, budget - spent);
    } else remainingSeconds += budget;
  }
  const at = new Date(now.getTime() + remainingSeconds * 1000);
  return { at, note: late ? 'the current phase is over its budget' : null };
}
