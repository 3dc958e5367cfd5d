// Aurora Global Database (`provider: aurora-global`): two Aurora clusters in two regions, one the
// writer, the other a secondary the storage layer replicates to. A planned switchover
// (SwitchoverGlobalCluster) waits until the secondary has everything and loses nothing; the
// disaster's failover (FailoverGlobalCluster with AllowDataLoss) promotes the secondary at once.
// Either way Aurora demotes the old writer itself, so lifeboat does not fence: db.fence is skipped
// with that reason and the fence gate lets the promotion through. The global cluster is read in
// the target's region, so nothing waits on the failed one; lag is AuroraGlobalDBReplicationLag.

import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import type { GlobalCluster, GlobalClusterMember, RDSClient } from '@aws-sdk/client-rds';
import { rdsSdk } from './sdk.js';
import { ProviderError } from '../../errors.js';
import { createPostgresProvider } from '../postgres/index.js';
import { reportWhileWaiting } from '../progress.js';
import {
  otherNode,
  type DatabaseProvider,
  type NodeName,
  type NodeProbe,
  type OnProgress,
  type ProbePurpose,
} from '../types.js';
import { latestMaximum } from './replica-lag.js';
import { unreadable, withAwsRetry, type RetryOptions } from './retry.js';

export interface AuroraCluster {
  cluster_id: string;
  region: string;
  url?: string;
}

export interface AuroraGlobalDatabase {
  global_cluster_id: string;
  primary: AuroraCluster;
  replica: AuroraCluster;
}

export interface AuroraGlobalOptions {
  promote: NodeName;
  /** A planned switchover loses nothing; any other run fails over, allowing data loss. */
  planned: boolean;
  rds: (region: string) => RDSClient;
  cloudwatch: (region: string) => CloudWatchClient;
  maxWaitSeconds?: number;
  pollSeconds?: number;
  retry?: RetryOptions;
  sleep?: (ms: number) => Promise<void>;
  clock?: () => Date;
  /** How long a status look may take (the service's probe_timeout); decisions wait 10 s. */
  probeBudgetMs?: number;
}

const DECISION_BUDGET_MS = 10_000;

