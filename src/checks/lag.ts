// The replication check: for each service, what both databases are now — one writer with a replica
// following it within the RPO (ok), TWO PRIMARIES (both accept writes: split brain), UNPROTECTED
// (a writer nothing follows), or NO WRITER (the disaster: the lag is then measured on the replica,
// a lower bound) — recorded as the service's protection state and as a check result. The scheduler
// alerts on it; `lifeboat check lag`, `/dr status` and App Home show it.

import type { Config, Service } from '../config.js';
import { formatDuration } from '../duration.js';
import { isLifeboatError } from '../errors.js';
import { classifyNodes } from '../actions/db/classify-nodes.js';
import { describeLag } from '../actions/db/describe-lag.js';
import type { ServiceProviders } from '../actions/types.js';
import type { DatabaseProvider, NodeName } from '../providers/types.js';
import { otherNode } from '../providers/types.js';
import type { RunKind } from '../runbook/model.js';
import type { Sql } from '../store/db.js';
import { recordProtection, type ProtectionEpisode } from '../store/protection.js';
import { recordCheckResult, type CheckResult } from './results.js';

export interface ReplicationResult extends CheckResult {
  protection: ProtectionEpisode | null;
  /** The replica's lag behind the writer, as measured now; null when not measured. */
  lagSeconds: number | null;
}

/**
 * One service, looked at now; the protection state is recorded as seen. `databaseFor(node)` is the
 * service's database provider for a run promoting `node`.
 */
export async function checkReplication(
  service: Service,
  databaseFor: (promote: NodeName) => DatabaseProvider,
  db: Sql,
  now: Date,
  /** The service's open protection episode, when the caller read it with others'. */
  known?: ProtectionEpisode | null,
): Promise<ReplicationResult> {
  const database = databaseFor('replica');
  const result = (
    ok: boolean,
    state: string,
    summary: string,
    protection: ProtectionEpisode | null,
  ): ReplicationResult => ({
    check: 'lag',
    service: service.name,
    ok,
    summary,
    state,
    at: now.toISOString(),
    protection,
    lagSeconds: null,
  });
  if (service.strategy === 'active-active') {
    // Both sites take writes by design: what matters is that both answer, or which one to drain.
    const [primary, replica] = await Promise.all([
      database.probe('primary', 'status'),
      database.probe('replica', 'status'),
    ]);
    const down = [primary, replica].filter((node) => node.role !== 'writable');
    return down.length === 0
      ? result(
          true,
          'active-active',
          `active-active: both ${primary.name} and ${replica.name} take writes`,
          null,
        )
      : result(
          false,
          'SITE DOWN',
          `active-active: ${down.map((node) => `${node.name} does not take writes (${node.detail})`).join('; ')} — drain its traffic (the drain-region runbook)`,
          null,
        );
  }
  if (service.strategy === 'backup-restore' && service.database.provider === 'aws-rds') {
    // The DR instance does not exist until a recovery restores a snapshot as it.
    const { id, region } = service.database.replica;
    return result(
      true,
      'backup-restore',
      `backup-restore: no replica — a recovery restores the newest snapshot in ${service.snapshots?.copy_to ?? region} as RDS ${id}`,
      null,
    );
  }
  if (service.strategy === 'backup-restore') {
    // No replica to follow the writer: the DR server waits for a backup. Both taking writes is
    // the design here, not TWO PRIMARIES; whether the DR server answers is what matters.
    const server = await database.probe('replica', 'status');
    server.name = server.name.replace(/^replica /, 'DR server ');
    const ready = server.role === 'writable';
    return result(
      ready,
      ready ? 'backup-restore' : 'DR server not ready',
      `backup-restore: no replica — a recovery restores the newest backup into ${server.name}${ready ? ', which answers and takes writes' : `: ${server.detail}`}`,
      null,
    );
  }
  try {
    const [primary, replica] = await Promise.all([
      database.probe('primary', 'status'),
      database.probe('replica', 'status'),
    ]);
    const seen = classifyNodes(primary, replica);
    const { episode } = await recordProtection(
      db,
      { service: service.name, ...seen, at: now },
      known,
    );
    const since = sinceText(episode.startedAt, now);
    if (seen.state === 'two-primaries')
      return result(
        false,
        'TWO PRIMARIES',
        `TWO PRIMARIES ${since}: ${seen.detail}. Fence one of them now.`,
        episode,
      );
    if (seen.state === 'unprotected')
      return result(
        false,
        'UNPROTECTED',
        `UNPROTECTED — no replica ${since}: ${seen.detail}`,
        episode,
      );
    if (seen.state === 'no-writer') {
      const standby = [primary, replica].find((node) => node.role === 'standby');
      const lag = standby ? await lagOnReplica(databaseFor(standby.node), service) : '';
      return result(false, 'NO WRITER', `NO WRITER ${since}: ${seen.detail}${lag}`, episode);
    }
    const writer = seen.writer!;
    const status = await database.replicaStatus(otherNode(writer), writer, service.rpoSeconds);
    return {
      ...(status.ok
        ? result(true, 'within RPO', status.detail, episode)
        : result(false, 'over RPO', status.detail, episode)),
      lagSeconds: status.lagSeconds,
    };
  } catch (error) {
    if (!isLifeboatError(error)) throw error;
    return result(false, `error: ${error.message}`, error.message, null);
  }
}

/**
 * The replication check of every service with a database (or of `only`), each result recorded:
 * what `lifeboat check lag` and the scheduled `lag` check run. (The runbook action `db.check-lag`
 * is a different thing: one replica's lag against the RPO, inside a run.)
 */
export async function checkServicesReplication(
  config: Config,
  db: Sql,
  providersFor: (service: Service, kind: RunKind, promote?: NodeName) => ServiceProviders,
  now: Date,
  only?: string | null,
): Promise<ReplicationResult[]> {
  const results: ReplicationResult[] = [];
  for (const service of Object.values(config.services)) {
    if (only && service.name !== only) continue;
    if (!providersFor(service, 'failover', 'replica').database) continue;
    const databaseFor = (promote: NodeName) => providersFor(service, 'failover', promote).database!;
    const result = await checkReplication(service, databaseFor, db, now);
    await recordCheckResult(db, 'lag', result, {
      state: result.state,
      lagSeconds: result.lagSeconds,
    });
    results.push(result);
  }
  return results;
}

/** With no writer, what the standby itself can say: a lower bound of what a promotion loses. */
async function lagOnReplica(database: DatabaseProvider, service: Service): Promise<string> {
  const lag = await database.measureLag().catch(() => null);
  return lag ? `. If promoted now: ${describeLag(lag, service.rpoSeconds)}` : '';
}

/** "since 2026-11-24 03:14 UTC (2h 10m)"; the length only once it is a minute or more. */
export function sinceText(startedAt: string, now: Date): string {
  const seconds = (now.getTime() - Date.parse(startedAt)) / 1000;
  const at = `${startedAt.slice(0, 16).replace('T', ' ')} UTC`;
  return `since ${at}${seconds >= 60 ? ` (${formatDuration(seconds)})` : ''}`;
}
