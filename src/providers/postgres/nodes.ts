// What each PostgreSQL server of a pair is right now, and the fence: a primary made read-only
// (default_transaction_read_only through ALTER SYSTEM), its client sessions ended, a write tried in
// a new session and refused (SQLSTATE 25006), and the WAL position it stopped at recorded.
// Never fences a standby, never reports "fenced" without having seen a write refused.

import type pg from 'pg';
import { formatDuration } from '../../duration.js';
import { ProviderError } from '../../errors.js';
import type { FenceResult, NodeName, NodeProbe, ReplicaStatus } from '../types.js';
import { withTimeout } from '../../deadline.js';
import { lsnToBigInt, withClient, withFreshClient } from './connect.js';

export interface PgNode {
  node: NodeName;
  url: string;
  name: string;
}

/** Probes answer fast or count as unreachable: a hung primary must not hold up a status. */
const PROBE = { connectTimeoutMs: 2000, statementTimeoutMs: 2000 };
/** A decision's probe (connect, then ask) as a whole; a status look has the service's budget. */
export const DECISION_PROBE_MS = 5000;
/** How long a fence waits for the server to apply its new setting and end sessions. */
const SETTLE_MS = 5000;

interface ServerState extends pg.QueryResultRow {
  in_recovery: boolean;
  read_only: string;
  lsn: string | null;
  receiver_status: string | null;
  sender_host: string | null;
  sender_port: number | null;
}

/**
 * Status looks under way, by what they look at. In an incident fifty people run `/dr status` and
 * open App Home at once: each server is asked once for all of them, not once per person — a
 * database that struggles is not also flooded with connections by its own DR tool. A look shares
 * only a probe still in flight, never a finished one; a decision's probe is never shared.
 */
const statusLooks = new Map<string, Promise<NodeProbe>>();

/** probeNode for a status look within `budgetMs`, joined to an identical one in flight. */
export function probeForStatus(node: PgNode, other: PgNode, budgetMs: number): Promise<NodeProbe> {
  const key = JSON.stringify([node, other, budgetMs]);
  let look = statusLooks.get(key);
  if (!look) {
    look = probeNode(node, other, budgetMs).finally(() => statusLooks.delete(key));
    statusLooks.set(key, look);
  }
  return look;
}

/** What `node` is, found out within `budgetMs` (connecting included) or reported unreachable. */
export async function probeNode(
  node: PgNode,
  other: PgNode,
  budgetMs = DECISION_PROBE_MS,
): Promise<NodeProbe> {
  let state: ServerState;
  // Within a status's budget the deadline below answers; the connection's own timeouts, a little
  // longer, only end what it left behind.
  const timeouts =
    budgetMs < DECISION_PROBE_MS
      ? { connectTimeoutMs: budgetMs + 1000, statementTimeoutMs: budgetMs + 1000 }
      : PROBE;
  try {
    state = await withTimeout(
      withClient(node.url, node.name, (client) => readState(client), timeouts),
      budgetMs,
      `no answer within ${formatBudget(budgetMs)}`,
    );
  } catch (error) {
    return {
      node: node.node,
      name: node.name,
      role: 'unreachable',
      streaming: false,
      streamingFrom: null,
      walLsn: null,
      detail: `${node.name} does not answer: ${(error as Error).message.replace(`${node.name}: `, '')}`,
    };
  }
  if (state.in_recovery) {
    const streaming = state.receiver_status === 'streaming';
    const from = streaming ? upstreamOf(state, other) : null;
    const upstream =
      state.sender_host !== null ? `${state.sender_host}:${state.sender_port ?? ''}` : 'unknown';
    return {
      node: node.node,
      name: node.name,
      role: 'standby',
      streaming,
      streamingFrom: from,
      walLsn: state.lsn,
      detail: streaming
        ? `${node.name} is a standby streaming from ${from ? other.name : upstream}, replayed up to ${state.lsn ?? 'unknown'}`
        : `${node.name} is a standby but does not stream (WAL receiver ${state.receiver_status ?? 'not running'})`,
    };
  }
  const isReadOnly = state.read_only === 'on';
  return {
    node: node.node,
    name: node.name,
    role: isReadOnly ? 'fenced' : 'writable',
    streaming: false,
    streamingFrom: null,
    walLsn: state.lsn,
    detail: isReadOnly
      ? `${node.name} is a primary fenced read-only (default_transaction_read_only = on) at WAL ${state.lsn}`
      : `${node.name} is a primary accepting writes (WAL ${state.lsn})`,
  };
}

