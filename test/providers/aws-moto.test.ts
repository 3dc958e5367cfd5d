// The AWS path on the wire, against moto_server: an RDS PostgreSQL primary in us-east-1 with its
// cross-region read replica in us-west-2 and a Route 53 CNAME, configured as a user configures
// them, with only AWS_ENDPOINT_URL pointing at the emulator. A failover through the engine fences
// (stops) the primary, promotes the replica and moves the record — each behind a second person;
// it holds the promotion while the replica's lag cannot be read, fences nothing when the replica
// does not exist, promotes nothing when the DNS switch after it could only fail (no such zone);
// and it completes with the primary's region accepting connections and never answering (a proxy
// in front of moto), promoting even while Route 53's control plane hangs.

import {
  CreateBucketCommand,
  PutObjectCommand,
  S3Client,
  type BucketLocationConstraint,
} from '@aws-sdk/client-s3';
import {
  CreateDBClusterCommand,
  CreateDBInstanceCommand,
  CreateDBInstanceReadReplicaCommand,
  CreateDBSnapshotCommand,
  DescribeDBSnapshotsCommand,
  DescribeGlobalClustersCommand,
  RDSClient,
} from '@aws-sdk/client-rds';
import {
  ChangeResourceRecordSetsCommand,
  CreateHealthCheckCommand,
  CreateHostedZoneCommand,
  GetHealthCheckCommand,
  ListResourceRecordSetsCommand,
  Route53Client,
} from '@aws-sdk/client-route-53';
import {
  AutoScalingClient,
  CreateAutoScalingGroupCommand,
  CreateLaunchConfigurationCommand,
  DescribeAutoScalingGroupsCommand,
} from '@aws-sdk/client-auto-scaling';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createServiceProviders, type ProviderOptions } from '../../src/providers/index.js';
import { status } from '../../commands/status.js';
import { buildJobs } from '../../src/schedule/jobs.js';
import { checkSnapshots } from '../../src/checks/snapshots.js';
import { takeBackups } from '../../src/checks/take.js';
import { freePort } from '../../src/providers/postgres/servers.js';
import { verifyAuditLog } from '../../src/store/audit.js';
import type { EngineEvent } from '../../src/engine/events.js';
import type { ProvidersFor } from '../../src/engine/transitions.js';
import {
  PRIMARY_ARN,
  describeInstance,
  publishReplicaLag,
  configFor,
  regionProxy,
  seedAuroraGlobal,
  seedRdsFailover,
} from '../support/aws-seed.js';
import { cli } from '../support/cli.js';
import { makeEngine, playThrough, testClock } from '../support/engine.js';
import { makeTempDir } from '../support/tmp.js';
import { startMoto, type Moto } from '../support/moto.js';

let moto: Moto;
const saved: Record<string, string | undefined> = {};
const AWS_ENV = {
  AWS_ACCESS_KEY_ID: 'testing',
  AWS_SECRET_ACCESS_KEY: 'testing',
  AWS_SESSION_TOKEN: undefined,
};

beforeAll(async () => {
  moto = await startMoto({ promotingReads: 2 }); // RDS reads `modifying` while it promotes
  for (const [name, value] of Object.entries({ ...AWS_ENV, AWS_ENDPOINT_URL: moto.url })) {
    saved[name] = process.env[name];
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
});
beforeEach(async () => {
  await fetch(`${moto.url}/moto-api/reset`, { method: 'POST' });
});
afterAll(async () => {
  for (const [name, value] of Object.entries(saved)) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
  await moto?.stop();
});

const rds = (region: string) => new RDSClient({ region, endpoint: moto.url });

const describe1 = (region: string, id: string) => describeInstance(moto.url, region, id);

/** The providers as lifeboat builds them, looking again every 50 ms while RDS promotes. */
const providers =
  (options: ProviderOptions = {}): ProvidersFor =>
  (service, kind, promote) =>
    createServiceProviders(service, kind, { promote, awsPollSeconds: 0.05, ...options });

const route53 = () => new Route53Client({ region: 'us-east-1', endpoint: moto.url });

async function recordValue(zoneId: string): Promise<string | undefined> {
  const { ResourceRecordSets } = await route53().send(
    new ListResourceRecordSetsCommand({ HostedZoneId: zoneId }),
  );
  return ResourceRecordSets?.find((set) => set.Name === 'db.example.com.')?.ResourceRecords?.[0]
    ?.Value;
}

const FAILOVER = `---\ntitle: Failover\nkind: failover\nservice: orders-db\n---\n## Go (15 minutes)\n1. Fence \`action: db.fence\`\n2. Promote \`action: db.promote\`\n3. Switch DNS \`action: dns.switch\`\n`;

/**
 * A run of `runbook` (the failover by default) through the engine, every approval given by a
 * second person, as far as it goes; the providers look again every 50 ms while AWS works.
 */
async function runThrough(
  configYaml: string,
  options: {
    runbook?: [string, string];
    providers?: ProviderOptions | null;
    clock?: ReturnType<typeof testClock>;
  } = {},
) {
  const [name, text] = options.runbook ?? ['failover', FAILOVER];
  const t = await makeEngine({
    runbooks: { [name]: text },
    configYaml,
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.providers === null ? {} : { providersFor: providers(options.providers) }),
  });
  const { runId } = await t.engine.startRun({
    key: 'slash',
    actor: { user: 'U0ALICE' },
    runbook: name,
  });
  return { t, view: await playThrough(t, runId) };
}