export function createAuroraGlobalProvider(
  database: AuroraGlobalDatabase,
  options: AuroraGlobalOptions,
): DatabaseProvider {
  const target = options.promote;
  const source = otherNode(target);
  const clusterOf = (node: NodeName) => database[node];
  const nameOf = (node: NodeName) =>
    `Aurora cluster ${clusterOf(node).cluster_id} (${clusterOf(node).region})`;
  const globalName = `Aurora global database ${database.global_cluster_id}`;
  const maxWaitSeconds = options.maxWaitSeconds ?? 1800;
  const pollSeconds = options.pollSeconds ?? 15;
  const clock = options.clock ?? (() => new Date());
  const sleep =
    options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));

  /** The global cluster, read in the target's region (which must work for a failover anyway). */
  const describeGlobal = (withinMs = DECISION_BUDGET_MS): Promise<GlobalCluster> =>
    withAwsRetry(
      globalName,
      async () => {
        const output = await options.rds(clusterOf(target).region).send(
          new (rdsSdk().DescribeGlobalClustersCommand)({
            GlobalClusterIdentifier: database.global_cluster_id,
          }),
          { abortSignal: AbortSignal.timeout(withinMs) },
        );
        const found = output.GlobalClusters?.find(
          (cluster) =>
            cluster.GlobalClusterIdentifier?.toLowerCase() ===
            database.global_cluster_id.toLowerCase(),
        );
        if (!found) throw new ProviderError(globalName, 'does not exist', true);
        return found;
      },
      { ...options.retry, attempts: withinMs < DECISION_BUDGET_MS ? 1 : options.retry?.attempts },
    );

  const memberOf = (global: GlobalCluster, node: NodeName): GlobalClusterMember => {
    const id = clusterOf(node).cluster_id;
    const member = global.GlobalClusterMembers?.find((m) =>
      (m.DBClusterArn ?? '').endsWith(`:cluster:${id}`),
    );
    if (!member)
      throw new ProviderError(
        nameOf(node),
        `is not a member of ${globalName} (members: ${(global.GlobalClusterMembers ?? []).map((m) => m.DBClusterArn).join(', ') || 'none'})`,
        true,
      );
    return member;
  };

  const switching = (global: GlobalCluster): string | null =>
    global.FailoverState?.Status ? `${global.FailoverState.Status}` : null;

  async function probe(node: NodeName, purpose: ProbePurpose = 'decision'): Promise<NodeProbe> {
    const base = { node, name: nameOf(node), walLsn: null };
    let global: GlobalCluster;
    let member: GlobalClusterMember;
    try {
      global = await describeGlobal(
        purpose === 'status' ? (options.probeBudgetMs ?? DECISION_BUDGET_MS) : DECISION_BUDGET_MS,
      );
      member = memberOf(global, node);
    } catch (error) {
      return unreadable(node, nameOf(node), error);
    }
    const transition = switching(global);
    const during = transition ? ` (the global database is ${transition})` : '';
    if (member.IsWriter)
      return {
        ...base,
        role: 'writable',
        streaming: false,
        streamingFrom: null,
        detail: `${nameOf(node)} is the writer of ${globalName}${during}`,
      };
    const other = otherNode(node);
    const otherIsWriter = global.GlobalClusterMembers?.some(
      (m) =>
        m.IsWriter && (m.DBClusterArn ?? '').endsWith(`:cluster:${clusterOf(other).cluster_id}`),
    );
    return {
      ...base,
      role: 'standby',
      streaming: otherIsWriter === true,
      streamingFrom: otherIsWriter ? other : null,
      detail: `${nameOf(node)} is a secondary of ${globalName}${during}`,
    };
  }

  const lagSeconds = async (node: NodeName): Promise<number | null> => {
    const now = clock();
    const lag = await latestMaximum(
      options.cloudwatch(clusterOf(node).region),
      {
        name: 'AuroraGlobalDBReplicationLag',
        dimension: 'DBClusterIdentifier',
        of: clusterOf(node).cluster_id,
      },
      new Date(now.getTime() - 10 * 60_000),
      now,
      options.retry,
    );
    return lag === null ? null : lag.value / 1000; // milliseconds
  };

  const nothingToFence = () =>
    `${globalName}: Aurora demotes the old writer itself when a switchover or failover makes the other cluster the writer, so lifeboat does not fence it`;

  return {
    target,
    source,
    targetName: nameOf(target),
    sourceName: nameOf(source),
    nameOf,
    probe,
    promotionFences: true,
    describePromotion: () =>
      options.planned
        ? `Make ${nameOf(target)} the writer of ${globalName} with SwitchoverGlobalCluster: Aurora waits until it has everything ${nameOf(source)} wrote, then swaps the roles — nothing is lost; ${nameOf(source)} becomes a secondary.`
        : `Make ${nameOf(target)} the writer of ${globalName} at once with FailoverGlobalCluster and AllowDataLoss: what ${nameOf(source)} had not replicated is lost (the RPO gate shows how much). One-way until ${nameOf(source)} rejoins as a secondary.`,
    describeFence: () => nothingToFence(),
    fenceDisabled: () => nothingToFence(),
    beforeFence: () => Promise.resolve({}),
    fence: () => Promise.reject(new ProviderError(globalName, nothingToFence(), true)),
    unfence: () => Promise.reject(new ProviderError(globalName, nothingToFence(), true)),
    async waitForReplay(node) {
      // SwitchoverGlobalCluster itself waits until the secondary has everything.
      const lag = await lagSeconds(node);
      return {
        replayLsn: '',
        detail: `${nameOf(node)}: AuroraGlobalDBReplicationLag ${lag === null ? 'has no recent datapoint' : `${lag} s`}; a planned switchover waits until it has everything before it switches`,
      };
    },
    async replicaStatus(standby, writer, rpoSeconds) {
      const [standbyProbe, lag] = await Promise.all([
        probe(standby, 'status'),
        lagSeconds(standby),
      ]);
      const follows = standbyProbe.role === 'standby' && standbyProbe.streamingFrom === writer;
      const ok = follows && lag !== null && lag <= rpoSeconds;
      return {
        ok,
        lagSeconds: lag,
        lagBytes: null,
        detail: `${standbyProbe.detail}; AuroraGlobalDBReplicationLag ${lag === null ? 'has no recent datapoint' : `${lag} s`}`,
      };
    },
    rebuild: {
      mode: 'manual',
      instructions: (standby, writer) =>
        `After a failover, Aurora adds ${nameOf(standby)} back to ${globalName} as a secondary of ${nameOf(writer)} once its region is back (check with \`aws rds describe-global-clusters --global-cluster-identifier ${database.global_cluster_id}\`); if it does not, remove it from the global database and add a new secondary cluster in ${clusterOf(standby).region}.`,
    },
    async measureLag() {
      const global = await describeGlobal();
      if (memberOf(global, target).IsWriter)
        return {
          lagSeconds: 0,
          lagBytes: null,
          source: 'replica',
          primaryReachable: false,
          targetIsReplica: false,
          bound: 'exact',
          detail: `${nameOf(target)} is already the writer of ${globalName}`,
        };
      const lag = await lagSeconds(target);
      return {
        lagSeconds: lag,
        lagBytes: null,
        source: 'replica',
        primaryReachable: true,
        targetIsReplica: true,
        // A planned switchover waits until nothing is left; a failover loses what the lag holds, or more.
        bound: options.planned ? 'exact' : 'lower-bound',
        detail: `${nameOf(target)}: AuroraGlobalDBReplicationLag ${lag === null ? 'has no recent datapoint' : `${lag} s`}${options.planned ? ' (SwitchoverGlobalCluster waits until it has everything)' : ''}`,
      };
    },
    async preflight() {
      const global = await describeGlobal();
      memberOf(global, target);
      const transition = switching(global);
      if (transition && !memberOf(global, target).IsWriter)
        throw new ProviderError(
          globalName,
          `is ${transition} already (from ${global.FailoverState?.FromDbClusterArn} to ${global.FailoverState?.ToDbClusterArn}): wait until it is done, then retry`,
          false,
        );
    },
    async promote(promoteOptions?: { onProgress?: OnProgress }) {
      const before = await describeGlobal();
      if (memberOf(before, target).IsWriter && !switching(before))
        return {
          alreadyPrimary: true,
          detail: `${nameOf(target)} is already the writer of ${globalName}`,
        };
      const targetArn = memberOf(before, target).DBClusterArn!;
      const call = options.planned ? 'SwitchoverGlobalCluster' : 'FailoverGlobalCluster';
      if (!switching(before))
        await withAwsRetry(
          globalName,
          () =>
            options.rds(clusterOf(target).region).send(
              options.planned
                ? new (rdsSdk().SwitchoverGlobalClusterCommand)({
                    GlobalClusterIdentifier: database.global_cluster_id,
                    TargetDbClusterIdentifier: targetArn,
                  })
                : new (rdsSdk().FailoverGlobalClusterCommand)({
                    GlobalClusterIdentifier: database.global_cluster_id,
                    TargetDbClusterIdentifier: targetArn,
                    AllowDataLoss: true,
                  }),
            ),
          options.retry,
        );
      const deadline = Date.now() + maxWaitSeconds * 1000;
      await reportWhileWaiting(
        `${globalName} ${call}`,
        promoteOptions?.onProgress,
        async (seen) => {
          for (;;) {
            const global = await describeGlobal();
            const transition = switching(global);
            if (memberOf(global, target).IsWriter && !transition) return;
            seen(transition ?? global.Status ?? 'unknown');
            if (Date.now() > deadline)
              throw new ProviderError(
                globalName,
                `${nameOf(target)} is not the writer ${maxWaitSeconds} s after ${call} (${transition ?? global.Status})`,
                false,
              );
            await sleep(pollSeconds * 1000);
          }
        },
      );
      return {
        alreadyPrimary: false,
        detail: `${nameOf(target)} is the writer of ${globalName} after ${call}${options.planned ? ' (no data lost: Aurora waited until it had everything)' : ' (AllowDataLoss: what the old writer had not replicated is lost)'}`,
      };
    },
    async isTargetPrimary() {
      const global = await describeGlobal();
      return memberOf(global, target).IsWriter === true && !switching(global);
    },
    async verifyWritable(token) {
      const url = clusterOf(target).url;
      if (!url)
        throw new ProviderError(
          nameOf(target),
          `set a url: (postgres://… on the cluster's writer endpoint) for ${clusterOf(target).cluster_id} in lifeboat.yml so lifeboat can write a test row`,
          true,
        );
      return createPostgresProvider({ primary: url, replica: url }).verifyWritable(token);
    },
    async targetEndpoint() {
      const cluster = clusterOf(target);
      const output = await withAwsRetry(
        nameOf(target),
        () =>
          options
            .rds(cluster.region)
            .send(
              new (rdsSdk().DescribeDBClustersCommand)({ DBClusterIdentifier: cluster.cluster_id }),
            ),
        options.retry,
      );
      const endpoint = output.DBClusters?.[0]?.Endpoint;
      if (!endpoint) throw new ProviderError(nameOf(target), 'has no writer endpoint yet', false);
      return endpoint;
    },
  };
}
