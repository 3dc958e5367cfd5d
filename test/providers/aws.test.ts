// AWS providers against the SDK's own types, mocked at the client boundary (aws-sdk-client-mock):
// realistic sequences of states, throttling, and permanent errors.

import { CloudWatchClient, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import {
  DescribeDBInstancesCommand,
  PromoteReadReplicaCommand,
  RDSClient,
  type DBInstance,
} from '@aws-sdk/client-rds';
import {
  ChangeResourceRecordSetsCommand,
  GetChangeCommand,
  ListResourceRecordSetsCommand,
  Route53Client,
} from '@aws-sdk/client-route-53';
import {
  GetRoutingControlStateCommand,
  Route53RecoveryClusterClient,
  UpdateRoutingControlStateCommand,
} from '@aws-sdk/client-route53-recovery-cluster';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { ProviderError } from '../../src/errors.js';
import { createRoutingControlProvider } from '../../src/providers/aws/arc.js';
import { createRdsProvider } from '../../src/providers/aws/rds.js';
import { withAwsRetry } from '../../src/providers/aws/retry.js';
import { createRoute53Provider, route53RegionFor } from '../../src/providers/aws/route53.js';

const rds = mockClient(RDSClient);
const cloudwatch = mockClient(CloudWatchClient);
const route53 = mockClient(Route53Client);
const arc = mockClient(Route53RecoveryClusterClient);

afterEach(() => {
  rds.reset();
  cloudwatch.reset();
  route53.reset();
  arc.reset();
});

const noWait = { sleep: () => Promise.resolve(), random: () => 0.5 };

function awsError(name: string, message: string, status: number): Error {
  return Object.assign(new Error(message), {
    name,
    $metadata: { httpStatusCode: status },
    $fault: status >= 500 ? 'server' : 'client',
  });
}

function instance(status: string, isReplica: boolean): DBInstance {
  return {
    DBInstanceIdentifier: 'production-dr',
    DBInstanceStatus: status,
    ReadReplicaSourceDBInstanceIdentifier: isReplica
      ? 'arn:aws:rds:us-east-1:111122223333:db:production-primary'
      : undefined,
    Endpoint: { Address: 'production-dr.abc123.us-west-2.rds.amazonaws.com', Port: 5432 },
    StatusInfos: isReplica
      ? [{ StatusType: 'read replication', Status: 'replicating', Normal: true }]
      : [],
  };
}

function provider(maxWaitSeconds = 30) {
  return createRdsProvider(
    {
      primary: { id: 'production-primary', region: 'us-east-1' },
      replica: { id: 'production-dr', region: 'us-west-2' },
      fence: { mode: 'security-group', fence_security_group_ids: ['sg-0fence'] },
    },
    {
      promote: 'replica',
      rds: () => new RDSClient({ region: 'us-west-2' }),
      cloudwatch: () => new CloudWatchClient({ region: 'us-west-2' }),
      pollSeconds: 1,
      maxWaitSeconds,
      retry: noWait,
      sleep: () => Promise.resolve(),
    },
  );
}

describe('RDS provider', () => {
  it('refuses to promote a replica that is modifying, naming its state', async () => {
    rds.on(DescribeDBInstancesCommand).resolves({ DBInstances: [instance('modifying', true)] });
    await expect(provider().preflight()).rejects.toThrow(
      'RDS production-dr (us-west-2): is modifying, not available: RDS cannot promote it until it is available (wait, then retry the step)',
    );
  });

  it('promotes an available replica and waits until it is available and standalone', async () => {
    rds
      .on(DescribeDBInstancesCommand)
      .resolvesOnce({ DBInstances: [instance('available', true)] }) // preflight
      .resolvesOnce({ DBInstances: [instance('available', true)] }) // promote: still a replica
      .resolvesOnce({ DBInstances: [instance('modifying', false)] }) // waiter, first poll
      .resolves({ DBInstances: [instance('available', false)] });
    rds.on(PromoteReadReplicaCommand).resolves({});
    const db = provider();
    await db.preflight();
    const result = await db.promote();
    expect(result).toEqual({
      alreadyPrimary: false,
      detail: 'RDS production-dr (us-west-2) promoted with PromoteReadReplica and available',
    });
    expect(rds.commandCalls(PromoteReadReplicaCommand)).toHaveLength(1);
    expect(await db.isTargetPrimary()).toBe(true);
    expect(await db.targetEndpoint()).toBe('production-dr.abc123.us-west-2.rds.amazonaws.com');
  });

  it('says what it waits for while RDS promotes: each new status, with the time so far', async () => {
    rds
      .on(DescribeDBInstancesCommand)
      .resolvesOnce({ DBInstances: [instance('available', true)] }) // before: a replica
      .resolvesOnce({ DBInstances: [instance('modifying', true)] })
      .resolvesOnce({ DBInstances: [instance('modifying', true)] })
      .resolvesOnce({ DBInstances: [instance('modifying', false)] })
      .resolves({ DBInstances: [instance('available', false)] });
    rds.on(PromoteReadReplicaCommand).resolves({});
    const heard: string[] = [];
    await provider().promote({ onProgress: (text) => heard.push(text) });
    expect(heard).toEqual([
      'RDS production-dr (us-west-2) promoting: modifying, still a replica, 0s so far',
      'RDS production-dr (us-west-2) promoting: modifying, 0s so far',
    ]);
    expect(rds.commandCalls(DescribeDBInstancesCommand)).toHaveLength(5);
  });

  it('stops waiting on a promotion that failed, or that outlasts its budget, naming the state', async () => {
    rds
      .on(DescribeDBInstancesCommand)
      .resolvesOnce({ DBInstances: [instance('available', true)] })
      .resolves({ DBInstances: [instance('incompatible-parameters', true)] });
    rds.on(PromoteReadReplicaCommand).resolves({});
    await expect(provider().promote()).rejects.toThrow(
      'RDS production-dr (us-west-2): is incompatible-parameters after PromoteReadReplica',
    );

    rds
      .on(DescribeDBInstancesCommand)
      .resolvesOnce({ DBInstances: [instance('available', true)] })
      .resolves({ DBInstances: [instance('modifying', true)] });
    await expect(provider(0).promote()).rejects.toThrow(
      'RDS production-dr (us-west-2): is modifying and still a replica 0 s after PromoteReadReplica',
    );
  });

  it('treats a replica that is already standalone as promoted (idempotent)', async () => {
    rds.on(DescribeDBInstancesCommand).resolves({ DBInstances: [instance('available', false)] });
    expect(await provider().promote()).toMatchObject({ alreadyPrimary: true });
    expect(rds.commandCalls(PromoteReadReplicaCommand)).toHaveLength(0);
  });

  it('retries throttling, then succeeds', async () => {
    rds
      .on(DescribeDBInstancesCommand)
      .rejectsOnce(awsError('Throttling', 'Rate exceeded', 400))
      .rejectsOnce(awsError('ServiceUnavailable', 'try again', 503))
      .resolves({ DBInstances: [instance('available', true)] });
    await provider().preflight();
    expect(rds.commandCalls(DescribeDBInstancesCommand)).toHaveLength(3);
  });

  it("stops at once on AccessDenied and InvalidDBInstanceState, with AWS's message and the resource", async () => {
    rds.on(DescribeDBInstancesCommand).resolves({ DBInstances: [instance('available', true)] });
    rds
      .on(PromoteReadReplicaCommand)
      .rejects(
        awsError('AccessDenied', 'User is not authorized to perform: rds:PromoteReadReplica', 403),
      );
    const error = await provider()
      .promote()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProviderError);
    expect((error as ProviderError).permanent).toBe(true);
    expect((error as Error).message).toBe(
      'RDS production-dr (us-west-2): AccessDenied: User is not authorized to perform: rds:PromoteReadReplica',
    );
    expect(rds.commandCalls(PromoteReadReplicaCommand)).toHaveLength(1);

    rds
      .on(PromoteReadReplicaCommand)
      .rejects(awsError('InvalidDBInstanceState', 'DB Instance is not in an available state', 400));
    await expect(provider().promote()).rejects.toThrow(
      'RDS production-dr (us-west-2): InvalidDBInstanceState: DB Instance is not in an available state',
    );
  });

  it('reads ReplicaLag from CloudWatch and the replication state from RDS', async () => {
    rds
      .on(DescribeDBInstancesCommand, { DBInstanceIdentifier: 'production-dr' })
      .resolves({ DBInstances: [instance('available', true)] });
    rds
      .on(DescribeDBInstancesCommand, { DBInstanceIdentifier: 'production-primary' })
      .rejects(awsError('InternalFailure', 'region down', 500));
    cloudwatch
      .on(GetMetricDataCommand)
      .resolves({ MetricDataResults: [{ Id: 'lag', Values: [42, 12] }] });
    const lag = await provider().measureLag();
    expect(lag).toMatchObject({
      lagSeconds: 42,
      targetIsReplica: true,
      primaryReachable: false,
      bound: 'lower-bound',
    });
    expect(lag.detail).toBe(
      'RDS production-dr (us-west-2): ReplicaLag 42 s, replication replicating; RDS production-primary (us-east-1) does not answer: InternalFailure: region down',
    );
  });
});

