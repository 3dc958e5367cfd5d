// The four DR strategies of the seed, and what a service can expect of its own: the RTO and RPO
// its last drills, restore tests, backups and replication show — measured, never the textbook
// figure — against its objectives, and the gaps where the strategy cannot meet them ("cannot meet
// RPO 1m: a backup every 6h"). Pure: the facts are read by the caller.

import { formatDuration } from './duration.js';

export const STRATEGIES = [
  'backup-restore',
  'pilot-light',
  'warm-standby',
  'active-active',
] as const;
export type Strategy = (typeof STRATEGIES)[number];

/** How the seed describes each: what it costs, what it recovers in (typical RTO / RPO). */
export const STRATEGY_NAMES: Record<Strategy, string> = {
  'backup-restore': 'backup and restore',
  'pilot-light': 'pilot light',
  'warm-standby': 'warm standby',
  'active-active': 'multi-site active-active',
};

export interface RecoveryFacts {
  /** The latest successful recovery run (failover, drill, switchover) with its achieved RTO. */
  lastRecovery: { kind: string; rtoSeconds: number; finishedAt: string } | null;
  /** The replica's lag as last measured; null when not known. */
  lagSeconds: number | null;
  /** Time between the two newest backups; null with fewer than two. */
  backupIntervalSeconds: number | null;
  /** The newest backup's age now; null without backups. */
  newestBackupAgeSeconds: number | null;
  /** The last passing restore test: download and pg_restore, seconds. */
  lastRestore: { seconds: number; at: string } | null;
}

export interface Expected {
  /** Null: not measured yet. */
  seconds: number | null;
  /** Where the figure comes from, or why there is none. */
  basis: string;
}

export interface Expectation {
  strategy: Strategy;
  rto: Expected;
  rpo: Expected;
  /** Where the strategy, as measured, cannot meet an objective. */
  gaps: string[];
}

export function expectRecovery(
  strategy: Strategy,
  objectives: { rtoSeconds: number; rpoSeconds: number },
  facts: RecoveryFacts,
): Expectation {
  const rto = expectedRto(strategy, facts);
  const rpo = expectedRpo(strategy, facts);
  const gaps: string[] = [];
  if (rto.seconds !== null && rto.seconds > objectives.rtoSeconds)
    gaps.push(`cannot meet RTO ${formatDuration(objectives.rtoSeconds)}: ${rto.basis}`);
  if (rpo.seconds !== null && rpo.seconds > objectives.rpoSeconds)
    gaps.push(`cannot meet RPO ${formatDuration(objectives.rpoSeconds)}: ${rpo.basis}`);
  return { strategy, rto, rpo, gaps };
}

function expectedRto(strategy: Strategy, facts: RecoveryFacts): Expected {
  if (strategy === 'backup-restore') {
    // Recovery is a restore: the last restore test timed one, download included.
    return facts.lastRestore
      ? {
          seconds: facts.lastRestore.seconds,
          basis: `the last restore test took ${formatDuration(facts.lastRestore.seconds)} (${facts.lastRestore.at.slice(0, 10)}), before DNS and the application`,
        }
      : { seconds: null, basis: 'not measured: no restore test has passed yet' };
  }
  return facts.lastRecovery
    ? {
        seconds: facts.lastRecovery.rtoSeconds,
        basis: `the last ${facts.lastRecovery.kind} took ${formatDuration(facts.lastRecovery.rtoSeconds)} (${facts.lastRecovery.finishedAt.slice(0, 10)})`,
      }
    : { seconds: null, basis: 'not measured: no failover, drill or switchover has succeeded yet' };
}

function expectedRpo(strategy: Strategy, facts: RecoveryFacts): Expected {
  if (strategy === 'backup-restore') {
    // What a restore loses is what was written since the newest backup: at worst, the interval.
    const worst = Math.max(facts.backupIntervalSeconds ?? 0, facts.newestBackupAgeSeconds ?? 0);
    if (facts.newestBackupAgeSeconds === null)
      return { seconds: null, basis: 'not measured: no backup checked yet' };
    return {
      seconds: worst,
      basis:
        facts.backupIntervalSeconds !== null &&
        facts.backupIntervalSeconds >= facts.newestBackupAgeSeconds
          ? `a backup every ${formatDuration(facts.backupIntervalSeconds)}`
          : `the newest backup is ${formatDuration(facts.newestBackupAgeSeconds)} old`,
    };
  }
  return facts.lagSeconds !== null
    ? {
        seconds: facts.lagSeconds,
        basis: `the replica is ${formatDuration(facts.lagSeconds)} behind`,
      }
    : { seconds: null, basis: 'not measured: the replica lag is unknown' };
}

/** "expected RTO 4m 10s (the last drill took …), RPO 3s (…)". */
export function describeExpectation(expectation: Expectation): string {
  const one = (name: string, expected: Expected) =>
    expected.seconds === null
      ? `${name} ${expected.basis}`
      : `${name} ≈ ${formatDuration(expected.seconds)} (${expected.basis})`;
  return `${STRATEGY_NAMES[expectation.strategy]}: expected ${one('RTO', expectation.rto)}; ${one('RPO', expectation.rpo)}`;
}

/** What a recovery run left: enough of a run record to judge it. */
interface FinishedRun {
  kind: string;
  status: string;
  finishedAt: string | null;
  rtoSeconds: number | null;
}

/** The kinds of run that recover the service (and so time its RTO). */
const RECOVERY_KINDS = new Set(['failover', 'drill', 'switchover']);

/**
 * The facts of one service from what the store holds: its last runs of each kind, its latest
 * backup check and restore test results (their recorded details), the lag measured now.
 */
export function recoveryFactsFrom(input: {
  lastRuns: readonly FinishedRun[];
  backups: { details?: Record<string, unknown> } | null;
  restore: { ok: boolean; at: string; details?: Record<string, unknown> } | null;
  lagSeconds: number | null;
  now: Date;
}): RecoveryFacts {
  const recovery = input.lastRuns
    .filter((run) => RECOVERY_KINDS.has(run.kind) && run.finishedAt !== null)
    .sort((a, b) => b.finishedAt!.localeCompare(a.finishedAt!))[0];
  const at = (value: unknown) => (typeof value === 'string' ? Date.parse(value) : NaN);
  const newestAt = at(input.backups?.details?.newestAt);
  const previousAt = at(input.backups?.details?.previousAt);
  const seconds = (value: unknown) => (typeof value === 'number' ? value : 0);
  const restore = input.restore?.ok ? input.restore : null;
  return {
    lastRecovery:
      recovery && recovery.status === 'succeeded' && recovery.rtoSeconds !== null
        ? {
            kind: recovery.kind,
            rtoSeconds: recovery.rtoSeconds,
            finishedAt: recovery.finishedAt!,
          }
        : null,
    lagSeconds: input.lagSeconds,
    backupIntervalSeconds:
      Number.isFinite(newestAt) && Number.isFinite(previousAt)
        ? Math.max(0, (newestAt - previousAt) / 1000)
        : null,
    newestBackupAgeSeconds: Number.isFinite(newestAt)
      ? Math.max(0, (input.now.getTime() - newestAt) / 1000)
      : null,
    lastRestore: restore
      ? {
          seconds:
            seconds(restore.details?.downloadSeconds) + seconds(restore.details?.restoreSeconds),
          at: restore.at,
        }
      : null,
  };
}