describe('failover of RDS and Route 53, on the wire (moto_server)', () => {
  it('stops the primary, promotes the cross-region replica and points the record at it', async () => {
    const { zoneId, primaryEndpoint, replicaEndpoint } = await seedRdsFailover(moto.url);
    await publishReplicaLag(moto.url, 0.4);
    const { t, view } = await runThrough(configFor(zoneId));

    expect(view.run.status).toBe('succeeded');
    expect(view.steps.map((step) => [step.action, step.state, step.summary])).toEqual([
      ['db.fence', 'done', 'RDS production-primary (us-east-1) fenced: stopped'],
      ['db.promote', 'done', expect.stringMatching(/production-dr/)],
      ['dns.switch', 'done', expect.stringContaining(replicaEndpoint)],
    ]);
    // What AWS itself now says, read back on the wire.
    expect((await describe1('us-east-1', 'production-primary')).DBInstanceStatus).toBe('stopped');
    const replica = await describe1('us-west-2', 'production-dr');
    expect(replica.ReadReplicaSourceDBInstanceIdentifier).toBeUndefined();
    expect(await recordValue(zoneId)).toBe(replicaEndpoint);
    expect(replicaEndpoint).not.toBe(primaryEndpoint);
    expect(view.run.rpoExposureSeconds).toBe(0.4);
    // While RDS promoted, the step said what it waited for (the thread and the CLI show it).
    const progress = t.events.flatMap((event) =>
      event.type === 'action.progress' ? [[event.stepIndex, event.text]] : [],
    );
    expect(progress).toEqual([
      [
        1,
        expect.stringMatching(
          /^RDS production-dr \(us-west-2\) promoting: modifying, still a replica, \d+s so far$/,
        ),
      ],
    ]);
    const granted = await t.store.all(
      "SELECT actor FROM audit_log WHERE action = 'approval.granted'",
    );
    expect(granted).toHaveLength(3); // the fence, the promotion, the DNS switch: each by U0BOB
    expect(await verifyAuditLog(t.store)).toMatchObject({ ok: true });
  });

  it('does not promote while the replica lag cannot be read: it says so and waits', async () => {
    const { zoneId, primaryEndpoint } = await seedRdsFailover(moto.url); // no ReplicaLag published
    const { view } = await runThrough(configFor(zoneId));

    expect(view.run.status).toBe('waiting');
    expect(view.current).toMatchObject({ action: 'db.promote', state: 'active' });
    expect(view.current!.summary).toMatch(
      /^replication lag unknown: cannot compare with the RPO \(1m\)/,
    );
    expect(
      (await describe1('us-west-2', 'production-dr')).ReadReplicaSourceDBInstanceIdentifier,
    ).toMatch(/production-primary$/);
    expect(await recordValue(zoneId)).toBe(primaryEndpoint);
  });

  it('fails over with the primary region hanging: nothing it needs waits on us-east-1', async () => {
    const { zoneId, replicaEndpoint } = await seedRdsFailover(moto.url);
    await publishReplicaLag(moto.url, 0.4);
    const proxy = await regionProxy(moto.url, { hang: { region: 'us-east-1', service: 'rds' } });
    process.env.AWS_ENDPOINT_URL = proxy.url;
    try {
      const awsTimeouts = { connectMs: 300, requestMs: 300, streamIdleMs: 1000 };
      const { view } = await runThrough(configFor(zoneId), { providers: { awsTimeouts } });
      expect(view.steps.map((step) => [step.action, step.state])).toEqual([
        ['db.fence', 'done'],
        ['db.promote', 'done'],
        ['dns.switch', 'done'],
      ]);
      // The fence says plainly what it could not do, naming the instance and its region.
      expect(view.steps[0]!.summary).toMatch(
        /^RDS production-primary \(us-east-1\) does not answer: DescribeDBInstances did not answer in time .*it could not be fenced$/,
      );
      expect(view.run.rpoExposureBound).toBe('lower-bound');
      expect(view.run.status).toBe('succeeded');
      expect(proxy.hung()).toBeGreaterThan(0); // us-east-1 was asked, and did not answer
      process.env.AWS_ENDPOINT_URL = moto.url;
      expect(
        (await describe1('us-west-2', 'production-dr')).ReadReplicaSourceDBInstanceIdentifier,
      ).toBeUndefined();
      expect(await recordValue(zoneId)).toBe(replicaEndpoint);
    } finally {
      process.env.AWS_ENDPOINT_URL = moto.url;
      await proxy.close();
    }
  });

  it('does not fence the primary when the replica to promote does not exist', async () => {
    const { zoneId, primaryEndpoint } = await seedRdsFailover(moto.url);
    const { view } = await runThrough(configFor(zoneId, 'production-typo'));

    expect(view.run.status).toBe('waiting');
    expect(view.current).toMatchObject({ action: 'db.fence', waitingOn: 'failure' });
    expect(view.current!.summary).toMatch(
      /^RDS production-primary \(us-east-1\): not fenced: the replica to promote cannot take over \(RDS production-typo \(us-west-2\): DBInstanceNotFoundFault: DBInstance production-typo not found\.\) — fencing now would leave no database accepting writes/,
    );
    expect((await describe1('us-east-1', 'production-primary')).DBInstanceStatus).toBe('available');
    expect(await recordValue(zoneId)).toBe(primaryEndpoint);
  });

  it('fences nothing when the AWS endpoint refuses connections, and says so', async () => {
    const { zoneId, primaryEndpoint } = await seedRdsFailover(moto.url);
    process.env.AWS_ENDPOINT_URL = `http://127.0.0.1:${await freePort()}`; // nothing listens
    try {
      const { view } = await runThrough(configFor(zoneId));
      expect(view.current).toMatchObject({ action: 'db.fence', waitingOn: 'failure' });
      expect(view.current!.summary).toMatch(
        /^RDS production-primary \(us-east-1\): not fenced: the replica to promote cannot take over \(RDS production-dr \(us-west-2\) does not answer: .*ECONNREFUSED/,
      );
    } finally {
      process.env.AWS_ENDPOINT_URL = moto.url;
    }
    expect((await describe1('us-east-1', 'production-primary')).DBInstanceStatus).toBe('available');
    expect(await recordValue(zoneId)).toBe(primaryEndpoint);
  });

  it('does not promote when the DNS switch after it could only fail: the zone does not exist', async () => {
    await seedRdsFailover(moto.url);
    await publishReplicaLag(moto.url, 0.4);
    const { view } = await runThrough(configFor('Z0NOSUCHZONE'));

    expect(view.current).toMatchObject({ action: 'db.promote', waitingOn: 'failure' });
    expect(view.current!.summary).toMatch(
      /^Route 53 CNAME db\.example\.com \(zone Z0NOSUCHZONE\): NoSuchHostedZone: .* — the DNS switch after this promotion could only fail, so nothing was promoted/,
    );
    expect(
      (await describe1('us-west-2', 'production-dr')).ReadReplicaSourceDBInstanceIdentifier,
    ).toMatch(/production-primary$/);
  });

  it("promotes even while Route 53's control plane hangs; the DNS step then says it could not switch", async () => {
    await seedRdsFailover(moto.url);
    await publishReplicaLag(moto.url, 0.4);
    const proxy = await regionProxy(moto.url, {
      hang: { region: 'us-east-1', service: 'route53' },
    });
    process.env.AWS_ENDPOINT_URL = proxy.url;
    try {
      const awsTimeouts = { connectMs: 300, requestMs: 300, streamIdleMs: 1000 };
      const { view } = await runThrough(configFor('Z0ANY'), { providers: { awsTimeouts } });
      expect(view.steps.map((step) => [step.action, step.state])).toEqual([
        ['db.fence', 'done'],
        ['db.promote', 'done'],
        ['dns.switch', 'active'],
      ]);
      expect(view.current).toMatchObject({ action: 'dns.switch', waitingOn: 'failure' });
      expect(view.current!.summary).toMatch(
        /^Route 53 CNAME db\.example\.com \(zone Z0ANY\): ListResourceRecordSets did not answer in time/,
      );
      expect(proxy.hung()).toBeGreaterThan(0);
    } finally {
      process.env.AWS_ENDPOINT_URL = moto.url;
      await proxy.close();
    }
  });
});

/**
 * The seed's setup: the record as two failover records, PRIMARY (with a health check of the
 * primary) and SECONDARY (the DR replica), instead of one plain CNAME.
 */
async function seedFailoverRecords(): Promise<{
  zoneId: string;
  healthCheckId: string;
  primaryEndpoint: string;
  replicaEndpoint: string;
}> {
  const { zoneId, primaryEndpoint, replicaEndpoint } = await seedRdsFailover(moto.url, {
    record: false,
  });
  const check = await route53().send(
    new CreateHealthCheckCommand({
      CallerReference: `primary-${Date.now()}`,
      HealthCheckConfig: {
        Type: 'TCP',
        FullyQualifiedDomainName: primaryEndpoint,
        Port: 5432,
        FailureThreshold: 3,
        RequestInterval: 10,
      },
    }),
  );
  const healthCheckId = check.HealthCheck!.Id!;
  const failoverRecord = (role: 'PRIMARY' | 'SECONDARY', value: string) => ({
    Action: 'CREATE' as const,
    ResourceRecordSet: {
      Name: 'db.example.com',
      Type: 'CNAME' as const,
      TTL: 60,
      SetIdentifier: role === 'PRIMARY' ? 'us-east-1' : 'us-west-2',
      Failover: role,
      ...(role === 'PRIMARY' ? { HealthCheckId: healthCheckId } : {}),
      ResourceRecords: [{ Value: value }],
    },
  });
  await route53().send(
    new ChangeResourceRecordSetsCommand({
      HostedZoneId: zoneId,
      ChangeBatch: {
        Changes: [
          failoverRecord('PRIMARY', primaryEndpoint),
          failoverRecord('SECONDARY', replicaEndpoint),
        ],
      },
    }),
  );
  return { zoneId, healthCheckId, primaryEndpoint, replicaEndpoint };
}

async function healthCheckConfig(id: string) {
  const { HealthCheck } = await route53().send(new GetHealthCheckCommand({ HealthCheckId: id }));
  return HealthCheck!.HealthCheckConfig!;
}

async function failoverRecords(zoneId: string): Promise<string[]> {
  const { ResourceRecordSets } = await route53().send(
    new ListResourceRecordSetsCommand({ HostedZoneId: zoneId }),
  );
  return (ResourceRecordSets ?? [])
    .filter((set) => set.Name === 'db.example.com.')
    .map((set) => `${set.Failover} ${set.ResourceRecords?.[0]?.Value}`);
}

describe('Route 53 failover routing, on the wire (moto_server)', () => {
  it("fails over by forcing the PRIMARY's health check unhealthy, leaving both records as they are", async () => {
    const { zoneId, healthCheckId, primaryEndpoint, replicaEndpoint } = await seedFailoverRecords();
    await publishReplicaLag(moto.url, 0.4);
    const { t, view } = await runThrough(configFor(zoneId, 'production-dr', 'failover-routing'));

    expect(view.run.status).toBe('succeeded');
    expect(view.steps[2]).toMatchObject({
      action: 'dns.switch',
      state: 'done',
      summary: `db.example.com fails over to the SECONDARY record (${replicaEndpoint}): the PRIMARY's health check ${healthCheckId} is disabled and inverted, so Route 53 counts it unhealthy whatever the primary's state`,
    });
    expect(await healthCheckConfig(healthCheckId)).toMatchObject({
      Disabled: true,
      Inverted: true,
    });
    expect(await failoverRecords(zoneId)).toEqual([
      `PRIMARY ${primaryEndpoint}`,
      `SECONDARY ${replicaEndpoint}`,
    ]);
    // The step's own check, independent of the switch: which record Route 53 answers now.
    const dns = createServiceProviders(t.config.services['orders-db']!, 'failover').dns!;
    expect(await dns.pointsAt(replicaEndpoint)).toEqual({
      ok: true,
      summary: `Route 53 answers db.example.com with the SECONDARY record (${replicaEndpoint}): the PRIMARY's health check ${healthCheckId} is disabled and inverted: unhealthy whatever the primary's state`,
    });
  });

  it('fails back by enabling the health check again, and names what it will not do', async () => {
    const { zoneId, healthCheckId, primaryEndpoint, replicaEndpoint } = await seedFailoverRecords();
    const t = await makeEngine({
      runbooks: { failover: FAILOVER },
      configYaml: configFor(zoneId, 'production-dr', 'failover-routing'),
    });
    const dns = createServiceProviders(t.config.services['orders-db']!, 'failback').dns!;
    await dns.switchTo(replicaEndpoint);
    expect((await dns.switchTo(replicaEndpoint)).detail).toBe(
      `db.example.com already fails over to SECONDARY (${replicaEndpoint}): health check ${healthCheckId} is disabled and inverted`,
    );
    expect((await dns.switchTo(primaryEndpoint)).detail).toBe(
      `db.example.com fails back to the PRIMARY record (${primaryEndpoint}): its health check ${healthCheckId} is enabled and no longer inverted, so Route 53 answers PRIMARY while the primary passes it`,
    );
    expect(await healthCheckConfig(healthCheckId)).toMatchObject({
      Disabled: false,
      Inverted: false,
    });
    expect(await dns.pointsAt(primaryEndpoint)).toEqual({
      ok: true,
      summary: `Route 53 answers db.example.com with the PRIMARY record (${primaryEndpoint}): the PRIMARY's health check ${healthCheckId} passes (1 of 1 checkers see it healthy)`,
    });
    // What the plan check and `check config --live` show of it.
    expect(await dns.check()).toBe(
      `db.example.com: PRIMARY ${primaryEndpoint}, SECONDARY ${replicaEndpoint}; Route 53 answers PRIMARY: the PRIMARY's health check ${healthCheckId} passes (1 of 1 checkers see it healthy)`,
    );
    await expect(dns.switchTo('elsewhere.example.net')).rejects.toThrow(
      `its failover records point at ${primaryEndpoint} (PRIMARY) and ${replicaEndpoint} (SECONDARY), not at elsewhere.example.net: lifeboat switches between them and does not rewrite them`,
    );
  });

  it('does not promote when mode upsert meets failover records: it would fail after the point of no return', async () => {
    const { zoneId } = await seedFailoverRecords();
    await publishReplicaLag(moto.url, 0.4);
    const { view } = await runThrough(configFor(zoneId));

    expect(view.current).toMatchObject({ action: 'db.promote', waitingOn: 'failure' });
    expect(view.current!.summary).toBe(
      `Route 53 CNAME db.example.com (zone ${zoneId}): is a routing-policy record (SetIdentifier us-east-1, PRIMARY): mode upsert would add a plain record beside it, which Route 53 refuses; use mode: failover-routing — the DNS switch after this promotion could only fail, so nothing was promoted: fix dns: in lifeboat.yml and retry this step`,
    );
  });
});

describe('a topology aws-rds does not understand, on the wire (moto_server)', () => {
  it('refuses an Aurora cluster instance configured as aws-rds: nothing is fenced or "promoted"', async () => {
    // An Aurora writer and reader: the reader has no ReadReplicaSourceDBInstanceIdentifier, so it
    // once read as "already standalone" and its promotion "succeeded" with nothing done.
    await rds('us-east-1').send(
      new CreateDBClusterCommand({
        DBClusterIdentifier: 'orders-aurora',
        Engine: 'aurora-postgresql',
        MasterUsername: 'lifeboat',
        MasterUserPassword: 'lifeboat-password',
      }),
    );
    for (const id of ['production-primary', 'production-dr'])
      await rds('us-east-1').send(
        new CreateDBInstanceCommand({
          DBInstanceIdentifier: id,
          DBClusterIdentifier: 'orders-aurora',
          Engine: 'aurora-postgresql',
          DBInstanceClass: 'db.r6g.large',
        }),
      );
    const { t, view } = await runThrough(
      configFor('Z0ANY').replace('region: us-west-2', 'region: us-east-1'),
    );

    expect(view.current).toMatchObject({ action: 'db.fence', waitingOn: 'failure' });
    expect(view.current!.summary).toContain(
      'RDS production-dr (us-east-1): is an instance of the DB cluster orders-aurora (aurora-postgresql): a cluster fails over as a whole, which provider aws-rds does not do',
    );
    expect((await describe1('us-east-1', 'production-primary')).DBInstanceStatus).toBe('available');
    const database = createServiceProviders(t.config.services['orders-db']!, 'failover').database!;
    await expect(database.promote()).rejects.toThrow(
      /is an instance of the DB cluster orders-aurora/,
    );
    await expect(database.measureLag()).rejects.toThrow(
      /is an instance of the DB cluster orders-aurora/,
    );
  });
});

/** lifeboat.yml and the failover runbook in a folder of their own, as a user has them. */
function workspace(configYaml: string): Record<string, string> {
  const dir = makeTempDir();
  mkdirSync(path.join(dir, 'runbooks'));
  writeFileSync(path.join(dir, 'runbooks', 'failover.md'), FAILOVER);
  writeFileSync(path.join(dir, 'lifeboat.yml'), configYaml);
  return { LIFEBOAT_CONFIG: path.join(dir, 'lifeboat.yml') };
}

async function seedBackups(bucket: string, region: string): Promise<void> {
  const s3 = new S3Client({ region, endpoint: moto.url, forcePathStyle: true });
  await s3.send(
    new CreateBucketCommand({
      Bucket: bucket,
      ...(region === 'us-east-1'
        ? {}
        : {
            CreateBucketConfiguration: { LocationConstraint: region as BucketLocationConstraint },
          }),
    }),
  );
  await s3.send(
    new PutObjectCommand({ Bucket: bucket, Key: 'postgres/orders-0001.dump', Body: 'PGDMP…' }),
  );
}

const withBackups = (config: string, bucket: string, region: string) =>
  `${config}    backups: { provider: s3, bucket: ${bucket}, prefix: postgres/, region: ${region}, max_age: 1d }\n`;

describe('lifeboat check config --live, on the wire (moto_server)', () => {
  it('checks the credentials and every database, record and bucket a failover touches', async () => {
    const { zoneId, primaryEndpoint } = await seedRdsFailover(moto.url);
    await seedBackups('orders-backups-dr', 'us-west-2');
    const env = workspace(withBackups(configFor(zoneId), 'orders-backups-dr', 'us-west-2'));
    const result = await cli(['check', 'config', '--live'], env);

    expect(result.stdout).toContain(
      'ok    credentials arn:aws:sts::123456789012:user/moto (account 123456789012)',
    );
    expect(result.stdout).toMatch(
      /ok {4}orders-db database +RDS production-primary \(us-east-1\) is a standalone instance accepting writes \(available\); RDS production-dr \(us-west-2\) is a read replica of \S+:db:production-primary \(available, replication replicating\)/,
    );
    expect(result.stdout).toContain(
      `ok    orders-db dns         db.example.com points at ${primaryEndpoint}`,
    );
    expect(result.stdout).toMatch(
      /ok {4}orders-db backups +s3:\/\/orders-backups-dr\/postgres\/: newest postgres\/orders-0001\.dump \S+ ago; in us-west-2, away from the primary \(us-east-1\)$/m,
    );
    expect(result.stdout).toContain(
      // moto's identity is no IAM principal, and moto has no policy simulator: not checked, and why.
      'not checked  orders-db permissions arn:aws:sts::123456789012:user/moto is no IAM user or role the policy simulator knows',
    );
    expect(result.code).toBe(0);
  });

  it('fails on what would break mid-disaster: no such replica, no such zone, backups beside the primary', async () => {
    await seedRdsFailover(moto.url);
    await seedBackups('orders-backups', 'us-east-1');
    const env = workspace(
      withBackups(configFor('Z0NOSUCHZONE', 'production-typo'), 'orders-backups', 'us-east-1'),
    );
    const result = await cli(['check', 'config', '--live'], env);

    expect(result.stdout).toMatch(
      /FAIL {2}orders-db database +not every database can be read: .*RDS production-typo \(us-west-2\): DBInstanceNotFound/,
    );
    expect(result.stdout).toMatch(
      /FAIL {2}orders-db dns +Route 53 CNAME db\.example\.com \(zone Z0NOSUCHZONE\): NoSuchHostedZone/,
    );
    expect(result.stdout).toContain(
      'FAIL  orders-db backups     s3://orders-backups/postgres/: backups are in us-east-1 with the primary: a regional disaster takes both',
    );
    expect(result.code).toBe(1);
  });

  it('says the credentials do not work, instead of passing without them', async () => {
    const { zoneId } = await seedRdsFailover(moto.url);
    const saved = process.env.AWS_ACCESS_KEY_ID;
    delete process.env.AWS_ACCESS_KEY_ID;
    delete process.env.AWS_SECRET_ACCESS_KEY;
    try {
      const result = await cli(['check', 'config', '--live'], {
        ...workspace(configFor(zoneId)),
        AWS_SHARED_CREDENTIALS_FILE: '/nonexistent',
        AWS_CONFIG_FILE: '/nonexistent',
      });
      expect(result.stdout).toMatch(
        /FAIL {2}credentials AWS credentials \(STS in us-west-2\): .*[Cc]redentials/,
      );
      expect(result.code).toBe(1);
    } finally {
      process.env.AWS_ACCESS_KEY_ID = saved;
      process.env.AWS_SECRET_ACCESS_KEY = 'testing';
    }
  });
});

describe('the scheduled plan check, on the wire (moto_server)', () => {
  it('runs every 30 minutes for a service on AWS: posts a failure once, and its recovery once', async () => {
    const { zoneId } = await seedRdsFailover(moto.url);
    const t = await makeEngine({
      runbooks: { failover: FAILOVER },
      configYaml: configFor(zoneId, 'production-dr2'), // a replica not created yet
      providersFor: providers(),
    });
    const job = buildJobs(t.config).find((candidate) => candidate.name === 'plan-check')!;
    expect(job.cron).toBe('*/30 * * * *');
    const posts: string[] = [];
    const run = (minute: number) =>
      job.run({
        config: t.config,
        engine: t.engine,
        notifier: { post: (notice) => Promise.resolve(void posts.push(notice.text)) },
        now: new Date(Date.parse('2026-11-24T00:00:00Z') + minute * 60_000),
      });

    expect(await run(0)).toBe("0/1 services' plans check out");
    expect(await run(30)).toBe("0/1 services' plans check out");
    expect(posts).toHaveLength(1); // once, not every 30 minutes
    expect(posts[0]).toMatch(
      /^:x: \*failing\* plan check of \*orders-db\* \(what a failover would touch\): database: not every database can be read: .*RDS production-dr2 \(us-west-2\): DBInstanceNotFoundFault/,
    );

    await rds('us-west-2').send(
      new CreateDBInstanceReadReplicaCommand({
        DBInstanceIdentifier: 'production-dr2',
        SourceDBInstanceIdentifier: PRIMARY_ARN,
      }),
    );
    expect(await run(60)).toBe("1/1 services' plans check out");
    expect(posts).toHaveLength(2);
    expect(posts[1]).toMatch(/^:white_check_mark: \*recovered\* plan check of \*orders-db\*/);
    // /dr status shows the last plan check, with what it found.
    const reply = (await status.run([], {
      config: t.config,
      store: t.store,
      user: 'U0ALICE',
      clock: t.clock,
      engine: t.engine,
    })) as { text: string };
    expect(reply.text).toMatch(
      /• plan check \(what a failover touches\): ok — database: RDS production-primary .*; dns: db\.example\.com points at \S+ \(checked 2026-11-24 01:00 UTC\)/,
    );
  });
});

describe('RDS snapshots as backups, on the wire (moto_server)', () => {
  it('fails a snapshot only in the primary region, copies it to the DR region, then takes and copies its own, each audited', async () => {
    const { zoneId } = await seedRdsFailover(moto.url);
    const config = configFor(zoneId).replace(
      '    dns: {',
      '    snapshots: { max_age: 1d }\n    dns: {',
    );
    const runbook = `---\ntitle: Copy\nkind: drill\nservice: orders-db\n---\n## Copy (30 minutes)\n1. Copy the newest snapshot to the DR region \`action: backup.copy-snapshot\`\n`;
    const t = await makeEngine({
      runbooks: { copy: runbook },
      configYaml: config,
      providersFor: providers(),
    });
    const service = t.config.services['orders-db']!;
    // "Now" is read from moto's own clock — its newest snapshot — never from today's date.
    const check = async () => {
      const snapshots = t.engine.providersFor(service, 'restore-test').snapshots!;
      const newest = Math.max(
        ...[...(await snapshots.list('us-east-1')), ...(await snapshots.list('us-west-2'))].map(
          (snapshot) => snapshot.takenAt.getTime(),
        ),
      );
      return checkSnapshots(service, snapshots, new Date(newest + 30_000));
    };
    // RDS's own automated snapshot of the new instance lives with the primary.
    const first = await check();
    expect(first).toMatchObject({ ok: false, state: 'none in the DR region' });
    expect(first.summary).toMatch(
      /^no available snapshot in us-west-2 \(the DR region\): the newest, rds:production-primary-[\d-]+, is only in us-east-1 with the primary — copy it \(backup\.copy-snapshot\)$/,
    );
    await rds('us-east-1').send(
      new CreateDBSnapshotCommand({
        DBInstanceIdentifier: 'production-primary',
        DBSnapshotIdentifier: 'nightly-1',
      }),
    );
    expect((await check()).summary).toBe(
      'no available snapshot in us-west-2 (the DR region): the newest, nightly-1, is only in us-east-1 with the primary — copy it (backup.copy-snapshot)',
    );

    const { runId } = await t.engine.startRun({
      key: 'copy',
      actor: { user: 'U0ALICE' },
      runbook: 'copy',
    });
    const view = await playThrough(t, runId);
    expect(view.run.status).toBe('succeeded');
    expect(view.steps[0]).toMatchObject({
      state: 'done',
      summary: 'nightly-1 (us-east-1) copied to us-west-2 as nightly-1: available',
    });
    expect((await check()).summary).toMatch(
      /^newest in us-west-2 \(the DR region\): nightly-1 of production-primary, \d+s old \(max 1d\); newest in us-east-1: nightly-1$/,
    );

    // lifeboat takes its own: of the writer, then copied; the audit log says so.
    const [taken] = await takeBackups(
      t.config,
      t.store,
      (each, kind) => t.engine.providersFor(each, kind),
      { clock: t.clock, actor: 'system', only: 'orders-db' },
    );
    expect(taken).toMatchObject({ ok: true, state: 'ok' });
    expect(taken!.summary).toMatch(
      /^RDS snapshot lifeboat-production-primary-20261124030000 of RDS production-primary \(us-east-1\) available in \d+s; copied to us-west-2 as lifeboat-production-primary-20261124030000, available there$/,
    );
    const [audited] = await t.store.all<{ action: string; details: string }>(
      "SELECT action, details FROM audit_log WHERE action = 'backup.taken'",
    );
    expect(JSON.parse(audited!.details)).toEqual({
      snapshot: 'lifeboat-production-primary-20261124030000',
      region: 'us-east-1',
      copy: 'lifeboat-production-primary-20261124030000',
      copyRegion: 'us-west-2',
    });
    await t.store.close();
  });
});

describe('backup and restore of RDS, on the wire (moto_server)', () => {
  it('copies the snapshot to the DR region, fences the primary, restores the snapshot as the DR instance behind two people, and points the record at it', async () => {
    await rds('us-east-1').send(
      new CreateDBInstanceCommand({
        DBInstanceIdentifier: 'production-primary',
        Engine: 'postgres',
        DBInstanceClass: 'db.t3.micro',
        MasterUsername: 'lifeboat',
        MasterUserPassword: 'lifeboat-password',
        AllocatedStorage: 20,
      }),
    );
    const zone = await route53().send(
      new CreateHostedZoneCommand({ Name: 'example.com', CallerReference: `br-${Date.now()}` }),
    );
    const zoneId = zone.HostedZone!.Id!.replace('/hostedzone/', '');
    const config = `approvals:
  approvers: [U0ALICE, U0BOB]
services:
  orders-db:
    rto: 2h
    rpo: 7d
    strategy: backup-restore
    snapshots: { max_age: 1d }
    database:
      provider: aws-rds
      primary: { id: production-primary, region: us-east-1 }
      replica: { id: production-dr, region: us-west-2 }
      fence: { mode: stop }
    dns: { provider: route53, mode: upsert, zone_id: ${zoneId}, record: db.example.com }
`;
    const runbook = `---\ntitle: Restore\nkind: failover\nservice: orders-db\n---\n## Restore (2 hours)\n1. Copy the newest snapshot to the DR region \`action: backup.copy-snapshot\`\n2. Fence \`action: db.fence\`\n3. Restore \`action: db.restore\`\n4. Switch DNS \`action: dns.switch\`\n`;
    // The plan check does not call the missing DR instance a database that cannot be read: a
    // backup-restore service has none until a recovery restores one.
    const before = await makeEngine({
      runbooks: {},
      configYaml: config,
      providersFor: providers(),
    });
    const planCheck = buildJobs(before.config).find((job) => job.name === 'plan-check')!;
    const posted: string[] = [];
    await planCheck.run({
      config: before.config,
      engine: before.engine,
      notifier: { post: (notice) => Promise.resolve(void posted.push(notice.text)) },
      now: before.clock(),
    });
    expect(posted.join('\n')).not.toContain('database:');
    await before.store.close();

    // The disaster ten minutes after RDS's automated snapshot, by moto's clock: what the restore
    // loses is measured between the two, never against today's date.
    const { DBSnapshots } = await rds('us-east-1').send(
      new DescribeDBSnapshotsCommand({ DBInstanceIdentifier: 'production-primary' }),
    );
    const snapshotAt = DBSnapshots![0]!.SnapshotCreateTime!.getTime();
    const { t, view } = await runThrough(config, {
      runbook: ['failover', runbook],
      clock: testClock(new Date(snapshotAt + 600_000).toISOString()),
    });

    expect(view.run.status).toBe('succeeded');
    expect(view.steps.map((step) => [step.action, step.state])).toEqual([
      ['backup.copy-snapshot', 'done'],
      ['db.fence', 'done'],
      ['db.restore', 'done'],
      ['dns.switch', 'done'],
    ]);
    const restored = await describe1('us-west-2', 'production-dr');
    expect(restored.DBInstanceStatus).toBe('available');
    expect(view.steps[2]!.summary).toMatch(
      new RegExp(
        `^RDS production-dr \\(us-west-2\\) restored from production-primary-[\\d-]+ \\(data as of .* UTC\\) in \\d+s: available at ${restored.Endpoint!.Address!.replace(/\./g, '\\.')}$`,
      ),
    );
    expect(view.steps[2]!.approvals.map((approval) => approval.status)).toEqual(['approved']);
    expect((await describe1('us-east-1', 'production-primary')).DBInstanceStatus).toBe('stopped');
    expect(await recordValue(zoneId)).toBe(restored.Endpoint!.Address);
    expect(view.run).toMatchObject({ rpoExposureBound: 'lower-bound' });
    expect(view.run.rpoExposureSeconds).toBeGreaterThan(590);
    expect(view.run.rpoExposureSeconds).toBeLessThanOrEqual(600);
    // Status says what a backup-restore RDS service waits for: no replica, a snapshot to restore.
    const text = (
      (await status.run(['orders-db'], {
        config: t.config,
        store: t.store,
        user: 'U0ALICE',
        clock: t.clock,
        engine: t.engine,
      })) as { text: string }
    ).text;
    expect(text).toContain(
      '• replication: backup-restore: no replica — a recovery restores the newest snapshot in us-west-2 as RDS production-dr',
    );
    await t.store.close();
  });
});

describe('pilot light, on the wire (moto_server)', () => {
  it('promotes the small replica, scales it to the full-load class and the application’s group to its full size, each behind a second person, and verifies what AWS now runs', async () => {
    const { zoneId, replicaEndpoint } = await seedRdsFailover(moto.url);
    await publishReplicaLag(moto.url, 0.4);
    const asg = new AutoScalingClient({ region: 'us-west-2', endpoint: moto.url });
    await asg.send(
      new CreateLaunchConfigurationCommand({
        LaunchConfigurationName: 'app',
        ImageId: 'ami-12c6146b',
        InstanceType: 't3.micro',
      }),
    );
    await asg.send(
      new CreateAutoScalingGroupCommand({
        AutoScalingGroupName: 'app-dr',
        LaunchConfigurationName: 'app',
        MinSize: 0,
        MaxSize: 4,
        DesiredCapacity: 0,
        AvailabilityZones: ['us-west-2a'],
      }),
    );
    const config = configFor(zoneId)
      .replace(
        '    rpo: 1m\n',
        '    rpo: 1m\n    strategy: pilot-light\n    app_scaling: { provider: aws-autoscaling, group: app-dr, region: us-west-2, desired: 3 }\n',
      )
      .replace(
        '      fence: { mode: stop }\n',
        '      fence: { mode: stop }\n      scale_up: { instance_class: db.r6g.2xlarge }\n',
      );
    const runbook = `---\ntitle: Pilot light\nkind: failover\nservice: orders-db\n---\n## Go (30 minutes)\n1. Fence \`action: db.fence\`\n2. Promote \`action: db.promote\`\n3. Scale up \`action: db.scale-up\`\n4. Scale the application up \`action: app.scale-up\`\n5. Switch DNS \`action: dns.switch\`\n`;
    const { view } = await runThrough(config, { runbook: ['failover', runbook] });

    expect(view.run.status).toBe('succeeded');
    const scaled = view.steps.find((step) => step.action === 'db.scale-up')!;
    expect(scaled).toMatchObject({
      state: 'done',
      summary: 'RDS production-dr (us-west-2) scaled from db.t3.micro to db.r6g.2xlarge',
    });
    expect(scaled.approvals.map((approval) => approval.status)).toEqual(['approved']);
    const replica = await describe1('us-west-2', 'production-dr');
    expect(replica).toMatchObject({
      DBInstanceClass: 'db.r6g.2xlarge',
      DBInstanceStatus: 'available',
    });
    expect(replica.ReadReplicaSourceDBInstanceIdentifier).toBeUndefined();
    expect(await recordValue(zoneId)).toBe(replicaEndpoint);
    const app = view.steps.find((step) => step.action === 'app.scale-up')!;
    expect(app).toMatchObject({
      state: 'done',
      summary:
        'Auto Scaling group app-dr (us-west-2) from 0 to 3 instances, all in service and healthy',
    });
    expect(app.approvals.map((approval) => approval.status)).toEqual(['approved']);
    const { AutoScalingGroups } = await asg.send(
      new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: ['app-dr'] }),
    );
    expect(AutoScalingGroups?.[0]?.DesiredCapacity).toBe(3);
    expect(
      AutoScalingGroups?.[0]?.Instances?.filter((i) => i.LifecycleState === 'InService'),
    ).toHaveLength(3);
  });
});