describe('Route 53 record switch', () => {
  const dns = () =>
    createRoute53Provider(
      { zone_id: 'Z1234567890', record: 'db.example.com', type: 'CNAME', ttl: 60 },
      {
        client: new Route53Client({ region: 'us-east-1' }),
        pollSeconds: 1,
        maxWaitSeconds: 30,
        retry: noWait,
        sleep: () => Promise.resolve(),
      },
    );

  it('upserts the record to the DR endpoint and waits for PENDING to become INSYNC', async () => {
    route53
      .on(ListResourceRecordSetsCommand)
      .resolvesOnce({
        ResourceRecordSets: [
          {
            Name: 'db.example.com.',
            Type: 'CNAME',
            TTL: 60,
            ResourceRecords: [{ Value: 'production-primary.us-east-1.rds.amazonaws.com' }],
          },
        ],
        IsTruncated: false,
        MaxItems: 1,
      })
      .resolves({
        ResourceRecordSets: [
          {
            Name: 'db.example.com.',
            Type: 'CNAME',
            TTL: 60,
            ResourceRecords: [{ Value: 'production-dr.us-west-2.rds.amazonaws.com' }],
          },
        ],
        IsTruncated: false,
        MaxItems: 1,
      });
    route53
      .on(ChangeResourceRecordSetsCommand)
      .resolves({ ChangeInfo: { Id: '/change/C1', Status: 'PENDING', SubmittedAt: new Date() } });
    route53
      .on(GetChangeCommand)
      .resolvesOnce({
        ChangeInfo: { Id: '/change/C1', Status: 'PENDING', SubmittedAt: new Date() },
      })
      .resolves({ ChangeInfo: { Id: '/change/C1', Status: 'INSYNC', SubmittedAt: new Date() } });
    const heard: string[] = [];
    const result = await dns().switchTo('production-dr.us-west-2.rds.amazonaws.com', {
      onProgress: (text) => heard.push(text),
    });
    expect(heard).toEqual([
      'Route 53 CNAME db.example.com (zone Z1234567890): change /change/C1: PENDING, 0s so far',
    ]);
    expect(result.detail).toBe(
      'db.example.com now points at production-dr.us-west-2.rds.amazonaws.com (change /change/C1 INSYNC)',
    );
    const change = route53.commandCalls(ChangeResourceRecordSetsCommand)[0]!.args[0].input;
    expect(change.ChangeBatch?.Changes?.[0]).toMatchObject({
      Action: 'UPSERT',
      ResourceRecordSet: { Name: 'db.example.com.', Type: 'CNAME', TTL: 60 },
    });
    expect(route53.commandCalls(GetChangeCommand).length).toBeGreaterThanOrEqual(2);
    expect(await dns().pointsAt('production-dr.us-west-2.rds.amazonaws.com')).toMatchObject({
      ok: true,
    });
  });

  it('matches the record and its value as DNS does: any case, with or without the trailing dot', async () => {
    route53.on(ListResourceRecordSetsCommand).resolves({
      ResourceRecordSets: [
        {
          Name: 'DB.Example.com.',
          Type: 'CNAME',
          TTL: 60,
          ResourceRecords: [{ Value: 'Production-DR.us-west-2.rds.amazonaws.com.' }],
        },
      ],
      IsTruncated: false,
      MaxItems: 1,
    });
    expect(await dns().pointsAt('production-dr.us-west-2.rds.amazonaws.com')).toMatchObject({
      ok: true,
    });
    expect((await dns().switchTo('production-dr.US-WEST-2.rds.amazonaws.com')).detail).toBe(
      'db.example.com already points at production-dr.US-WEST-2.rds.amazonaws.com',
    );
    expect(route53.commandCalls(ChangeResourceRecordSetsCommand)).toHaveLength(0);
  });

  it("talks to the Route 53 control plane of the databases' partition", () => {
    expect(route53RegionFor('us-west-2')).toBe('us-east-1');
    expect(route53RegionFor('eu-central-1')).toBe('us-east-1');
    expect(route53RegionFor('us-gov-east-1')).toBe('us-gov-west-1');
    expect(route53RegionFor('cn-north-1')).toBe('cn-northwest-1');
    expect(route53RegionFor(null)).toBe('us-east-1');
  });

  it('stops on NoSuchHostedZone with the zone named', async () => {
    route53
      .on(ListResourceRecordSetsCommand)
      .rejects(awsError('NoSuchHostedZone', 'No hosted zone found with ID: Z1234567890', 404));
    await expect(dns().switchTo('x')).rejects.toThrow(
      'Route 53 CNAME db.example.com (zone Z1234567890): NoSuchHostedZone: No hosted zone found with ID: Z1234567890',
    );
  });
});

