// The two RDS instances of a service as nodes: what each is now (writable, fenced, a replicating
// read replica, not answering), the fence the config chooses (security groups that let no client
// in, or StopDBInstance; `none` only with a written reason), its undo, the wait for a fenced
// primary's changes to reach the replica, and a replica rebuilt in the old region.
// Calls into a region that may be the failed one run on a short budget and never hang a step.

import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import type { DBInstance, RDSClient } from '@aws-sdk/client-rds';
import { rdsSdk } from './sdk.js';
import { formatDuration } from '../../duration.js';
import { ProviderError } from '../../errors.js';
import type {
  FenceResult,
  NodeName,
  NodeProbe,
  OnProgress,
  ProbePurpose,
  ReplicaRebuild,
  ReplicaStatus,
} from '../types.js';
import { otherNode } from '../types.js';
import { pollUntil } from '../progress.js';
import { latestReplicaLag } from './replica-lag.js';
import { unreadable, withAwsRetry, type RetryOptions } from './retry.js';

export interface RdsInstance {
  id: string;
  region: string;
  /** Optional PostgreSQL URL of the instance, for db.verify-writable. */
  url?: string;
}

export interface RdsDatabase {
  primary: RdsInstance;
  replica: RdsInstance;
  fence: RdsFence;
  rebuild?: { instance_class?: string };
  scale_up?: { instance_class: string };
}

export type RdsFence =
  | { mode: 'security-group'; fence_security_group_ids: string[] }
  | { mode: 'stop' }
  | { mode: 'none'; reason: string };

export interface RdsNodeDeps {
  rds: (region: string) => RDSClient;
  cloudwatch?: (region: string) => CloudWatchClient;
  name: (instance: RdsInstance) => string;
  describe: (instance: RdsInstance) => Promise<DBInstance>;
  maxWaitSeconds: number;
  pollSeconds: number;
  retry?: RetryOptions;
  clock: () => Date;
  sleep: (ms: number) => Promise<void>;
  /** How long one call into a region may take before that region counts as not answering. */
  budgetMs?: number;
  /** The same for a status look (the service's probe_timeout). */
  statusBudgetMs?: number;
}