describe('Route 53 weighted records, on the wire (moto_server)', () => {
  it('moves all the weight to the promoted replica in one change, keeping each record set as it was', async () => {
    const { zoneId, primaryEndpoint, replicaEndpoint } = await seedRdsFailover(moto.url, {
      record: false,
    });
    const weighted = (region: string, value: string, weight: number) => ({
      Action: 'CREATE' as const,
      ResourceRecordSet: {
        Name: 'db.example.com',
        Type: 'CNAME' as const,
        TTL: 30,
        SetIdentifier: region,
        Weight: weight,
        ResourceRecords: [{ Value: value }],
      },
    });
    await route53().send(
      new ChangeResourceRecordSetsCommand({
        HostedZoneId: zoneId,
        ChangeBatch: {
          Changes: [
            weighted('us-east-1', primaryEndpoint, 100),
            weighted('us-west-2', replicaEndpoint, 0),
          ],
        },
      }),
    );
    await publishReplicaLag(moto.url, 0.4);
    const { t, view } = await runThrough(configFor(zoneId, 'production-dr', 'weighted'));

    expect(view.run.status).toBe('succeeded');
    expect(view.steps[2]!.summary).toMatch(
      new RegExp(
        `^db\\.example\\.com sends all its weight to ${replicaEndpoint.replace(/\./g, '\\.')} \\(us-west-2 weight 100, the others 0; change \\S+ INSYNC\\)$`,
      ),
    );
    const { ResourceRecordSets } = await route53().send(
      new ListResourceRecordSetsCommand({ HostedZoneId: zoneId }),
    );
    expect(
      ResourceRecordSets!
        .filter((set) => set.Name === 'db.example.com.')
        .map((set) => [set.SetIdentifier, set.Weight, set.TTL, set.ResourceRecords?.[0]?.Value]),
    ).toEqual([
      ['us-east-1', 0, 30, primaryEndpoint],
      ['us-west-2', 100, 30, replicaEndpoint],
    ]);
    const dns = createServiceProviders(t.config.services['orders-db']!, 'failover').dns!;
    expect(await dns.pointsAt(replicaEndpoint)).toMatchObject({ ok: true });
    expect(await dns.pointsAt(primaryEndpoint)).toMatchObject({ ok: false });
    await expect(dns.switchTo('elsewhere.example.net')).rejects.toThrow(
      'no weighted record set points at elsewhere.example.net',
    );
  });
});

