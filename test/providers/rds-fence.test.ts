// The RDS fence, its undo, node probes and the rebuilt replica, against the SDK's own types mocked
// at the client boundary: the sequences of states RDS goes through (modifying → available with the
// new security groups, stopping → stopped, renaming, creating → available).

import { CloudWatchClient, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import {
  CreateDBInstanceReadReplicaCommand,
  DBInstanceNotFoundFault,
  DescribeDBInstancesCommand,
  ModifyDBInstanceCommand,
  RDSClient,
  StopDBInstanceCommand,
  type DBInstance,
} from '@aws-sdk/client-rds';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { ProviderError } from '../../src/errors.js';
import { createRdsProvider, type RdsDatabase } from '../../src/providers/aws/rds.js';

const rds = mockClient(RDSClient);
const cloudwatch = mockClient(CloudWatchClient);
afterEach(() => {
  rds.reset();
  cloudwatch.reset();
});

const PRIMARY_ARN = 'arn:aws:rds:us-east-1:111122223333:db:production-primary';

function instance(id: string, fields: Partial<DBInstance> = {}): DBInstance {
  return {
    DBInstanceIdentifier: id,
    DBInstanceArn: `arn:aws:rds:us-east-1:111122223333:db:${id}`,
    DBInstanceStatus: 'available',
    VpcSecurityGroups: [{ VpcSecurityGroupId: 'sg-0a99', Status: 'active' }],
    Endpoint: { Address: `${id}.abc123.rds.amazonaws.com`, Port: 5432 },
    ...fields,
  };
}

const replicaOf = (id: string, source = PRIMARY_ARN): DBInstance =>
  instance(id, {
    ReadReplicaSourceDBInstanceIdentifier: source,
    StatusInfos: [{ StatusType: 'read replication', Status: 'replicating', Normal: true }],
  });

function provider(fence: RdsDatabase['fence'], promote: 'replica' | 'primary' = 'replica') {
  let now = Date.parse('2026-11-24T03:00:00Z');
  return createRdsProvider(
    {
      primary: { id: 'production-primary', region: 'us-east-1' },
      replica: { id: 'production-dr', region: 'us-west-2' },
      fence,
      rebuild: { instance_class: 'db.r6g.large' },
    },
    {
      promote,
      rds: () => new RDSClient({ region: 'us-east-1' }),
      cloudwatch: () => new CloudWatchClient({ region: 'us-west-2' }),
      pollSeconds: 1,
      maxWaitSeconds: 60,
      retry: { sleep: () => Promise.resolve(), random: () => 0.5 },
      clock: () => new Date(now),
      sleep: (ms) => Promise.resolve(void (now += ms)),
    },
  );
}

const sgFence = { mode: 'security-group' as const, fence_security_group_ids: ['sg-0fe0ce'] };
const describeOf = (id: string) => ({ DBInstanceIdentifier: id });

describe('RDS nodes', () => {
  it('tell writable, fenced, replicating and not answering apart', async () => {
    const db = provider(sgFence);
    rds.on(DescribeDBInstancesCommand, describeOf('production-primary')).resolves({
      DBInstances: [instance('production-primary')],
    });
    rds.on(DescribeDBInstancesCommand, describeOf('production-dr')).resolves({
      DBInstances: [replicaOf('production-dr')],
    });
    expect(await db.probe('primary')).toMatchObject({ role: 'writable' });
    expect(await db.probe('replica')).toMatchObject({
      role: 'standby',
      streaming: true,
      streamingFrom: 'primary',
    });
    rds.on(DescribeDBInstancesCommand, describeOf('production-primary')).resolves({
      DBInstances: [instance('production-primary', { DBInstanceStatus: 'stopped' })],
    });
    expect(await db.probe('primary')).toMatchObject({
      role: 'fenced',
      detail: 'RDS production-primary (us-east-1) is fenced: stopped',
    });
    rds
      .on(DescribeDBInstancesCommand, describeOf('production-primary'))
      .rejects(Object.assign(new Error('connect ETIMEDOUT'), { code: 'ETIMEDOUT' }));
    expect(await db.probe('primary')).toMatchObject({ role: 'unreachable' });
  });
});

describe('the RDS fence', () => {
  it('moves the primary to the fence security groups, waits until they are active, and can put the old ones back', async () => {
    const db = provider(sgFence);
    rds
      .on(DescribeDBInstancesCommand, describeOf('production-primary'))
      .resolvesOnce({ DBInstances: [instance('production-primary')] }) // beforeFence
      .resolvesOnce({ DBInstances: [instance('production-primary')] }) // probe: writable
      .resolvesOnce({
        DBInstances: [
          instance('production-primary', {
            DBInstanceStatus: 'modifying',
            VpcSecurityGroups: [
              { VpcSecurityGroupId: 'sg-0a99', Status: 'removing' },
              { VpcSecurityGroupId: 'sg-0fe0ce', Status: 'adding' },
            ],
          }),
        ],
      })
      .resolves({
        DBInstances: [
          instance('production-primary', {
            VpcSecurityGroups: [{ VpcSecurityGroupId: 'sg-0fe0ce', Status: 'active' }],
          }),
        ],
      });
    rds.on(ModifyDBInstanceCommand).resolves({});
    const saved = await db.beforeFence('primary');
    expect(saved).toEqual({ securityGroupIds: ['sg-0a99'] });
    const fenced = await db.fence('primary');
    expect(fenced).toEqual({
      state: 'fenced',
      finalLsn: null,
      sessionsEnded: 0,
      detail:
        'RDS production-primary (us-east-1) fenced: behind the fence security groups (sg-0fe0ce)',
    });
    expect(rds.commandCalls(ModifyDBInstanceCommand)[0]!.args[0].input).toEqual({
      DBInstanceIdentifier: 'production-primary',
      VpcSecurityGroupIds: ['sg-0fe0ce'],
      ApplyImmediately: true,
    });
    // Fencing again (a resumed crash) changes nothing and still says fenced.
    expect(await db.fence('primary')).toMatchObject({ state: 'fenced' });
    expect(rds.commandCalls(ModifyDBInstanceCommand)).toHaveLength(1);

    rds
      .on(DescribeDBInstancesCommand, describeOf('production-primary'))
      .resolves({ DBInstances: [instance('production-primary')] });
    expect(await db.unfence('primary', saved)).toEqual({
      detail: 'RDS production-primary (us-east-1) unfenced: back on sg-0a99',
    });
    expect(rds.commandCalls(ModifyDBInstanceCommand)[1]!.args[0].input).toMatchObject({
      VpcSecurityGroupIds: ['sg-0a99'],
    });
  });

  it('stops the primary when the config says stop, and waits until it is stopped', async () => {
    const db = provider({ mode: 'stop' });
    rds
      .on(DescribeDBInstancesCommand, describeOf('production-primary'))
      .resolvesOnce({ DBInstances: [instance('production-primary')] })
      .resolvesOnce({
        DBInstances: [instance('production-primary', { DBInstanceStatus: 'stopping' })],
      })
      .resolves({ DBInstances: [instance('production-primary', { DBInstanceStatus: 'stopped' })] });
    rds.on(StopDBInstanceCommand).resolves({});
    expect(await db.fence('primary')).toMatchObject({
      state: 'fenced',
      detail: 'RDS production-primary (us-east-1) fenced: stopped',
    });
    expect(rds.commandCalls(StopDBInstanceCommand)).toHaveLength(1);
  });

  it('records a region that does not answer as unreachable instead of failing the step', async () => {
    const db = provider(sgFence);
    rds
      .on(DescribeDBInstancesCommand, describeOf('production-primary'))
      .rejects(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }));
    expect(await db.beforeFence('primary')).toMatchObject({
      unreadable: expect.stringContaining('socket hang up'),
    });
    const fenced = await db.fence('primary');
    expect(fenced.state).toBe('unreachable');
    expect(fenced.detail).toMatch(/does not answer: .*socket hang up.*: it could not be fenced$/);
    expect(rds.commandCalls(ModifyDBInstanceCommand)).toHaveLength(0);
  });

  it('never fences a service whose config turns fencing off, and says why', async () => {
    const db = provider({
      mode: 'none',
      reason: 'the primary is a managed service we cannot touch',
    });
    expect(db.fenceDisabled()).toBe(
      'fencing is turned off for this service in lifeboat.yml: the primary is a managed service we cannot touch',
    );
    const error = await db.fence('primary').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProviderError);
    expect((error as ProviderError).permanent).toBe(true);
  });
});

