// Whether a replica follows each service's writer, over time: one row per episode (protected,
// unprotected, two primaries, no writer). A promotion opens an unprotected episode; a verified
// replica closes it; checks record what they see. The open episode says since when.

import type { NodeName } from '../providers/types.js';
import type { Db } from './db.js';

export const PROTECTION_STATES = [
  'protected',
  'unprotected',
  'two-primaries',
  'no-writer',
] as const;
export type ProtectionState = (typeof PROTECTION_STATES)[number];

export interface ProtectionEpisode {
  id: number;
  service: string;
  state: ProtectionState;
  writer: NodeName | null;
  detail: string;
  startedAt: string;
  endedAt: string | null;
  runId: string | null;
  checkedAt: string;
}

interface EpisodeRow {
  id: number;
  service: string;
  state: ProtectionState;
  writer: NodeName | null;
  detail: string;
  started_at: string;
  ended_at: string | null;
  run_id: string | null;
  checked_at: string;
}

export function currentProtection(db: Db, service: string): ProtectionEpisode | null {
  const row = db
    .prepare(
      'SELECT * FROM protection_episodes WHERE service = ? AND ended_at IS NULL ORDER BY id DESC LIMIT 1',
    )
    .get(service) as EpisodeRow | undefined;
  return row ? toEpisode(row) : null;
}

/**
 * Records what was seen. The same state and writer as the open episode only refreshes it; anything
 * else ends it and opens a new one. Returns the open episode and whether it changed.
 */
export function recordProtection(
  db: Db,
  seen: {
    service: string;
    state: ProtectionState;
    writer: NodeName | null;
    detail: string;
    at: Date;
    runId?: string | null;
  },
): { episode: ProtectionEpisode; changed: boolean } {
  const at = seen.at.toISOString();
  const current = currentProtection(db, seen.service);
  if (current && current.state === seen.state && current.writer === seen.writer) {
    db.prepare('UPDATE protection_episodes SET detail = ?, checked_at = ? WHERE id = ?').run(
      seen.detail,
      at,
      current.id,
    );
    return { episode: { ...current, detail: seen.detail, checkedAt: at }, changed: false };
  }
  if (current)
    db.prepare('UPDATE protection_episodes SET ended_at = ? WHERE id = ?').run(at, current.id);
  const { lastInsertRowid } = db
    .prepare(
      `INSERT INTO protection_episodes (service, state, writer, detail, started_at, run_id, checked_at)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
    )
    .run(seen.service, seen.state, seen.writer, seen.detail, at, seen.runId ?? null, at);
  const row = db
    .prepare('SELECT * FROM protection_episodes WHERE id = ?')
    .get(lastInsertRowid) as EpisodeRow;
  return { episode: toEpisode(row), changed: true };
}

/**
 * How long the service was left without a replica after this run's promotion: from the promotion
 * to the moment a replica was verified (or to `now`, still going).
 */
export function unprotectedAfter(
  db: Db,
  runId: string,
  now: Date,
): { seconds: number; ongoing: boolean; since: string } | null {
  const row = db
    .prepare(
      "SELECT * FROM protection_episodes WHERE run_id = ? AND state = 'unprotected' ORDER BY id LIMIT 1",
    )
    .get(runId) as EpisodeRow | undefined;
  if (!row) return null;
  const start = Date.parse(row.started_at);
  // The episode may have been followed by others that were still unprotected in effect (two
  // primaries, no writer): it ends only when a later episode is "protected".
  const protectedRow = db
    .prepare(
      "SELECT started_at FROM protection_episodes WHERE service = ? AND id > ? AND state = 'protected' ORDER BY id LIMIT 1",
    )
    .get(row.service, row.id) as { started_at: string } | undefined;
  const end = protectedRow ? Date.parse(protectedRow.started_at) : now.getTime();
  return { seconds: (end - start) / 1000, ongoing: !protectedRow, since: row.started_at };
}

function toEpisode(row: EpisodeRow): ProtectionEpisode {
  return {
    id: row.id,
    service: row.service,
    state: row.state,
    writer: row.writer,
    detail: row.detail,
    startedAt: row.started_at,
    endedAt: row.ended_at,
    runId: row.run_id,
    checkedAt: row.checked_at,
  };
}
