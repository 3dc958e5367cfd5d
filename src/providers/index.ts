// Builds the providers of one service for one run. The run decides direction: a failback promotes
// the configured primary (rebuilt as a replica) and sets the routing control back Off; a switchover
// promotes whichever node is not the writer now.

import type { Service } from '../config.js';
import { parseDurationSeconds } from '../duration.js';
import { configuredTarget, type RunKind } from '../run-kind.js';
import type { DnsProvider, NodeName, ServiceProviders } from './types.js';
import { createRoutingControlProvider } from './aws/arc.js';
import { createAuroraGlobalProvider } from './aws/aurora-global.js';
import { createRdsProvider } from './aws/rds.js';
import { createRoute53Provider, route53RegionFor } from './aws/route53.js';
import { createRoute53FailoverProvider } from './aws/route53-failover.js';
import { createRoute53WeightedProvider } from './aws/route53-weighted.js';
import { createS3BackupStore, createS3Client, S3RVER_CREDENTIALS } from './aws/s3.js';
import { createSnapshotStore } from './aws/rds-snapshots.js';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  autoScalingSdk,
  cloudWatchSdk,
  rdsSdk,
  recoveryClusterSdk,
  route53Sdk,
} from './aws/sdk.js';
import { createAppScaling } from './aws/autoscaling.js';
import { namingCalls } from './aws/retry.js';
import { apiHandler, type AwsTimeouts } from './aws/timeouts.js';
import { createPostgresProvider } from './postgres/index.js';

export interface ProviderOptions {
  /** For an S3-compatible store with its own keys (local mode's s3rver); else the SDK's chain. */
  s3Credentials?: { accessKeyId: string; secretAccessKey: string };
  /** The node the run promotes; by default the replica (the primary for a failback). */
  promote?: NodeName;
  /** How long AWS calls may take (tests shorten them). */
  awsTimeouts?: AwsTimeouts;
  /** How often a long AWS wait (a promotion, a DNS change) looks again; tests shorten it. */
  awsPollSeconds?: number;
}

export function createServiceProviders(
  service: Service | null,
  kind: RunKind,
  options: ProviderOptions = {},
): ServiceProviders {
  if (!service) return { database: null, dns: null, backups: null };
  const promote = options.promote ?? configuredTarget(kind);
  const state = promote === 'primary' ? 'Off' : 'On';
  const requestHandler = apiHandler(options.awsTimeouts);
  const probeBudgetMs = parseDurationSeconds(service.database.probe_timeout)! * 1000;
  const clients = {
    rds: cached((region) =>
      namingCalls(new (rdsSdk().RDSClient)({ region, maxAttempts: 1, requestHandler })),
    ),
    cloudwatch: cached((region) =>
      namingCalls(
        new (cloudWatchSdk().CloudWatchClient)({ region, maxAttempts: 1, requestHandler }),
      ),
    ),
  };
  const aws = { promote, probeBudgetMs, pollSeconds: options.awsPollSeconds, ...clients };
  const database =
    service.database.provider === 'postgres'
      ? createPostgresProvider(service.database, { promote, probeBudgetMs })
      : service.database.provider === 'aurora-global'
        ? createAuroraGlobalProvider(service.database, { ...aws, planned: kind === 'switchover' })
        : createRdsProvider(service.database, aws);
  const dns = service.dns ? createDnsProvider(service, state, requestHandler, options) : null;
  const backups = service.backups
    ? createS3BackupStore(service.backups, {
        client: createS3Client(
          service.backups,
          options.s3Credentials ??
            (service.backups.credentials === 's3rver' ? S3RVER_CREDENTIALS : undefined),
          options.awsTimeouts,
        ),
      })
    : null;
  const snapshots =
    service.database.provider === 'aws-rds' && service.snapshots
      ? createSnapshotStore(service.database, service.snapshots.copy_to, {
          rds: clients.rds,
          clock: () => new Date(),
          sleep: (ms) => sleep(ms),
          pollSeconds: options.awsPollSeconds ?? 15,
          maxWaitSeconds: 4 * 3600, // a big instance's snapshot, then its copy, take hours
          ...(service.snapshots.kms_key_id ? { kmsKeyId: service.snapshots.kms_key_id } : {}),
        })
      : null;
  const appScaling = service.appScaling
    ? createAppScaling(service.appScaling, {
        client: namingCalls(
          new (autoScalingSdk().AutoScalingClient)({
            region: service.appScaling.region,
            maxAttempts: 1,
            requestHandler,
          }),
        ),
        clock: () => new Date(),
        sleep: (ms) => sleep(ms),
        pollSeconds: options.awsPollSeconds ?? 15,
        maxWaitSeconds: 1800,
      })
    : null;
  return { database, dns, backups, snapshots, appScaling };
}

function createDnsProvider(
  service: Service,
  state: 'On' | 'Off',
  requestHandler: ReturnType<typeof apiHandler>,
  options: ProviderOptions,
): DnsProvider | null {
  const dns = service.dns;
  if (!dns) return null;
  if (dns.mode === 'routing-control')
    return createRoutingControlProvider(dns, {
      state,
      clientFor: (endpoint) =>
        namingCalls(
          new (recoveryClusterSdk().Route53RecoveryClusterClient)({
            region: endpoint.region,
            endpoint: endpoint.url,
            maxAttempts: 1,
            requestHandler,
          }),
        ),
    });
  const client = namingCalls(
    new (route53Sdk().Route53Client)({
      // The partition's Route 53 region, from where the service's databases live.
      region: route53RegionFor(
        service.database.provider === 'postgres' ? null : service.database.replica.region,
      ),
      maxAttempts: 1,
      requestHandler,
    }),
  );
  if (dns.mode === 'failover-routing') return createRoute53FailoverProvider(dns, { client });
  if (dns.mode === 'weighted')
    return createRoute53WeightedProvider(dns, { client, pollSeconds: options.awsPollSeconds });
  return createRoute53Provider(dns, { client, pollSeconds: options.awsPollSeconds });
}

function cached<T>(make: (region: string) => T): (region: string) => T {
  const clients = new Map<string, T>();
  return (region) => {
    let client = clients.get(region);
    if (!client) clients.set(region, (client = make(region)));
    return client;
  };
}
