// One failover, failback or switchover per service at a time; exercises wait for it, and a real
// failover ends any exercise in flight on the same service. A service with two primaries takes no
// new promotion until one side is fenced; a failback or switchover needs a replica to promote.

import { MUTATING_ACTIONS } from '../runbook/action-names.js';
import { allSteps, type Runbook, type RunKind } from '../runbook/model.js';
import type { Sql } from '../store/db.js';
import { currentProtection } from '../store/protection.js';
import { listRunsHoldingLock, type RunRecord } from '../store/runs.js';

export const REAL_KINDS: readonly RunKind[] = ['failover', 'failback', 'switchover'];

/**
 * What a run does decides how it is treated, not what it is called: a failover, failback or
 * switchover, or any run (a DR-test drill) whose runbook fences, promotes, rebuilds or switches
 * DNS, changes infrastructure. A tabletop executes nothing.
 */
export function changesInfrastructure(runbook: Runbook, kind: RunKind): boolean {
  if (kind === 'tabletop') return false;
  return (
    REAL_KINDS.includes(kind) ||
    allSteps(runbook).some((step) => step.action !== null && MUTATING_ACTIONS.has(step.action))
  );
}

/** A run in the store that holds (or held) its service's lock. */
export function isLocking(run: RunRecord): boolean {
  return run.mutates || REAL_KINDS.includes(run.kind);
}

export async function startConflicts(
  db: Sql,
  service: string | null,
  kind: RunKind,
  runbook?: Runbook,
): Promise<{ refusal: string | null; exercisesToAbort: RunRecord[] }> {
  if (service === null) return { refusal: null, exercisesToAbort: [] };
  const mutates = runbook ? changesInfrastructure(runbook, kind) : REAL_KINDS.includes(kind);
  const holding = await listRunsHoldingLock(db, service);
  const inFlight = holding.filter((run) => run.status === 'running' || run.status === 'waiting');
  const real = holding.find(isLocking);
  if (real && real.status === 'aborted') {
    return {
      refusal: `run ${real.id} on ${service} was aborted while an action that changes infrastructure was running, and that action has not ended yet: no ${kind} starts until its result is recorded.`,
      exercisesToAbort: [],
    };
  }
  if (real && mutates) {
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
  const refusal = mutates ? await protectionRefusal(db, service, kind, runbook) : null;
  if (refusal) return { refusal, exercisesToAbort: [] };
  const exercisesToAbort = mutates ? inFlight : [];
  return { refusal: null, exercisesToAbort };
}

async function protectionRefusal(
  db: Sql,
  service: string,
  kind: RunKind,
  runbook: Runbook | undefined,
): Promise<string | null> {
  const protection = await currentProtection(db, service);
  if (protection?.state === 'two-primaries') {
    return `${service} has TWO PRIMARIES since ${protection.startedAt} (${protection.detail}): lifeboat cannot tell which one holds the data you keep, so no ${kind} starts until one side is fenced. Fence the one whose writes you give up (ALTER SYSTEM SET default_transaction_read_only = on and reload, or stop it), then /dr status looks again.`;
  }
  const needsReplica = kind === 'failback' || kind === 'switchover';
  if (needsReplica && protection?.state === 'unprotected' && !rebuildsFirst(runbook)) {
    return `${service} is UNPROTECTED since ${protection.startedAt} (${protection.detail}): no replica follows the writer, so a ${kind} has nothing safe to promote. Rebuild the other database as a replica of the writer first (or use a runbook that starts with db.rebuild-replica and db.verify-replica); /dr status shows when it is protected again.`;
  }
  return null;
}

/** The runbook rebuilds (or verifies) a replica before it promotes one. */
function rebuildsFirst(runbook: Runbook | undefined): boolean {
  if (!runbook) return false;
  for (const step of allSteps(runbook)) {
    if (step.action === 'db.rebuild-replica' || step.action === 'db.verify-replica') return true;
    if (step.action === 'db.promote') return false;
  }
  return false;
}