/**
 * The fence. Idempotent: a fenced primary is fenced again (its sessions ended, the LSN read anew,
 * the refusal checked); a standby has nothing to fence; a server that does not answer is reported
 * unreachable, not fenced.
 */
export async function fenceNode(node: PgNode): Promise<FenceResult> {
  let inRecovery: boolean;
  try {
    inRecovery = await withFreshClient(node.url, node.name, isInRecovery, PROBE);
  } catch (error) {
    return {
      state: 'unreachable',
      finalLsn: null,
      sessionsEnded: 0,
      detail: `${node.name} does not answer, so it could not be fenced: ${(error as Error).message.replace(`${node.name}: `, '')}`,
    };
  }
  if (inRecovery) {
    return {
      state: 'standby',
      finalLsn: null,
      sessionsEnded: 0,
      detail: `${node.name} is a standby: it accepts no writes, there is nothing to fence`,
    };
  }
  await withFreshClient(node.url, node.name, async (client) => {
    // ALTER SYSTEM cannot run inside a transaction block: one statement per query.
    await client.query('ALTER SYSTEM SET default_transaction_read_only = on');
    await client.query('SELECT pg_reload_conf()');
  });
  await waitForSetting(node, 'on');
  const { ended, lsn } = await withFreshClient(node.url, node.name, async (client) => {
    const ended = await endClientSessions(client);
    const { rows } = await client.query<{ lsn: string }>(
      'SELECT pg_current_wal_lsn()::text AS lsn',
    );
    return { ended, lsn: rows[0]?.lsn ?? null };
  });
  const refusal = await tryWrite(node);
  if (refusal === null) {
    throw new ProviderError(
      node.name,
      'still accepted a write after default_transaction_read_only = on was set: it is NOT fenced (is the setting overridden for the role or database? check ALTER ROLE … SET / ALTER DATABASE … SET)',
      false,
    );
  }
  return {
    state: 'fenced',
    finalLsn: lsn,
    sessionsEnded: ended,
    detail: `${node.name} fenced: read-only (a write was refused: ${refusal}), ${ended} client session(s) ended, final WAL position ${lsn}`,
  };
}

export async function unfenceNode(node: PgNode): Promise<{ detail: string }> {
  await withFreshClient(node.url, node.name, async (client) => {
    await client.query('ALTER SYSTEM RESET default_transaction_read_only');
    await client.query('SELECT pg_reload_conf()');
  });
  await waitForSetting(node, 'off');
  const refusal = await tryWrite(node);
  if (refusal !== null) {
    throw new ProviderError(
      node.name,
      `still refuses writes after the fence was lifted (${refusal}): is default_transaction_read_only set in postgresql.conf?`,
      false,
    );
  }
  return { detail: `${node.name} unfenced: it accepts writes again` };
}

/**
 * Null when a write in a new session succeeds (rolled back, nothing left behind), else what
 * PostgreSQL said refusing it.
 */
export async function tryWrite(node: PgNode): Promise<string | null> {
  return withFreshClient(node.url, node.name, async (client) => {
    await client.query('BEGIN');
    try {
      await client.query('CREATE TEMP TABLE lifeboat_write_probe (id int)');
      return null;
    } catch (error) {
      const { code, message } = error as { code?: string; message: string };
      if (code === '25006') return `${message} (SQLSTATE 25006)`;
      throw error;
    } finally {
      await client.query('ROLLBACK');
    }
  });
}