describe('Aurora Global Database, on the wire (moto_server)', () => {
  const auroraConfig = `approvals:
  approvers: [U0ALICE, U0BOB]
services:
  orders-db:
    rto: 15m
    rpo: 1m
    database:
      provider: aurora-global
      global_cluster_id: orders-global
      primary: { cluster_id: orders-east, region: us-east-1 }
      replica: { cluster_id: orders-west, region: us-west-2 }
`;
  const runbook = (kind: string) =>
    `---\ntitle: ${kind}\nkind: ${kind}\nservice: orders-db\n---\n## Go (15 minutes)\n1. Fence \`action: db.fence\`\n2. Promote \`action: db.promote\`\n`;

  const approvalSummaries = (t: { events: EngineEvent[] }) =>
    t.events.flatMap((event) => (event.type === 'approval.requested' ? [event.summary] : []));

  async function writer(): Promise<string | undefined> {
    const { GlobalClusters } = await rds('us-west-2').send(
      new DescribeGlobalClustersCommand({ GlobalClusterIdentifier: 'orders-global' }),
    );
    return GlobalClusters?.[0]?.GlobalClusterMembers?.find((m) => m.IsWriter)?.DBClusterArn;
  }

  it('switches over with SwitchoverGlobalCluster, fencing nothing itself, saying what it waits for', async () => {
    await seedAuroraGlobal(moto.url, 400);
    const { t, view } = await runThrough(auroraConfig, {
      runbook: ['switchover', runbook('switchover')],
    });

    expect(view.run.status).toBe('succeeded');
    expect(view.steps.map((step) => [step.action, step.state])).toEqual([
      ['db.fence', 'skipped'],
      ['db.promote', 'done'],
    ]);
    expect(view.steps[0]!.summary).toContain(
      'Aurora demotes the old writer itself when a switchover or failover makes the other cluster the writer',
    );
    expect(view.steps[1]!.summary).toBe(
      'Aurora cluster orders-west (us-west-2) is the writer of Aurora global database orders-global after SwitchoverGlobalCluster (no data lost: Aurora waited until it had everything)',
    );
    expect(await writer()).toMatch(/:cluster:orders-west$/);
    expect(approvalSummaries(t)).toEqual([expect.stringContaining('nothing is lost')]);
    expect(view.run.rpoExposureSeconds).toBe(0.4);
    const progress = t.events.flatMap((event) =>
      event.type === 'action.progress' ? [event.text] : [],
    );
    expect(progress[0]).toMatch(
      /^Aurora global database orders-global SwitchoverGlobalCluster: switching-over, \d+s so far$/,
    );
    expect(await verifyAuditLog(t.store)).toMatchObject({ ok: true });
  });

  it('fails over with FailoverGlobalCluster while us-east-1 hangs: it never calls the failed region', async () => {
    await seedAuroraGlobal(moto.url, 400);
    const proxy = await regionProxy(moto.url, { hang: { region: 'us-east-1', service: 'rds' } });
    process.env.AWS_ENDPOINT_URL = proxy.url;
    try {
      const t = await makeEngine({
        runbooks: { failover: runbook('failover') },
        configYaml: auroraConfig,
        providersFor: providers({
          awsTimeouts: { connectMs: 300, requestMs: 300, streamIdleMs: 1000 },
        }),
      });
      const { runId } = await t.engine.startRun({
        key: 'slash',
        actor: { user: 'U0ALICE' },
        runbook: 'failover',
      });
      const view = await playThrough(t, runId);
      expect(view.run.status).toBe('succeeded');
      expect(view.steps[1]!.summary).toBe(
        'Aurora cluster orders-west (us-west-2) is the writer of Aurora global database orders-global after FailoverGlobalCluster (AllowDataLoss: what the old writer had not replicated is lost)',
      );
      expect(proxy.hung()).toBe(0);
      // What the second person was asked to approve said it loses what was not replicated.
      expect(approvalSummaries(t)).toEqual([
        expect.stringMatching(
          /^Make Aurora cluster orders-west \(us-west-2\) the writer of Aurora global database orders-global at once with FailoverGlobalCluster and AllowDataLoss: what Aurora cluster orders-east \(us-east-1\) had not replicated is lost/,
        ),
      ]);
      process.env.AWS_ENDPOINT_URL = moto.url;
      expect(await writer()).toMatch(/:cluster:orders-west$/);
    } finally {
      process.env.AWS_ENDPOINT_URL = moto.url;
      await proxy.close();
    }
  });

  it('refuses a cluster that is not a member of the global database before anything happens', async () => {
    await seedAuroraGlobal(moto.url, 400);
    const { view } = await runThrough(
      auroraConfig.replace('cluster_id: orders-west', 'cluster_id: orders-typo'),
      { runbook: ['failover', runbook('failover')] },
    );
    expect(view.current).toMatchObject({ action: 'db.promote' });
    expect(view.current!.summary).toMatch(
      /Aurora cluster orders-typo \(us-west-2\).*is not a member of Aurora global database orders-global/,
    );
    expect(await writer()).toMatch(/:cluster:orders-east$/);
  });
});

