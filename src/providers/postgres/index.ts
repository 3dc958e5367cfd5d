// Self-managed PostgreSQL: promotion with pg_promote, the fence (read-only, sessions ended, write
// refused), lag from the primary or the replica, and a write check in a lifeboat-owned table.
// Roles are per run: a failback promotes the configured primary (rebuilt as a replica) instead of
// the configured replica.

import { ProviderError } from '../../errors.js';
import type { DatabaseProvider, NodeName } from '../types.js';
import { describeUrl, withClient } from './connect.js';
import { measureLag } from './lag.js';
import {
  DECISION_PROBE_MS,
  fenceNode,
  probeForStatus,
  probeNode,
  rebuildInstructions,
  replicaStatusOf,
  unfenceNode,
  waitForReplayOf,
  type PgNode,
} from './nodes.js';

export interface PostgresDatabase {
  primary: string;
  replica: string;
}

export function createPostgresProvider(
  database: PostgresDatabase,
  options: { promote: NodeName; promoteTimeoutSeconds?: number; probeBudgetMs?: number } = {
    promote: 'replica',
  },
): DatabaseProvider {
  const nodes: Record<NodeName, PgNode> = {
    primary: {
      node: 'primary',
      url: database.primary,
      name: describeUrl('primary', database.primary),
    },
    replica: {
      node: 'replica',
      url: database.replica,
      name: describeUrl('replica', database.replica),
    },
  };
  const other = (node: NodeName) => nodes[node === 'primary' ? 'replica' : 'primary'];
  const target = nodes[options.promote];
  const source = other(options.promote);
  const timeoutSeconds = options.promoteTimeoutSeconds ?? 60;

  const isTargetPrimary = () =>
    withClient(target.url, target.name, async (client) => {
      const { rows } = await client.query<{ in_recovery: boolean }>(
        'SELECT pg_is_in_recovery() AS in_recovery',
      );
      return rows[0]?.in_recovery === false;
    });

  return {
    target: target.node,
    source: source.node,
    targetName: target.name,
    sourceName: source.name,
    nameOf: (node) => nodes[node].name,
    probe: (node, purpose) =>
      purpose === 'status'
        ? probeForStatus(nodes[node], other(node), options.probeBudgetMs ?? 1000)
        : probeNode(nodes[node], other(node), DECISION_PROBE_MS),
    describeFence: (node) =>
      `Fence ${nodes[node].name}: ALTER SYSTEM SET default_transaction_read_only = on and reload, end its client sessions (not replication), check that a write in a new session is refused (SQLSTATE 25006), and record its final WAL position.`,
    fenceDisabled: () => null,
    beforeFence: () => Promise.resolve({}),
    fence: (node) => fenceNode(nodes[node]),
    unfence: (node) => unfenceNode(nodes[node]),
    waitForReplay: (node, lsn, waitOptions) => {
      if (lsn === null)
        throw new ProviderError(
          nodes[node].name,
          'no fenced WAL position to wait for: fence the primary first (db.fence)',
          true,
        );
      return waitForReplayOf(nodes[node], lsn, waitOptions);
    },
    replicaStatus: (standby, writer, rpoSeconds) =>
      replicaStatusOf(nodes[standby], nodes[writer], rpoSeconds),
    rebuild: {
      mode: 'manual',
      instructions: (standby, writer) => rebuildInstructions(nodes[standby], nodes[writer]),
    },
    measureLag: (lagOptions) => measureLag(source, target, lagOptions?.fencedAt ?? null),
    // Nothing to check beforehand: promote() itself reads pg_is_in_recovery() on the target.
    preflight: () => Promise.resolve(),
    isTargetPrimary,
    promote: () =>
      withClient(
        target.url,
        target.name,
        async (client) => {
          const before = await client.query<{ in_recovery: boolean }>(
            'SELECT pg_is_in_recovery() AS in_recovery',
          );
          if (before.rows[0]?.in_recovery === false) {
            return {
              alreadyPrimary: true,
              detail: `${target.name} is already a primary: nothing to promote`,
            };
          }
          // pg_promote(true) looks every 100 ms whether recovery has ended; a fast promote ends
          // in ~10 ms. So it is asked not to wait, and lifeboat looks itself, every 5 ms for the
          // first second, then every 50 ms.
          const { rows } = await client.query<{ signalled: boolean }>(
            'SELECT pg_promote(false) AS signalled',
          );
          if (rows[0]?.signalled !== true)
            throw new ProviderError(
              target.name,
              'pg_promote could not signal the postmaster to promote (see its log)',
              false,
            );
          const started = performance.now();
          for (;;) {
            const now = await client.query<{ in_recovery: boolean }>(
              'SELECT pg_is_in_recovery() AS in_recovery',
            );
            if (now.rows[0]?.in_recovery === false) break;
            const elapsed = performance.now() - started;
            if (elapsed >= timeoutSeconds * 1000)
              throw new ProviderError(
                target.name,
                `asked to promote, still in recovery after ${timeoutSeconds} s: the promotion may yet finish (pg_is_in_recovery() there says); a retry promotes only if it has not`,
                false,
              );
            await new Promise((resolve) => setTimeout(resolve, elapsed < 1000 ? 5 : 50));
          }
          return { alreadyPrimary: false, detail: `${target.name} promoted with pg_promote` };
        },
        { statementTimeoutMs: (timeoutSeconds + 10) * 1000 },
      ),
    verifyWritable: (token) =>
      withClient(target.url, target.name, async (client) => {
        // One round trip for the DDL; the write itself is parameterised.
        await client.query(`CREATE SCHEMA IF NOT EXISTS lifeboat;
          CREATE TABLE IF NOT EXISTS lifeboat.write_checks (
            id bigserial PRIMARY KEY, token text NOT NULL, written_at timestamptz NOT NULL DEFAULT now())`);
        await client.query('INSERT INTO lifeboat.write_checks (token) VALUES ($1)', [token]);
        const { rows } = await client.query<{ n: string }>(
          'SELECT count(*) AS n FROM lifeboat.write_checks WHERE token = $1',
          [token],
        );
        if (Number(rows[0]?.n) < 1)
          throw new ProviderError(target.name, 'wrote a row but could not read it back', false);
        return {
          detail: `${target.name} accepted a write and returned it (lifeboat.write_checks, token ${token})`,
        };
      }),
    targetEndpoint: () => Promise.resolve(new URL(target.url).hostname),
  };
}