describe('Route 53 ARC routing control', () => {
  it('tries each cluster endpoint in turn until one answers', async () => {
    const endpoints = [
      { url: 'https://aaaa.us-east-1.example.aws/v1', region: 'us-east-1' },
      { url: 'https://bbbb.us-west-2.example.aws/v1', region: 'us-west-2' },
    ];
    const clients = endpoints.map((e) => new Route53RecoveryClusterClient({ region: e.region }));
    arc
      .on(UpdateRoutingControlStateCommand)
      .rejectsOnce(Object.assign(new Error('connect ETIMEDOUT'), { code: 'ETIMEDOUT' }))
      .rejectsOnce(Object.assign(new Error('connect ETIMEDOUT'), { code: 'ETIMEDOUT' }))
      .resolves({});
    arc
      .on(GetRoutingControlStateCommand)
      .resolves({ RoutingControlArn: 'arn', RoutingControlState: 'On' });
    const control = createRoutingControlProvider(
      {
        routing_control_arn:
          'arn:aws:route53-recovery-control::111122223333:controlpanel/abc/routingcontrol/dr',
        cluster_endpoints: endpoints,
      },
      {
        state: 'On',
        clientFor: (endpoint) => clients[endpoints.indexOf(endpoint)]!,
        retry: noWait,
      },
    );
    expect(await control.switchTo('')).toEqual({
      detail:
        'routing control arn:aws:route53-recovery-control::111122223333:controlpanel/abc/routingcontrol/dr set to On',
    });
    expect(arc.commandCalls(UpdateRoutingControlStateCommand)).toHaveLength(3);
    expect(arc.commandCalls(UpdateRoutingControlStateCommand)[2]!.args[0].input).toEqual({
      RoutingControlArn:
        'arn:aws:route53-recovery-control::111122223333:controlpanel/abc/routingcontrol/dr',
      RoutingControlState: 'On',
    });
    expect(await control.pointsAt('')).toMatchObject({ ok: true });
  });
});

describe('withAwsRetry', () => {
  it('backs off with jitter and gives up after the attempts, saying how many', async () => {
    const delays: number[] = [];
    const failing = () => Promise.reject(awsError('ThrottlingException', 'slow down', 400));
    await expect(
      withAwsRetry('thing', failing, {
        attempts: 4,
        baseDelayMs: 100,
        sleep: (ms) => (delays.push(ms), Promise.resolve()),
        random: () => 1,
      }),
    ).rejects.toThrow('thing: ThrottlingException: slow down (after 4 attempts)');
    expect(delays).toEqual([100, 200, 400]);
  });
});