/** The node-level half of a DatabaseProvider for RDS. */
export function createRdsNodes(database: RdsDatabase, deps: RdsNodeDeps) {
  const budgetMs = deps.budgetMs ?? 10_000;
  const instanceOf = (node: NodeName) => database[node];
  const nameOf = (node: NodeName) => deps.name(instanceOf(node));
  const fence = database.fence;
  const fenceGroups = new Set(
    fence.mode === 'security-group' ? fence.fence_security_group_ids : [],
  );

  /** One DescribeDBInstances on a short budget: a region that hangs is a region that is down. */
  const describeQuick = (node: NodeName, withinMs = budgetMs): Promise<DBInstance> => {
    const instance = instanceOf(node);
    return withAwsRetry(
      nameOf(node),
      async () => {
        const output = await deps
          .rds(instance.region)
          .send(new (rdsSdk().DescribeDBInstancesCommand)({ DBInstanceIdentifier: instance.id }), {
            abortSignal: AbortSignal.timeout(withinMs),
          });
        const found = output.DBInstances?.[0];
        if (!found)
          throw new ProviderError(nameOf(node), 'DescribeDBInstances returned no instance', true);
        refuseUnsupported(nameOf(node), found);
        return found;
      },
      { ...deps.retry, attempts: 1 },
    );
  };

  const isFencedBy = (found: DBInstance): string | null => {
    const status = found.DBInstanceStatus ?? 'unknown';
    if (status === 'stopped' || status === 'stopping') return `${status}`;
    const groups = found.VpcSecurityGroups ?? [];
    if (
      fenceGroups.size > 0 &&
      groups.length > 0 &&
      groups.every(
        (group) => fenceGroups.has(group.VpcSecurityGroupId ?? '') && group.Status === 'active',
      )
    )
      return `behind the fence security groups (${groups.map((g) => g.VpcSecurityGroupId).join(', ')})`;
    return null;
  };

  const followsNode = (found: DBInstance, node: NodeName): boolean => {
    const source = found.ReadReplicaSourceDBInstanceIdentifier;
    const id = instanceOf(node).id;
    return source === id || (source?.endsWith(`:db:${id}`) ?? false);
  };

  async function probe(node: NodeName, purpose: ProbePurpose = 'decision'): Promise<NodeProbe> {
    const base = { node, name: nameOf(node), walLsn: null };
    let found: DBInstance;
    try {
      found = await describeQuick(
        node,
        purpose === 'status' ? (deps.statusBudgetMs ?? budgetMs) : budgetMs,
      );
    } catch (error) {
      return unreadable(node, nameOf(node), error);
    }
    const status = found.DBInstanceStatus ?? 'unknown';
    if (found.ReadReplicaSourceDBInstanceIdentifier) {
      const replication = found.StatusInfos?.find((info) => info.StatusType === 'read replication');
      const streaming = replication?.Status === 'replicating';
      const other = otherNode(node);
      return {
        ...base,
        role: 'standby',
        streaming,
        streamingFrom: followsNode(found, other) ? other : null,
        detail: `${nameOf(node)} is a read replica of ${found.ReadReplicaSourceDBInstanceIdentifier} (${status}, replication ${replication?.Status ?? 'unknown'})`,
      };
    }
    const fencedBy = isFencedBy(found);
    if (fencedBy)
      return {
        ...base,
        role: 'fenced',
        streaming: false,
        streamingFrom: null,
        detail: `${nameOf(node)} is fenced: ${fencedBy}`,
      };
    if (status === 'deleting' || status === 'failed')
      return {
        ...base,
        role: 'unreachable',
        streaming: false,
        streamingFrom: null,
        detail: `${nameOf(node)} is ${status}`,
      };
    return {
      ...base,
      role: 'writable',
      streaming: false,
      streamingFrom: null,
      detail: `${nameOf(node)} is a standalone instance accepting writes (${status})`,
    };
  }

  /** Polls `node` until `done`, telling `onProgress` each status seen (RDS takes minutes). */
  function waitFor(
    node: NodeName,
    done: (found: DBInstance) => boolean,
    what: string,
    onProgress?: OnProgress,
  ): Promise<DBInstance> {
    return pollUntil({
      resource: nameOf(node),
      waitingFor: what,
      look: async () => {
        const found = await deps.describe(instanceOf(node));
        return { done: done(found) ? found : null, status: found.DBInstanceStatus ?? 'unknown' };
      },
      maxWaitSeconds: deps.maxWaitSeconds,
      pollMs: deps.pollSeconds * 1000,
      clock: deps.clock,
      sleep: deps.sleep,
      onProgress,
    });
  }

  const send = <T>(node: NodeName, call: (client: RDSClient) => Promise<T>) =>
    withAwsRetry(nameOf(node), () => call(deps.rds(instanceOf(node).region)), deps.retry);

  return {
    nameOf,
    probe,
    fenceDisabled: () =>
      fence.mode === 'none'
        ? `fencing is turned off for this service in lifeboat.yml: ${fence.reason}`
        : null,
    describeFence(node: NodeName): string {
      if (fence.mode === 'security-group')
        return `Fence ${nameOf(node)}: ModifyDBInstance to the fence security groups ${fence.fence_security_group_ids.join(', ')} (ApplyImmediately), wait until they are active, and check it.`;
      if (fence.mode === 'stop')
        return `Fence ${nameOf(node)}: StopDBInstance, wait until it is stopped, and check it.`;
      return `${nameOf(node)} is not fenced: ${fence.reason}`;
    },

    async beforeFence(node: NodeName): Promise<Record<string, unknown>> {
      if (fence.mode !== 'security-group') return {};
      try {
        const found = await describeQuick(node);
        if (isFencedBy(found)) return {};
        return {
          securityGroupIds: (found.VpcSecurityGroups ?? []).map((g) => g.VpcSecurityGroupId),
        };
      } catch (error) {
        return { unreadable: (error as Error).message };
      }
    },

    async fence(node: NodeName, options?: { onProgress?: OnProgress }): Promise<FenceResult> {
      const result = (state: FenceResult['state'], detail: string): FenceResult => ({
        state,
        finalLsn: null,
        sessionsEnded: 0,
        detail,
      });
      if (fence.mode === 'none')
        throw new ProviderError(nameOf(node), `is not fenced: ${fence.reason}`, true);
      const now = await probe(node);
      if (now.role === 'unreachable')
        return result('unreachable', `${now.detail}: it could not be fenced`);
      if (now.role === 'standby')
        return result('standby', `${nameOf(node)} is a read replica: there is nothing to fence`);
      if (now.role !== 'fenced') {
        const instance = instanceOf(node);
        try {
          if (fence.mode === 'security-group')
            await send(node, (client) =>
              client.send(
                new (rdsSdk().ModifyDBInstanceCommand)({
                  DBInstanceIdentifier: instance.id,
                  VpcSecurityGroupIds: fence.fence_security_group_ids,
                  ApplyImmediately: true,
                }),
                { abortSignal: AbortSignal.timeout(budgetMs) },
              ),
            );
          else
            await send(node, (client) =>
              client.send(
                new (rdsSdk().StopDBInstanceCommand)({ DBInstanceIdentifier: instance.id }),
                {
                  abortSignal: AbortSignal.timeout(budgetMs),
                },
              ),
            );
        } catch (error) {
          if (error instanceof ProviderError && !error.permanent)
            return result(
              'unreachable',
              `${nameOf(node)} did not take the fence: ${error.message}`,
            );
          throw error;
        }
      }
      const fenced = await waitFor(
        node,
        (found) =>
          fence.mode === 'stop'
            ? found.DBInstanceStatus === 'stopped'
            : isFencedBy(found) !== null && found.DBInstanceStatus === 'available',
        fence.mode === 'stop' ? 'stopping' : 'the security group change',
        options?.onProgress,
      );
      return result('fenced', `${nameOf(node)} fenced: ${isFencedBy(fenced) ?? 'stopped'}`);
    },

    /** ModifyDBInstance to `instanceClass` (ApplyImmediately), then wait until it runs as one. */
    async scaleUp(
      node: NodeName,
      instanceClass: string,
      options?: { onProgress?: OnProgress },
    ): Promise<{ detail: string }> {
      const before = await deps.describe(instanceOf(node));
      if (before.DBInstanceClass === instanceClass && before.DBInstanceStatus === 'available')
        return { detail: `${nameOf(node)} already runs as ${instanceClass}` };
      await send(node, (client) =>
        client.send(
          new (rdsSdk().ModifyDBInstanceCommand)({
            DBInstanceIdentifier: instanceOf(node).id,
            DBInstanceClass: instanceClass,
            ApplyImmediately: true,
          }),
        ),
      );
      await waitFor(
        node,
        (found) =>
          found.DBInstanceStatus === 'available' && found.DBInstanceClass === instanceClass,
        `the ${instanceClass} class`,
        options?.onProgress,
      );
      return {
        detail: `${nameOf(node)} scaled from ${before.DBInstanceClass ?? 'its class'} to ${instanceClass}`,
      };
    },

    async instanceClass(node: NodeName): Promise<string | null> {
      return (await deps.describe(instanceOf(node))).DBInstanceClass ?? null;
    },

    async unfence(node: NodeName, saved: Record<string, unknown>): Promise<{ detail: string }> {
      const instance = instanceOf(node);
      if (fence.mode === 'stop') {
        await send(node, (client) =>
          client.send(new (rdsSdk().StartDBInstanceCommand)({ DBInstanceIdentifier: instance.id })),
        );
        await waitFor(node, (found) => found.DBInstanceStatus === 'available', 'starting');
        return { detail: `${nameOf(node)} started again: it accepts writes` };
      }
      const groups = Array.isArray(saved.securityGroupIds)
        ? (saved.securityGroupIds as string[])
        : null;
      if (fence.mode !== 'security-group' || !groups || groups.length === 0)
        throw new ProviderError(
          nameOf(node),
          'its security groups before the fence were not recorded: set them back by hand (ModifyDBInstance --vpc-security-group-ids …)',
          true,
        );
      await send(node, (client) =>
        client.send(
          new (rdsSdk().ModifyDBInstanceCommand)({
            DBInstanceIdentifier: instance.id,
            VpcSecurityGroupIds: groups,
            ApplyImmediately: true,
          }),
        ),
      );
      await waitFor(
        node,
        (found) =>
          found.DBInstanceStatus === 'available' &&
          (found.VpcSecurityGroups ?? []).every(
            (group) => groups.includes(group.VpcSecurityGroupId ?? '') && group.Status === 'active',
          ),
        'restoring its security groups',
      );
      return { detail: `${nameOf(node)} unfenced: back on ${groups.join(', ')}` };
    },

    /** RDS has no LSN: after a fence, wait until CloudWatch reports ReplicaLag 0 since `since`. */
    async waitForReplay(
      node: NodeName,
      _lsn: string | null,
      options: { timeoutMs: number; since?: Date; onProgress?: (text: string) => void },
    ): Promise<{ replayLsn: string; detail: string }> {
      const deadline = deps.clock().getTime() + options.timeoutMs;
      const since = options.since ?? deps.clock();
      for (;;) {
        const lag = await replicaLag(node, since);
        if (lag !== null && lag.value === 0)
          return {
            replayLsn: 'n/a',
            detail: `${nameOf(node)} reports ReplicaLag 0 at ${lag.at.toISOString()}, after the fence`,
          };
        if (deps.clock().getTime() > deadline)
          throw new ProviderError(
            nameOf(node),
            `ReplicaLag is ${lag === null ? 'not reported' : `${lag.value} s`} ${Math.round(options.timeoutMs / 1000)} s after the fence: it did not catch up. The primary stays fenced: retry to wait again, or stop the run and unfence it`,
            false,
          );
        options.onProgress?.(
          `${nameOf(node)}: ReplicaLag ${lag === null ? 'not reported yet' : `${lag.value} s`}`,
        );
        await deps.sleep(deps.pollSeconds * 1000);
      }
    },

    async replicaStatus(
      standby: NodeName,
      writer: NodeName,
      rpoSeconds: number,
    ): Promise<ReplicaStatus> {
      const found = await describeQuick(standby);
      const replication = found.StatusInfos?.find((info) => info.StatusType === 'read replication');
      const bad = (detail: string): ReplicaStatus => ({
        ok: false,
        lagSeconds: null,
        lagBytes: null,
        detail,
      });
      if (!found.ReadReplicaSourceDBInstanceIdentifier)
        return bad(`${nameOf(standby)} is not a read replica`);
      if (!followsNode(found, writer))
        return bad(
          `${nameOf(standby)} replicates from ${found.ReadReplicaSourceDBInstanceIdentifier}, not from ${nameOf(writer)}`,
        );
      if (replication?.Status !== 'replicating')
        return bad(`${nameOf(standby)}: replication is ${replication?.Status ?? 'unknown'}`);
      const lag = await replicaLag(standby, new Date(deps.clock().getTime() - 10 * 60_000));
      const lagSeconds = lag?.value ?? null;
      const ok = lagSeconds !== null && lagSeconds <= rpoSeconds;
      return {
        ok,
        lagSeconds,
        lagBytes: null,
        detail: `${nameOf(standby)} replicates from ${nameOf(writer)}, ReplicaLag ${lagSeconds === null ? 'not reported' : `${lagSeconds} s`}: ${ok ? 'within' : 'not within'} the RPO (${formatDuration(rpoSeconds)})`,
      };
    },

    rebuild: {
      mode: 'automatic',
      describe: (standby: NodeName, writer: NodeName) =>
        `Rebuild ${nameOf(standby)} as a read replica of ${nameOf(writer)}: rename the old instance aside (kept, not deleted), CreateDBInstanceReadReplica under the configured identifier ${instanceOf(standby).id}, wait until available and replicating.`,
      run: (standby: NodeName, writer: NodeName, options?: { onProgress?: OnProgress }) =>
        rebuildReplica(standby, writer, options?.onProgress),
    } satisfies ReplicaRebuild,
  };

  async function replicaLag(
    node: NodeName,
    since: Date,
  ): Promise<{ value: number; at: Date } | null> {
    if (!deps.cloudwatch) return null;
    const now = deps.clock();
    const instance = instanceOf(node);
    return latestReplicaLag(deps.cloudwatch(instance.region), instance.id, since, now, deps.retry);
  }

  async function rebuildReplica(
    standby: NodeName,
    writer: NodeName,
    onProgress?: OnProgress,
  ): Promise<{ detail: string }> {
    const instance = instanceOf(standby);
    const source = await deps.describe(instanceOf(writer));
    const current = await deps.describe(instance).catch((error: unknown) => {
      if (isNotFound(error)) return null;
      throw error;
    });
    if (current && followsNode(current, writer))
      return { detail: `${nameOf(standby)} is already a read replica of ${nameOf(writer)}` };
    let keptAs: string | null = null;
    if (current) {
      keptAs = `${instance.id}-old-${deps.clock().toISOString().slice(0, 16).replace(/[-:T]/g, '')}`;
      await send(standby, (client) =>
        client.send(
          new (rdsSdk().ModifyDBInstanceCommand)({
            DBInstanceIdentifier: instance.id,
            NewDBInstanceIdentifier: keptAs!,
            ApplyImmediately: true,
          }),
        ),
      );
      await waitUntilGone(instance);
    }
    await send(standby, (client) =>
      client.send(
        new (rdsSdk().CreateDBInstanceReadReplicaCommand)({
          DBInstanceIdentifier: instance.id,
          SourceDBInstanceIdentifier: source.DBInstanceArn ?? instanceOf(writer).id,
          ...(database.rebuild?.instance_class
            ? { DBInstanceClass: database.rebuild.instance_class }
            : {}),
        }),
      ),
    );
    await waitFor(
      standby,
      (found) => found.DBInstanceStatus === 'available' && followsNode(found, writer),
      'the new read replica to be available',
      onProgress,
    );
    return {
      detail: `${nameOf(standby)} rebuilt as a read replica of ${nameOf(writer)}${keptAs ? ` (the old instance is kept as ${keptAs})` : ''}`,
    };
  }

  async function waitUntilGone(instance: RdsInstance): Promise<void> {
    const deadline = deps.clock().getTime() + deps.maxWaitSeconds * 1000;
    for (;;) {
      const gone = await deps.describe(instance).then(
        () => false,
        (error: unknown) => {
          if (isNotFound(error)) return true;
          throw error;
        },
      );
      if (gone) return;
      if (deps.clock().getTime() > deadline)
        throw new ProviderError(
          deps.name(instance),
          `was not renamed aside within ${deps.maxWaitSeconds} s`,
          false,
        );
      await deps.sleep(deps.pollSeconds * 1000);
    }
  }
}

/**
 * Refuses an instance that is a member of a DB cluster (Aurora, or a Multi-AZ DB cluster): it fails
 * over as a cluster and has no ReadReplicaSourceDBInstanceIdentifier, so aws-rds would take an
 * Aurora replica for a standalone primary and "promote" nothing.
 */
export function refuseUnsupported(name: string, found: DBInstance): void {
  if (!found.DBClusterIdentifier) return;
  throw new ProviderError(
    name,
    `is an instance of the DB cluster ${found.DBClusterIdentifier} (${found.Engine ?? 'engine unknown'}): a cluster fails over as a whole, which provider aws-rds does not do — it promotes RDS instance read replicas only${found.Engine?.startsWith('aurora') && found.DBClusterIdentifier ? ' (for an Aurora Global Database, use provider: aurora-global)' : ''}`,
    true,
  );
}

function isNotFound(error: unknown): boolean {
  const cause = (error as { cause?: { name?: string } }).cause;
  const name = (error as { name?: string }).name;
  return name === 'DBInstanceNotFoundFault' || cause?.name === 'DBInstanceNotFoundFault';
}