describe('backups in another region, or it is not DR — on the wire (moto_server)', () => {
  it("fails the backup check when the bucket is in the primary's region, passes it elsewhere", async () => {
    const { zoneId } = await seedRdsFailover(moto.url);
    await seedBackups('orders-backups', 'us-east-1');
    await seedBackups('orders-backups-dr', 'us-west-2');

    const beside = await cli(
      ['check', 'backups'],
      workspace(withBackups(configFor(zoneId), 'orders-backups', 'us-east-1')),
    );
    expect(beside.stdout).toContain(
      'FAIL  orders-db: s3://orders-backups/postgres/: backups are in us-east-1 with the primary: a regional disaster takes both',
    );
    expect(beside.code).toBe(1);

    // The bucket's real region counts, not what lifeboat.yml says of it.
    const misnamed = await cli(
      ['check', 'backups'],
      workspace(withBackups(configFor(zoneId), 'orders-backups', 'us-west-2')),
    );
    expect(misnamed.stdout).toContain('backups are in us-east-1 with the primary');

    const away = await cli(
      ['check', 'backups'],
      workspace(withBackups(configFor(zoneId), 'orders-backups-dr', 'us-west-2')),
    );
    expect(away.stdout).toMatch(
      /^ok {4}orders-db: newest postgres\/orders-0001\.dump: \d+ bytes, \S+ old \(max 1d\); in us-west-2, away from the primary \(us-east-1\)$/m,
    );
    expect(away.code).toBe(0);
  });
});
