// Replication lag of a streaming standby. With the primary up, bytes are measured against the
// primary's current WAL position; with the primary dead — the disaster case — from what the
// replica itself received and replayed.

import type { LagMeasurement } from '../types.js';
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
    return {
      lagSeconds: 0,
      lagBytes: 0,
      source: 'replica',
      primaryReachable: false,
      targetIsReplica: false,
      detail: `${target.name} is not in recovery: it is already a primary`,
    };
  }
  const primaryLsn = await withClient(
    primary.url,
    primary.name,
    async (client) =>
      (await client.query<{ lsn: string }>('SELECT pg_current_wal_lsn()::text AS lsn')).rows[0]
        ?.lsn ?? null,
    { connectTimeoutMs: 2000, statementTimeoutMs: 2000 },
  ).catch(() => null);

  const replayLsn = replica.replay_lsn ? lsnToBigInt(replica.replay_lsn) : null;
  if (primaryLsn !== null && replayLsn !== null) {
    const bytes = Number(lsnToBigInt(primaryLsn) - replayLsn);
    const seconds = bytes <= 0 ? 0 : (replica.replay_age_seconds ?? null);
    return {
      lagSeconds: seconds,
      lagBytes: Math.max(0, bytes),
      source: 'primary',
      primaryReachable: true,
      targetIsReplica: true,
      detail: `${target.name} is ${Math.max(0, bytes)} bytes behind ${primary.name}${seconds ? ` (last replayed commit ${seconds.toFixed(1)} s ago)` : ''}`,
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
    detail:
      `${primary.name} does not answer; measured on ${target.name}: ` +
      `${unreplayed ?? 'unknown'} bytes received but not replayed` +
      `${seconds ? `, last replayed commit ${seconds.toFixed(1)} s ago` : ''}` +
      ' (WAL the primary never shipped cannot be seen from here)',
  };
}
