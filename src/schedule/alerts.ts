// Alerting without noise: a failing check is posted once, again when what fails changes, again
// as a daily reminder while it lasts; its recovery is posted once. Never once per cron tick.

import type { Sql } from '../store/db.js';

export const REMIND_EVERY_MS = 24 * 3_600_000;

export type AlertDecision = 'failure' | 'changed' | 'still-failing' | 'recovered' | null;

interface AlertState {
  failing: boolean;
  /** What was wrong, without changing numbers: "stale", "shrunk", "over RPO". */
  state: string;
  postedAt: string;
}

/** Pure: what to post for a result, given what was posted before; reminders every `repeatMs`. */
export function decideAlert(
  previous: AlertState | null,
  result: { ok: boolean; state: string },
  now: Date,
  repeatMs = REMIND_EVERY_MS,
): AlertDecision {
  if (result.ok) return previous?.failing ? 'recovered' : null;
  if (!previous || !previous.failing) return 'failure';
  if (previous.state !== result.state) return 'changed';
  return now.getTime() - Date.parse(previous.postedAt) >= repeatMs ? 'still-failing' : null;
}

/** Decides, and records what will be posted, in one transaction. */
export function nextAlert(
  db: Sql,
  check: string,
  service: string,
  result: { ok: boolean; state: string },
  now: Date,
  repeatMs = REMIND_EVERY_MS,
): Promise<AlertDecision> {
  return db.transaction(async () => {
    const row = await db.get<{ failing: number; summary: string; posted_at: string }>(
      'SELECT failing, summary, posted_at FROM check_alerts WHERE check_name = ? AND service = ?',
      check,
      service,
    );
    const previous = row
      ? { failing: row.failing === 1, state: row.summary, postedAt: row.posted_at }
      : null;
    const decision = decideAlert(previous, result, now, repeatMs);
    if (decision !== null || !previous) {
      await db.run(
        `INSERT INTO check_alerts (check_name, service, failing, summary, posted_at) VALUES (?, ?, ?, ?, ?)
           ON CONFLICT (check_name, service) DO UPDATE SET failing = excluded.failing, summary = excluded.summary, posted_at = excluded.posted_at`,
        check,
        service,
        result.ok ? 0 : 1,
        result.state,
        now.toISOString(),
      );
    }
    return decision;
  });
}