describe('catching up on RDS', () => {
  it('waits until CloudWatch reports ReplicaLag 0 after the fence, and gives up saying how far behind it is', async () => {
    const db = provider(sgFence);
    const fencedAt = new Date('2026-11-24T03:00:00Z');
    cloudwatch
      .on(GetMetricDataCommand)
      .resolvesOnce({ MetricDataResults: [{ Id: 'lag', Values: [4], Timestamps: [fencedAt] }] })
      .resolvesOnce({ MetricDataResults: [{ Id: 'lag', Values: [1], Timestamps: [fencedAt] }] })
      .resolves({
        MetricDataResults: [
          { Id: 'lag', Values: [0], Timestamps: [new Date('2026-11-24T03:01:00Z')] },
        ],
      });
    const progress: string[] = [];
    const caughtUp = await db.waitForReplay('replica', null, {
      timeoutMs: 60_000,
      since: fencedAt,
      onProgress: (text) => progress.push(text),
    });
    expect(caughtUp.detail).toBe(
      'RDS production-dr (us-west-2) reports ReplicaLag 0 at 2026-11-24T03:01:00.000Z, after the fence',
    );
    expect(progress).toEqual([
      'RDS production-dr (us-west-2): ReplicaLag 4 s',
      'RDS production-dr (us-west-2): ReplicaLag 1 s',
    ]);
    const input = cloudwatch.commandCalls(GetMetricDataCommand)[0]!.args[0].input;
    expect(input.StartTime).toEqual(fencedAt); // only datapoints from after the fence count

    cloudwatch.reset();
    cloudwatch
      .on(GetMetricDataCommand)
      .resolves({ MetricDataResults: [{ Id: 'lag', Values: [30], Timestamps: [fencedAt] }] });
    await expect(
      db.waitForReplay('replica', null, { timeoutMs: 5_000, since: fencedAt }),
    ).rejects.toThrow(
      'RDS production-dr (us-west-2): ReplicaLag is 30 s 5 s after the fence: it did not catch up. The primary stays fenced: retry to wait again, or stop the run and unfence it',
    );
  });
});

