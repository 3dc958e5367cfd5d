// Amazon RDS: promote a cross-region read replica (PromoteReadReplica, then wait until it is
// available and standalone), with a pre-flight that refuses a replica that is not `available`.
// ReplicaLag is a CloudWatch metric, not a DescribeDBInstances field, so lag comes from there.
// The fence (security groups that let no client in, or StopDBInstance) and the rebuilt replica
// live in rds-nodes.ts.

import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import type { DBInstance, RDSClient } from '@aws-sdk/client-rds';
import { rdsSdk } from './sdk.js';
import { ProviderError } from '../../errors.js';
import { createPostgresProvider } from '../postgres/index.js';
import {
  notAReplica,
  type DatabaseProvider,
  type LagMeasurement,
  type NodeName,
  type OnProgress,
} from '../types.js';
import { reportWhileWaiting } from '../progress.js';
import { latestReplicaLag } from './replica-lag.js';
import { withAwsRetry, type RetryOptions } from './retry.js';
import {
  createRdsNodes,
  refuseUnsupported,
  type RdsDatabase,
  type RdsInstance,
} from './rds-nodes.js';

export type { RdsDatabase, RdsInstance } from './rds-nodes.js';

export interface RdsProviderOptions {
  promote: NodeName;
  rds: (region: string) => RDSClient;
  cloudwatch: (region: string) => CloudWatchClient;
  /** Seconds to wait for promotion; polls every `pollSeconds`. */
  maxWaitSeconds?: number;
  pollSeconds?: number;
  retry?: RetryOptions;
  clock?: () => Date;
  sleep?: (ms: number) => Promise<void>;
  /** How long a status look at an instance may take (the service's probe_timeout). */
  probeBudgetMs?: number;
}

export function createRdsProvider(
  database: RdsDatabase,
  options: RdsProviderOptions,
): DatabaseProvider {
  const target = options.promote === 'replica' ? database.replica : database.primary;
  const source = options.promote === 'replica' ? database.primary : database.replica;
  const sourceNode: NodeName = options.promote === 'replica' ? 'primary' : 'replica';
  const name = (instance: RdsInstance) => `RDS ${instance.id} (${instance.region})`;
  const maxWaitSeconds = options.maxWaitSeconds ?? 1800;
  const pollSeconds = options.pollSeconds ?? 15;
  const clock = options.clock ?? (() => new Date());
  const sleep =
    options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));

  const describe = (instance: RdsInstance): Promise<DBInstance> =>
    withAwsRetry(
      name(instance),
      async () => {
        const output = await options
          .rds(instance.region)
          .send(new (rdsSdk().DescribeDBInstancesCommand)({ DBInstanceIdentifier: instance.id }));
        const found = output.DBInstances?.[0];
        if (!found)
          throw new ProviderError(name(instance), 'DescribeDBInstances returned no instance', true);
        refuseUnsupported(name(instance), found);
        return found;
      },
      options.retry,
    );

  const nodes = createRdsNodes(database, {
    rds: options.rds,
    cloudwatch: options.cloudwatch,
    name,
    describe,
    maxWaitSeconds,
    pollSeconds,
    retry: options.retry,
    clock,
    sleep,
    statusBudgetMs: options.probeBudgetMs,
  });

  const rds: RdsTarget = {
    target,
    sourceNode,
    name,
    describe,
    nodes,
    options,
    clock,
    sleep,
    maxWaitSeconds,
    pollSeconds,
  };
  return {
    ...nodes,
    target: options.promote,
    source: sourceNode,
    targetName: name(target),
    sourceName: name(source),
    measureLag: () => measureRdsLag(rds),
    async preflight() {
      const replica = await describe(target);
      const status = replica.DBInstanceStatus ?? 'unknown';
      if (status !== 'available') {
        throw new ProviderError(
          name(target),
          `is ${status}, not available: RDS cannot promote it until it is available (wait, then retry the step)`,
          true,
        );
      }
    },
    promote: (promoteOptions) => promoteRds(rds, promoteOptions?.onProgress),
    async isTargetPrimary() {
      const instance = await describe(target);
      return isStandalone(instance) && instance.DBInstanceStatus === 'available';
    },
    async verifyWritable(token) {
      if (!target.url) {
        throw new ProviderError(
          name(target),
          `set a url: (postgres://…) for ${target.id} in lifeboat.yml so lifeboat can write a test row`,
          true,
        );
      }
      return createPostgresProvider({ primary: target.url, replica: target.url }).verifyWritable(
        token,
      );
    },
    async targetEndpoint() {
      const address = (await describe(target)).Endpoint?.Address;
      if (!address) throw new ProviderError(name(target), 'has no endpoint address yet', false);
      return address;
    },
  };
}