export async function waitForReplayOf(
  node: PgNode,
  lsn: string,
  options: { timeoutMs: number; onProgress?: (text: string) => void; pollMs?: number },
): Promise<{ replayLsn: string; detail: string }> {
  const wanted = lsnToBigInt(lsn);
  const started = Date.now();
  let reported = 0;
  for (;;) {
    const replayed = await withClient(node.url, node.name, async (client) => {
      const { rows } = await client.query<{ lsn: string | null }>(
        'SELECT pg_last_wal_replay_lsn()::text AS lsn',
      );
      return rows[0]?.lsn ?? null;
    });
    if (replayed !== null && lsnToBigInt(replayed) >= wanted) {
      const seconds = ((Date.now() - started) / 1000).toFixed(1);
      return {
        replayLsn: replayed,
        detail: `${node.name} replayed up to ${replayed}, at or past the fenced primary's final position ${lsn} (0 bytes behind, after ${seconds} s)`,
      };
    }
    const behind = replayed === null ? 'unknown' : `${wanted - lsnToBigInt(replayed)} bytes`;
    const elapsed = Date.now() - started;
    if (elapsed >= options.timeoutMs) {
      throw new ProviderError(
        node.name,
        `has replayed up to ${replayed ?? 'nothing'} of ${lsn} (${behind} behind) after ${Math.round(elapsed / 1000)} s: it did not catch up (replay paused? network?). The primary stays fenced: retry to wait again, or stop the run and unfence it`,
        false,
      );
    }
    if (options.onProgress && elapsed - reported >= 1000) {
      reported = elapsed;
      options.onProgress(
        `${node.name}: replayed ${replayed ?? 'nothing'} of ${lsn}, ${behind} to go`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, options.pollMs ?? 20));
  }
}

/** Whether `standby` streams from `writer` (matched by address) and its lag against the RPO. */
export async function replicaStatusOf(
  standby: PgNode,
  writer: PgNode,
  rpoSeconds: number,
): Promise<ReplicaStatus> {
  const [standbyProbe, writerProbe] = await Promise.all([
    probeNode(standby, writer),
    probeNode(writer, standby),
  ]);
  const notOk = (detail: string): ReplicaStatus => ({
    ok: false,
    lagSeconds: null,
    lagBytes: null,
    detail,
  });
  if (writerProbe.role !== 'writable')
    return notOk(`${writerProbe.detail}: there is no writer for ${standby.name} to follow`);
  if (standbyProbe.role !== 'standby') return notOk(`${standbyProbe.detail}: not a standby`);
  if (!standbyProbe.streaming) return notOk(standbyProbe.detail);
  if (standbyProbe.streamingFrom !== writer.node)
    return notOk(`${standbyProbe.detail}, not from ${writer.name}`);
  const lag = await withClient(
    standby.url,
    standby.name,
    async (client) => {
      const { rows } = await client.query<{ replay_age: number | null }>(
        'SELECT EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp())::float8 AS replay_age',
      );
      return rows[0]?.replay_age ?? null;
    },
    PROBE,
  );
  const bytes =
    writerProbe.walLsn && standbyProbe.walLsn
      ? Number(lsnToBigInt(writerProbe.walLsn) - lsnToBigInt(standbyProbe.walLsn))
      : null;
  const lagBytes = bytes === null ? null : Math.max(0, bytes);
  const lagSeconds = lagBytes === 0 ? 0 : lag;
  const within = lagSeconds !== null && lagSeconds <= rpoSeconds;
  return {
    ok: within,
    lagSeconds,
    lagBytes,
    detail: `${standby.name} streams from ${writer.name}, ${lagBytes ?? 'unknown'} bytes behind${lagSeconds ? ` (last replayed commit ${lagSeconds.toFixed(1)} s ago)` : ''}: ${within ? 'within' : 'OVER'} the RPO (${formatDuration(rpoSeconds)})`,
  };
}

