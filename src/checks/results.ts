// What every check leaves behind: one row per result (service, ok, summary, the state alerts
// compare, details), and the newest of each service read back by one index seek each.

import { newestOfEach, type Sql } from '../store/db.js';

export interface CheckResult {
  check: string;
  service: string;
  ok: boolean;
  summary: string;
  /** What is wrong without the numbers that change every check ("stale", "shrunk"): alerts compare this. */
  state: string;
  at: string;
  /** What the check recorded beside its summary (read back by latestResults). */
  details?: Record<string, unknown>;
}

/** Stores one check's result (what /dr status, the alerts and the history read). */
export async function recordCheckResult(
  db: Sql,
  check: 'backups' | 'restore' | 'lag' | 'plan' | 'backup-take' | 'pitr' | 'snapshots',
  result: Pick<CheckResult, 'service' | 'ok' | 'summary' | 'at'>,
  details: Record<string, unknown>,
): Promise<void> {
  await db.run(
    'INSERT INTO check_results (check_name, service, ok, summary, details, at) VALUES (?, ?, ?, ?, ?, ?)',
    check,
    result.service,
    result.ok ? 1 : 0,
    result.summary,
    JSON.stringify(details),
    result.at,
  );
}

/**
 * The newest result of `check` for each of `services` that has one, in their order: one index
 * seek per service (check_results_newest), however many results years of checks have left.
 */
export async function latestResults(
  db: Sql,
  check: string,
  services: readonly string[],
): Promise<CheckResult[]> {
  const rows = await newestOfEach<{
    check_name: string;
    service: string;
    ok: number;
    summary: string;
    details: string;
    at: string;
  }>(db, {
    table: 'check_results',
    fields: 'check_name, service, ok, summary, details, at',
    keys: ['check_name', 'service'],
    groups: services.map((service) => [check, service]),
    newest: 'id DESC',
  });
  return rows.map((row) => {
    const details = JSON.parse(row.details) as Record<string, unknown> & { state?: string };
    return {
      check: row.check_name,
      service: row.service,
      ok: row.ok === 1,
      summary: row.summary,
      state: details.state ?? (row.ok === 1 ? 'ok' : 'failing'),
      at: row.at,
      details,
    };
  });
}