/** What the provider's steps share: the instance to promote, its partner, and how to reach them. */
interface RdsTarget {
  target: RdsInstance;
  sourceNode: NodeName;
  name: (instance: RdsInstance) => string;
  describe: (instance: RdsInstance) => Promise<DBInstance>;
  nodes: ReturnType<typeof createRdsNodes>;
  options: RdsProviderOptions;
  clock: () => Date;
  sleep: (ms: number) => Promise<void>;
  maxWaitSeconds: number;
  pollSeconds: number;
}

const isStandalone = (instance: DBInstance) => !instance.ReadReplicaSourceDBInstanceIdentifier;

/** ReplicaLag from CloudWatch and the replication state, bounded by what the source says. */
async function measureRdsLag(rds: RdsTarget): Promise<LagMeasurement> {
  const { target, name, describe, nodes, options } = rds;
  const replica = await describe(target);
  if (isStandalone(replica)) {
    return notAReplica(`${name(target)} is not a read replica: it is already standalone`);
  }
  // The primary's region is optional here (lag is the replica region's CloudWatch metric): a
  // short look, so a region that hangs costs the status budget, not a decision's 10 s.
  const primary = await nodes.probe(rds.sourceNode, 'status');
  const now = rds.clock();
  const lag = await latestReplicaLag(
    options.cloudwatch(target.region),
    target.id,
    new Date(now.getTime() - 10 * 60_000),
    now,
    options.retry,
  );
  const lagSeconds = lag?.value ?? null;
  const replication = replica.StatusInfos?.find((info) => info.StatusType === 'read replication');
  const state = replication
    ? `replication ${replication.Status}${replication.Message ? ` (${replication.Message})` : ''}`
    : 'replication state unknown';
  const primaryAnswers = primary.role !== 'unreachable';
  return {
    lagSeconds,
    lagBytes: null,
    source: primaryAnswers ? 'primary' : 'replica',
    primaryReachable: primaryAnswers,
    targetIsReplica: true,
    // A fenced primary takes no writes: what the replica lacks now is all it will ever lack.
    bound: primary.role === 'fenced' ? 'exact' : 'lower-bound',
    detail: `${name(target)}: ReplicaLag ${lagSeconds === null ? 'has no recent datapoint' : `${lagSeconds} s`}, ${state}; ${primary.detail}`,
  };
}

/** Statuses an instance does not come back from by waiting (those the SDK's waiter gives up on). */
const HOPELESS = new Set([
  'deleted',
  'deleting',
  'failed',
  'incompatible-restore',
  'incompatible-parameters',
  'storage-full',
]);

/**
 * PromoteReadReplica, then wait until RDS reports the instance available and standalone, telling
 * `onProgress` the status seen at each poll (a real promotion takes minutes).
 */
async function promoteRds(
  rds: RdsTarget,
  onProgress?: OnProgress,
): Promise<{ alreadyPrimary: boolean; detail: string }> {
  const { target, name, describe, options, maxWaitSeconds, pollSeconds } = rds;
  const before = await describe(target);
  if (isStandalone(before))
    return {
      alreadyPrimary: true,
      detail: `${name(target)} is already standalone: nothing to promote`,
    };
  await withAwsRetry(
    name(target),
    () =>
      options
        .rds(target.region)
        .send(new (rdsSdk().PromoteReadReplicaCommand)({ DBInstanceIdentifier: target.id })),
    options.retry,
  );
  // Right after the call the instance can still read as an available replica: done only when RDS
  // reports it standalone and available.
  const deadline = Date.now() + maxWaitSeconds * 1000;
  await reportWhileWaiting(`${name(target)} promoting`, onProgress, async (seen) => {
    for (;;) {
      const after = await describe(target);
      const status = after.DBInstanceStatus ?? 'unknown';
      if (isStandalone(after) && status === 'available') return;
      if (HOPELESS.has(status))
        throw new ProviderError(name(target), `is ${status} after PromoteReadReplica`, false);
      seen(isStandalone(after) ? status : `${status}, still a replica`);
      if (Date.now() > deadline)
        throw new ProviderError(
          name(target),
          `is ${status}${isStandalone(after) ? '' : ' and still a replica'} ${maxWaitSeconds} s after PromoteReadReplica`,
          false,
        );
      await rds.sleep(pollSeconds * 1000);
    }
  });
  return {
    alreadyPrimary: false,
    detail: `${name(target)} promoted with PromoteReadReplica and available`,
  };
}
