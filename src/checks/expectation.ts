// What a service can expect of its strategy, from what the store remembers: its last runs, its
// latest backup check, restore test and lag check (no database is asked: a report reads, it never
// probes). /dr status measures the lag live instead; this is for reports.

import type { Service } from '../config.js';
import { expectRecovery, recoveryFactsFrom, type Expectation } from '../strategy.js';
import type { Sql } from '../store/db.js';
import { lastRunOfEachKind } from '../store/runs.js';
import { latestResults } from './results.js';

export async function storedExpectation(
  db: Sql,
  service: Service,
  now: Date,
): Promise<Expectation> {
  const [runs, [backups], [restore], [lag]] = await Promise.all([
    lastRunOfEachKind(db, [service.name]),
    latestResults(db, 'backups', [service.name]),
    latestResults(db, 'restore', [service.name]),
    latestResults(db, 'lag', [service.name]),
  ]);
  const lagSeconds = lag?.details?.lagSeconds;
  return expectRecovery(
    service.strategy,
    service,
    recoveryFactsFrom({
      lastRuns: runs,
      backups: backups ?? null,
      restore: restore ?? null,
      lagSeconds: typeof lagSeconds === 'number' ? lagSeconds : null,
      now,
    }),
  );
}
