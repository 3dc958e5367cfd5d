// Whether a replica follows each service's writer, over time: one row per episode (protected,
// unprotected, two primaries, no writer). A promotion opens an unprotected episode; a verified
// replica closes it; checks record what they see. The open episode says since when.

import type { NodeName } from '../providers/types.js';
import { newestOfEach, type Sql } from './db.js';

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

export async function currentProtection(
  db: Sql,
  service: string,
): Promise<ProtectionEpisode | null> {
  const row = await db.get<EpisodeRow>(
    'SELECT * FROM protection_episodes WHERE service = ? AND ended_at IS NULL ORDER BY id DESC LIMIT 1',
    service,
  );
  return row ? toEpisode(row) : null;
}

/** The open episode of each of `services` that has one (status reads them all at once). */
export async function currentProtections(
  db: Sql,
  services: string[],
): Promise<Map<string, ProtectionEpisode>> {
  const rows = await newestOfEach<EpisodeRow>(db, {
    table: 'protection_episodes',
    fields: 'protection_episodes.*',
    keys: ['service'],
    groups: services.map((service) => [service]),
    where: 'ended_at IS NULL',
    newest: 'id DESC',
  });
  return new Map(rows.map((row) => [row.service, toEpisode(row)]));
}

/** How often an episode that goes on unchanged has its detail and checked_at written again. */
export const PROTECTION_REFRESH_MS = 60_000;

/**
 * Records what was seen. The same state and writer as the open episode only refreshes it — at most
 * once a minute: most looks (every `/dr status`) see what the last one saw, and answer from a read
 * instead of a durable write that every other request would wait behind. Anything else ends the
 * episode and opens a new one at once. Returns the open episode and whether it changed.
 */
export async function recordProtection(
  db: Sql,
  seen: {
    service: string;
    state: ProtectionState;
    writer: NodeName | null;
    detail: string;
    at: Date;
    runId?: string | null;
  },
  /** The open episode, when the caller has just read it (currentProtections). */
  known?: ProtectionEpisode | null,
): Promise<{ episode: ProtectionEpisode; changed: boolean }> {
  const at = seen.at.toISOString();
  const goesOn = (current: ProtectionEpisode) =>
    current.state === seen.state && current.writer === seen.writer;
  known = known === undefined ? await currentProtection(db, seen.service) : known;
  if (
    known &&
    goesOn(known) &&
    seen.at.getTime() - Date.parse(known.checkedAt) < PROTECTION_REFRESH_MS
  )
    return { episode: { ...known, detail: seen.detail }, changed: false };
  return db.transaction(async () => {
    const current = await currentProtection(db, seen.service);
    if (current && goesOn(current)) {
      await db.run(
        'UPDATE protection_episodes SET detail = ?, checked_at = ? WHERE id = ?',
        seen.detail,
        at,
        current.id,
      );
      return { episode: { ...current, detail: seen.detail, checkedAt: at }, changed: false };
    }
    if (current)
      await db.run('UPDATE protection_episodes SET ended_at = ? WHERE id = ?', at, current.id);
    const row = await db.get<EpisodeRow>(
      `INSERT INTO protection_episodes (service, state, writer, detail, started_at, run_id, checked_at)
       VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING *`,
      seen.service,
      seen.state,
      seen.writer,
      seen.detail,
      at,
      seen.runId ?? null,
      at,
    );
    return { episode: toEpisode(row!), changed: true };
  });
}

/**
 * How long the service was left without a replica after this run's promotion: from the promotion
 * to the moment a replica was verified (or to `now`, still going).
 */
export async function unprotectedAfter(
  db: Sql,
  runId: string,
  now: Date,
): Promise<{ seconds: number; ongoing: boolean; since: string } | null> {
  const row = await db.get<EpisodeRow>(
    "SELECT * FROM protection_episodes WHERE run_id = ? AND state = 'unprotected' ORDER BY id LIMIT 1",
    runId,
  );
  if (!row) return null;
  const start = Date.parse(row.started_at);
  // The episode may have been followed by others that were still unprotected in effect (two
  // primaries, no writer): it ends only when a later episode is "protected".
  const protectedRow = await db.get<{ started_at: string }>(
    "SELECT started_at FROM protection_episodes WHERE service = ? AND id > ? AND state = 'protected' ORDER BY id LIMIT 1",
    row.service,
    row.id,
  );
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
