// What the AWS tests and the AWS failover bench build in moto_server, as a user has it: an RDS
// PostgreSQL primary in us-east-1, its cross-region read replica in us-west-2, a Route 53 CNAME
// on the primary, the replica's ReplicaLag in CloudWatch — and a loopback proxy in front of moto
// that can make one region's API accept connections and never answer, and times what it forwards.

import { CloudWatchClient, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import {
  CreateDBClusterCommand,
  CreateGlobalClusterCommand,
  CreateDBInstanceCommand,
  CreateDBInstanceReadReplicaCommand,
  DescribeDBInstancesCommand,
  RDSClient,
} from '@aws-sdk/client-rds';
import {
  ChangeResourceRecordSetsCommand,
  CreateHostedZoneCommand,
  Route53Client,
} from '@aws-sdk/client-route-53';
import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import type { Socket } from 'node:net';

/**
 * lifeboat.yml for the seeded pair, as a user writes it: the service orders-db, an RDS primary and
 * its replica (fenced by stopping it), the record in `zoneId`, switched as `dnsMode` says.
 */
export const configFor = (
  zoneId: string,
  replica = 'production-dr',
  dnsMode = 'upsert',
) => `approvals:
  approvers: [U0ALICE, U0BOB]
services:
  orders-db:
    rto: 15m
    rpo: 1m
    database:
      provider: aws-rds
      primary: { id: production-primary, region: us-east-1 }
      replica: { id: ${replica}, region: us-west-2 }
      fence: { mode: stop }
    dns: { provider: route53, mode: ${dnsMode}, zone_id: ${zoneId}, record: db.example.com }
`;

export const PRIMARY_ARN = 'arn:aws:rds:us-east-1:123456789012:db:production-primary';

export async function describeInstance(url: string, region: string, id: string) {
  const { DBInstances } = await new RDSClient({ region, endpoint: url }).send(
    new DescribeDBInstancesCommand({ DBInstanceIdentifier: id }),
  );
  return DBInstances![0]!;
}

/**
 * The primary, its cross-region replica and the zone with the record on the primary (`record:
 * false`: the zone without it).
 */
export async function seedRdsFailover(
  url: string,
  options: { record?: boolean } = {},
): Promise<{
  zoneId: string;
  primaryEndpoint: string;
  replicaEndpoint: string;
}> {
  await new RDSClient({ region: 'us-east-1', endpoint: url }).send(
    new CreateDBInstanceCommand({
      DBInstanceIdentifier: 'production-primary',
      Engine: 'postgres',
      DBInstanceClass: 'db.t3.micro',
      MasterUsername: 'lifeboat',
      MasterUserPassword: 'lifeboat-password',
      AllocatedStorage: 20,
    }),
  );
  await new RDSClient({ region: 'us-west-2', endpoint: url }).send(
    new CreateDBInstanceReadReplicaCommand({
      DBInstanceIdentifier: 'production-dr',
      SourceDBInstanceIdentifier: PRIMARY_ARN,
    }),
  );
  const route53 = new Route53Client({ region: 'us-east-1', endpoint: url });
  const zone = await route53.send(
    new CreateHostedZoneCommand({ Name: 'example.com', CallerReference: `lifeboat-${Date.now()}` }),
  );
  const zoneId = zone.HostedZone!.Id!.replace('/hostedzone/', '');
  const primary = await describeInstance(url, 'us-east-1', 'production-primary');
  if (options.record !== false)
    await route53.send(
      new ChangeResourceRecordSetsCommand({
        HostedZoneId: zoneId,
        ChangeBatch: {
          Changes: [
            {
              Action: 'CREATE',
              ResourceRecordSet: {
                Name: 'db.example.com',
                Type: 'CNAME',
                TTL: 60,
                ResourceRecords: [{ Value: primary.Endpoint!.Address! }],
              },
            },
          ],
        },
      }),
    );
  const replica = await describeInstance(url, 'us-west-2', 'production-dr');
  return {
    zoneId,
    primaryEndpoint: primary.Endpoint!.Address!,
    replicaEndpoint: replica.Endpoint!.Address!,
  };
}

/** CloudWatch's ReplicaLag of the replica, in the replica's region, as RDS publishes it. */
export async function publishReplicaLag(url: string, seconds: number): Promise<void> {
  await new CloudWatchClient({ region: 'us-west-2', endpoint: url }).send(
    new PutMetricDataCommand({
      Namespace: 'AWS/RDS',
      MetricData: [
        {
          MetricName: 'ReplicaLag',
          Dimensions: [{ Name: 'DBInstanceIdentifier', Value: 'production-dr' }],
          Value: seconds,
          Unit: 'Seconds',
          // RDS publishes once a minute: the newest datapoint is always a little old (and
          // CloudWatch answers only datapoints before the whole second a query ends at).
          Timestamp: new Date(Date.now() - 30_000),
        },
      ],
    }),
  );
}

/**
 * An Aurora Global Database: its writer cluster in us-east-1, its secondary in us-west-2, and the
 * secondary's AuroraGlobalDBReplicationLag (milliseconds) in CloudWatch.
 */
export async function seedAuroraGlobal(url: string, lagMs: number): Promise<void> {
  const east = new RDSClient({ region: 'us-east-1', endpoint: url });
  await east.send(
    new CreateGlobalClusterCommand({
      GlobalClusterIdentifier: 'orders-global',
      Engine: 'aurora-postgresql',
    }),
  );
  await east.send(
    new CreateDBClusterCommand({
      DBClusterIdentifier: 'orders-east',
      Engine: 'aurora-postgresql',
      GlobalClusterIdentifier: 'orders-global',
      MasterUsername: 'lifeboat',
      MasterUserPassword: 'lifeboat-password',
    }),
  );
  await new RDSClient({ region: 'us-west-2', endpoint: url }).send(
    new CreateDBClusterCommand({
      DBClusterIdentifier: 'orders-west',
      Engine: 'aurora-postgresql',
      GlobalClusterIdentifier: 'orders-global',
    }),
  );
  await new CloudWatchClient({ region: 'us-west-2', endpoint: url }).send(
    new PutMetricDataCommand({
      Namespace: 'AWS/RDS',
      MetricData: [
        {
          MetricName: 'AuroraGlobalDBReplicationLag',
          Dimensions: [{ Name: 'DBClusterIdentifier', Value: 'orders-west' }],
          Value: lagMs,
          Unit: 'Milliseconds',
          Timestamp: new Date(Date.now() - 30_000),
        },
      ],
    }),
  );
}

export interface RegionProxy {
  url: string;
  /** How many requests were held unanswered. */
  hung: () => number;
  /** [start, end] of each request, in performance.now() ms: answered ones, and held ones until closed. */
  intervals: () => Array<[number, number]>;
  close(): Promise<void>;
}

/**
 * moto behind a loopback proxy: with `hang`, every request to that region's `service` API is
 * accepted and never answered (a region that takes connections and hangs); the rest is passed on.
 */
export async function regionProxy(
  motoUrl: string,
  options: { hang?: { region: string; service: string } } = {},
): Promise<RegionProxy> {
  const held: Array<{ socket: Socket; start: number; end: number | null }> = [];
  const answered: Array<[number, number]> = [];
  const target = new URL(motoUrl);
  const server: Server = createServer((incoming: IncomingMessage, outgoing) => {
    const start = performance.now();
    const scope = /Credential=[^/]+\/\d{8}\/([^/]+)\/([^/]+)\//.exec(
      incoming.headers.authorization ?? '',
    );
    if (options.hang && scope?.[1] === options.hang.region && scope[2] === options.hang.service) {
      const entry = { socket: incoming.socket, start, end: null as number | null };
      held.push(entry);
      incoming.socket.once('close', () => (entry.end ??= performance.now()));
      return;
    }
    const forward = request(
      {
        host: target.hostname,
        port: target.port,
        method: incoming.method,
        path: incoming.url,
        headers: incoming.headers,
      },
      (answer) => {
        outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(outgoing);
        answer.once('end', () => answered.push([start, performance.now()]));
      },
    );
    incoming.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    hung: () => held.length,
    intervals: () => [
      ...answered,
      ...held.map((entry): [number, number] => [entry.start, entry.end ?? performance.now()]),
    ],
    close: async () => {
      for (const entry of held) entry.socket.destroy();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
