// One failover or failback per service at a time; exercises wait for it, and a real failover ends
// any exercise in flight on the same service.

import type { RunKind } from '../runbook/model.js';
import type { Db } from '../store/db.js';
import { listRunsInFlight, type RunRecord } from '../store/runs.js';

export const REAL_KINDS: readonly RunKind[] = ['failover', 'failback'];

export function startConflicts(
  db: Db,
  service: string | null,
  kind: RunKind,
): { refusal: string | null; exercisesToAbort: RunRecord[] } {
  if (service === null) return { refusal: null, exercisesToAbort: [] };
  const inFlight = listRunsInFlight(db, service);
  const real = inFlight.find((run) => REAL_KINDS.includes(run.kind));
  if (real && REAL_KINDS.includes(kind)) {
    return {
      refusal: `a ${real.kind} of ${service} is already in flight: run ${real.id}, started by ${real.startedBy} at ${real.startedAt}. Finish or abort it first.`,
      exercisesToAbort: [],
    };
  }
  if (real) {
    return {
      refusal: `${service} has a ${real.kind} in flight (run ${real.id}): a ${kind} cannot start until it is finished.`,
      exercisesToAbort: [],
    };
  }
  const exercisesToAbort = REAL_KINDS.includes(kind) ? inFlight : [];
  return { refusal: null, exercisesToAbort };
}
