// Replication lag of a streaming standby. With the primary up, bytes are measured against the
// primary's current WAL position (or the position it was fenced at); with the primary dead — the
// disaster case — from what the replica itself received and replayed, which is only a lower bound:
// WAL the primary never shipped cannot be seen from here.

import { notAReplica, type LagMeasurement } from '../types.js';
import { lsnToBigInt, withClient } from './connect.js';

interface ReplicaState {
  in_recovery: boolean;
  receive_lsn: string | null;
  replay_lsn: string | null;
  replay_age_seconds: number | null;
}

export async function measureLag(
  primary: { url: string; name: string },
  target: { url: string; name: string },
  fencedAt: string | null = null,
): Promise<LagMeasurement> {
  const replica = await withClient(target.url, target.name, async (client) => {
    const { rows } = await client.query<ReplicaState>(`
      SELECT pg_is_in_recovery() AS in_recovery,
             pg_last_wal_receive_lsn()::text AS receive_lsn,
             pg_last_wal_replay_lsn()::text AS replay_lsn,
             EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp())::float8 AS replay_age_seconds`);
    return rows[0] as ReplicaState;
  });
  if (!replica.in_recovery) {
    return notAReplica(`${target.name} is not in recovery: it is already a primary`);
  }
  const primaryState = await withClient(
    primary.url,
    primary.name,
    async (client) =>
      (
        await client.query<{ lsn: string; read_only: string }>(
          "SELECT pg_current_wal_lsn()::text AS lsn, current_setting('default_transaction_read_only') AS read_only",
        )
      ).rows[0] ?? null,
    { connectTimeoutMs: 2000, statementTimeoutMs: 2000 },
  ).catch(() => null);
  // A fenced primary writes no more user data: measured against its fence position the lag is
  // exact. A primary still accepting writes moves on while we look: what we see is a lower bound.
  const primaryLsn = fencedAt ?? primaryState?.lsn ?? null;
  const isExact = fencedAt !== null || primaryState?.read_only === 'on';

  const replayLsn = replica.replay_lsn ? lsnToBigInt(replica.replay_lsn) : null;
  if (primaryState !== null && primaryLsn !== null && replayLsn !== null) {
    const bytes = Number(lsnToBigInt(primaryLsn) - replayLsn);
    const seconds = bytes <= 0 ? 0 : (replica.replay_age_seconds ?? null);
    return {
      lagSeconds: seconds,
      lagBytes: Math.max(0, bytes),
      source: 'primary',
      primaryReachable: true,
      targetIsReplica: true,
      bound: isExact ? 'exact' : 'lower-bound',
      detail: `${target.name} is ${Math.max(0, bytes)} bytes behind ${primary.name}${fencedAt ? ` as fenced at ${fencedAt}` : isExact ? ' (fenced)' : ''}${seconds ? ` (last replayed commit ${seconds.toFixed(1)} s ago)` : ''}`,
    };
  }
  const receiveLsn = replica.receive_lsn ? lsnToBigInt(replica.receive_lsn) : null;
  const unreplayed =
    receiveLsn !== null && replayLsn !== null ? Number(receiveLsn - replayLsn) : null;
  const seconds = unreplayed === 0 ? 0 : (replica.replay_age_seconds ?? null);
  return {
    lagSeconds: seconds,
    lagBytes: unreplayed,
    source: 'replica',
    primaryReachable: false,
    targetIsReplica: true,
    bound: 'lower-bound',
    detail:
      `${primary.name} does not answer; measured on ${target.name}: ` +
      `${unreplayed ?? 'unknown'} bytes received but not replayed` +
      `${seconds ? `, last replayed commit ${seconds.toFixed(1)} s ago` : ''}` +
      ' (WAL the primary never shipped cannot be seen from here)',
  };
}