describe('a replica rebuilt on RDS', () => {
  it('renames the old primary aside, creates a read replica of the new primary under its name, and waits until it replicates', async () => {
    const db = provider(sgFence);
    expect(db.rebuild.mode).toBe('automatic');
    rds.on(DescribeDBInstancesCommand, describeOf('production-dr')).resolves({
      DBInstances: [
        instance('production-dr', {
          DBInstanceArn: 'arn:aws:rds:us-west-2:111122223333:db:production-dr',
        }),
      ],
    });
    const notFound = new DBInstanceNotFoundFault({
      message: 'DBInstance production-primary not found.',
      $metadata: { httpStatusCode: 404 },
    });
    rds
      .on(DescribeDBInstancesCommand, describeOf('production-primary'))
      .resolvesOnce({
        DBInstances: [instance('production-primary', { DBInstanceStatus: 'stopped' })],
      })
      .rejectsOnce(notFound) // renamed aside: the old name is gone
      .resolvesOnce({
        DBInstances: [
          replicaOf('production-primary', 'arn:aws:rds:us-west-2:111122223333:db:production-dr'),
        ].map((i) => ({ ...i, DBInstanceStatus: 'creating' })),
      })
      .resolves({
        DBInstances: [
          replicaOf('production-primary', 'arn:aws:rds:us-west-2:111122223333:db:production-dr'),
        ],
      });
    rds.on(ModifyDBInstanceCommand).resolves({});
    rds.on(CreateDBInstanceReadReplicaCommand).resolves({});
    if (db.rebuild.mode !== 'automatic') throw new Error('expected an automatic rebuild');
    const heard: string[] = [];
    const result = await db.rebuild.run('primary', 'replica', {
      onProgress: (text) => heard.push(text),
    });
    // Creating a replica takes many minutes: the step says what it waits for.
    expect(heard).toEqual([
      'RDS production-primary (us-east-1): waiting for the new read replica to be available: creating, 0s so far',
    ]);
    expect(result.detail).toBe(
      'RDS production-primary (us-east-1) rebuilt as a read replica of RDS production-dr (us-west-2) (the old instance is kept as production-primary-old-202611240300)',
    );
    expect(rds.commandCalls(ModifyDBInstanceCommand)[0]!.args[0].input).toEqual({
      DBInstanceIdentifier: 'production-primary',
      NewDBInstanceIdentifier: 'production-primary-old-202611240300',
      ApplyImmediately: true,
    });
    expect(rds.commandCalls(CreateDBInstanceReadReplicaCommand)[0]!.args[0].input).toEqual({
      DBInstanceIdentifier: 'production-primary',
      SourceDBInstanceIdentifier: 'arn:aws:rds:us-west-2:111122223333:db:production-dr',
      DBInstanceClass: 'db.r6g.large',
    });

    cloudwatch.on(GetMetricDataCommand).resolves({
      MetricDataResults: [
        { Id: 'lag', Values: [0], Timestamps: [new Date('2026-11-24T03:00:00Z')] },
      ],
    });
    const status = await db.replicaStatus('primary', 'replica', 60);
    expect(status).toMatchObject({ ok: true, lagSeconds: 0 });
    expect(status.detail).toBe(
      'RDS production-primary (us-east-1) replicates from RDS production-dr (us-west-2), ReplicaLag 0 s: within the RPO (1m)',
    );
  });
});