/** The commands a person runs to rebuild `standby` from `writer` (self-managed PostgreSQL). */
export function rebuildInstructions(standby: PgNode, writer: PgNode): string {
  const from = new URL(writer.url);
  return [
    `Rebuild ${standby.name} as a streaming standby of ${writer.name}, on the standby's host:`,
    '# stop the old server (it is fenced or dead), keep its data folder aside until the new one streams',
    'pg_ctl -D "$PGDATA" -m fast stop',
    '# either rewind it (needs wal_log_hints or data checksums on the old server):',
    `pg_rewind --target-pgdata="$PGDATA" --source-server="${writer.url}" --write-recovery-conf`,
    '# or copy it afresh:',
    `mv "$PGDATA" "$PGDATA.old" && pg_basebackup -h ${from.hostname} -p ${from.port || '5432'} -U ${decodeURIComponent(from.username) || 'postgres'} -D "$PGDATA" -R -X stream`,
    '# a fenced old primary carries default_transaction_read_only in postgresql.auto.conf: remove it',
    'sed -i "/default_transaction_read_only/d" "$PGDATA/postgresql.auto.conf"',
    'pg_ctl -D "$PGDATA" start',
    'Then the next step (db.verify-replica) checks that it streams.',
  ].join('\n');
}

async function readState(client: pg.ClientBase): Promise<ServerState> {
  const { rows } = await client.query<ServerState>(`
    SELECT pg_is_in_recovery() AS in_recovery,
           current_setting('default_transaction_read_only') AS read_only,
           (CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn()
                 ELSE pg_current_wal_lsn() END)::text AS lsn,
           (SELECT status FROM pg_stat_wal_receiver LIMIT 1) AS receiver_status,
           (SELECT sender_host FROM pg_stat_wal_receiver LIMIT 1) AS sender_host,
           (SELECT sender_port FROM pg_stat_wal_receiver LIMIT 1) AS sender_port`);
  return rows[0] as ServerState;
}

async function isInRecovery(client: pg.ClientBase): Promise<boolean> {
  const { rows } = await client.query<{ r: boolean }>('SELECT pg_is_in_recovery() AS r');
  return rows[0]?.r === true;
}

/** The standby's sender, matched against the other node's address; null when it is not that one. */
function upstreamOf(state: ServerState, other: PgNode): NodeName | null {
  if (state.sender_host === null) return null;
  const url = new URL(other.url);
  const port = Number(url.port || '5432');
  const hosts = new Set([url.hostname, url.hostname === 'localhost' ? '127.0.0.1' : url.hostname]);
  return hosts.has(state.sender_host) && state.sender_port === port ? other.node : null;
}

/** pg_reload_conf() only signals: wait until a new session sees the setting. */
async function waitForSetting(node: PgNode, value: 'on' | 'off'): Promise<void> {
  const deadline = Date.now() + SETTLE_MS;
  for (;;) {
    const seen = await withFreshClient(node.url, node.name, async (client) => {
      const { rows } = await client.query<{ v: string }>(
        "SELECT current_setting('default_transaction_read_only') AS v",
      );
      return rows[0]?.v;
    });
    if (seen === value) return;
    if (Date.now() > deadline)
      throw new ProviderError(
        node.name,
        `default_transaction_read_only is still ${seen} ${SETTLE_MS / 1000} s after pg_reload_conf()`,
        false,
      );
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/**
 * Ends every client session but lifeboat's own and waits until they are gone, so no transaction
 * begun before the fence can still commit. Clients that reconnect get read-only sessions.
 */
async function endClientSessions(client: pg.ClientBase): Promise<number> {
  // Filter first, terminate after: in one WHERE clause PostgreSQL may call pg_terminate_backend
  // on rows the other conditions reject (walsenders, the checkpointer).
  const { rows } = await client.query<{ pid: number }>(
    `WITH clients AS MATERIALIZED (
       SELECT pid FROM pg_stat_activity
       WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()
         AND application_name <> 'lifeboat')
     SELECT pid FROM clients WHERE pg_terminate_backend(pid)`,
  );
  const pids = rows.map((row) => row.pid);
  const deadline = Date.now() + SETTLE_MS;
  while (pids.length > 0 && Date.now() < deadline) {
    const left = await client.query<{ n: string }>(
      `SELECT count(*) AS n FROM pg_stat_activity WHERE pid IN (${pids.map(Number).join(',')})`,
    );
    if (Number(left.rows[0]?.n) === 0) break;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return pids.length;
}

/** "1 s", "0.5 s", "5 s": a probe's budget as a message says it. */
function formatBudget(ms: number): string {
  return `${ms / 1000} s`;
}
