// The AWS failover through the break-glass CLI against moto_server (the AWS emulator), as a user
// runs it when Slack is down: `lifeboat run start failover`, then one `lifeboat run approve RUN
// --token T` per gated step, each token signed by a second person's key. Timed from the second
// person's first approval to the DNS record verified: the fence (StopDBInstance), the promotion
// (PromoteReadReplica), the record switch (UPSERT, INSYNC) and its check. Every AWS request goes
// through a loopback proxy that times it, so the wall time splits into waiting on the (emulated)
// API and lifeboat's own time (processes starting, config, store, gates, audit). Twice: with
// us-east-1 healthy, and with its RDS API accepting connections and never answering. Baseline:
// the same AWS calls made bare, in-process, through the same proxy.
//
//   npm run build && npx tsx bench/aws-failover.ts [rounds]

import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem, userInfo } from 'node:os';
import path from 'node:path';
import {
  DescribeDBInstancesCommand,
  PromoteReadReplicaCommand,
  RDSClient,
  StopDBInstanceCommand,
} from '@aws-sdk/client-rds';
import {
  ChangeResourceRecordSetsCommand,
  GetChangeCommand,
  Route53Client,
} from '@aws-sdk/client-route-53';
import { generateApproverKey, signChallenge } from '../src/cli/approval-token.js';
import {
  configFor,
  publishReplicaLag,
  regionProxy,
  seedRdsFailover,
  type RegionProxy,
} from '../test/support/aws-seed.js';
import { startMoto } from '../test/support/moto.js';
import { formatRatio, formatSummary } from './stats.js';

const ROUNDS = Number(process.argv[2] ?? 5);
const root = path.resolve(import.meta.dirname, '..');
const cliJs = path.join(root, 'dist', 'cli', 'lifeboat.js');
const RUNBOOK = `---
title: Failover
kind: failover
service: orders-db
---
## Go (15 minutes)
1. Fence \`action: db.fence\`
2. Promote \`action: db.promote\`
3. Switch DNS \`action: dns.switch\`
4. Check DNS \`action: dns.verify\`
`;

interface Round {
  wallMs: number;
  apiMs: number;
}

/** Milliseconds of [from, to] covered by at least one request. */
function covered(intervals: Array<[number, number]>, from: number, to: number): number {
  const clipped = intervals
    .map(([a, b]): [number, number] => [Math.max(a, from), Math.min(b, to)])
    .filter(([a, b]) => b > a)
    .sort((x, y) => x[0] - y[0]);
  let total = 0;
  let end = -Infinity;
  for (const [a, b] of clipped) {
    if (b <= end) continue;
    total += b - Math.max(a, end);
    end = b;
  }
  return total;
}

function lifeboat(env: NodeJS.ProcessEnv, ...args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cliJs, ...args], { env });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.on('error', reject);
    child.on('exit', () => resolve(out));
  });
}

async function throughCli(motoUrl: string, dir: string, hang: boolean): Promise<Round> {
  await fetch(`${motoUrl}/moto-api/reset`, { method: 'POST' });
  const { zoneId } = await seedRdsFailover(motoUrl);
  await publishReplicaLag(motoUrl, 0.4);
  const bob = generateApproverKey('U0BOB');
  mkdirSync(path.join(dir, 'runbooks'), { recursive: true });
  writeFileSync(path.join(dir, 'runbooks', 'failover.md'), RUNBOOK);
  writeFileSync(
    path.join(dir, 'lifeboat.yml'),
    `cli:\n  users: { ${userInfo().username}: U0ALICE }\n${configFor(zoneId).replace(
      'approvals:\n',
      `approvals:\n  keys: { U0BOB: "${bob.publicKey}" }\n`,
    )}`,
  );
  const keyFile = bob.keyFile;
  const proxy = await regionProxy(
    motoUrl,
    hang ? { hang: { region: 'us-east-1', service: 'rds' } } : {},
  );
  const env = {
    ...process.env,
    LIFEBOAT_CONFIG: path.join(dir, 'lifeboat.yml'),
    AWS_ENDPOINT_URL: proxy.url,
    AWS_ACCESS_KEY_ID: 'testing',
    AWS_SECRET_ACCESS_KEY: 'testing',
  };
  try {
    let out = await lifeboat(env, 'run', 'start', 'failover');
    const runId = /run (r-[0-9a-f]+)/.exec(out)?.[1];
    if (!runId) throw new Error(`no run started: ${out}`);
    let wallMs = 0;
    let apiMs = 0;
    for (let approvals = 0; ; approvals++) {
      const challenge = /lifeboat approve-token (\S+) --key/.exec(out)?.[1];
      if (!challenge) break;
      if (approvals > 5) throw new Error(`too many approvals: ${out}`);
      const token = signChallenge(challenge, keyFile);
      const start = performance.now();
      out = await lifeboat(env, 'run', 'approve', runId, '--token', token);
      const end = performance.now();
      wallMs += end - start;
      apiMs += covered(proxy.intervals(), start, end);
      if (process.env.BENCH_VERBOSE)
        console.log(`--- run approve ${approvals + 1}: ${(end - start).toFixed(0)} ms\n${out}`);
    }
    if (!/\[x\] 4\. Check DNS/.test(out) && !/succeeded/.test(out))
      throw new Error(`the failover did not finish:\n${out}`);
    return { wallMs, apiMs };
  } finally {
    await proxy.close();
  }
}

/** The same AWS calls, bare: stop, promote, wait standalone, UPSERT, wait INSYNC. */
async function bare(motoUrl: string): Promise<Round> {
  await fetch(`${motoUrl}/moto-api/reset`, { method: 'POST' });
  const { zoneId, replicaEndpoint } = await seedRdsFailover(motoUrl);
  const proxy: RegionProxy = await regionProxy(motoUrl);
  const credentials = { accessKeyId: 'testing', secretAccessKey: 'testing' };
  const east = new RDSClient({ region: 'us-east-1', endpoint: proxy.url, credentials });
  const west = new RDSClient({ region: 'us-west-2', endpoint: proxy.url, credentials });
  const route53 = new Route53Client({ region: 'us-east-1', endpoint: proxy.url, credentials });
  try {
    const start = performance.now();
    await east.send(new StopDBInstanceCommand({ DBInstanceIdentifier: 'production-primary' }));
    await west.send(new PromoteReadReplicaCommand({ DBInstanceIdentifier: 'production-dr' }));
    for (;;) {
      const { DBInstances } = await west.send(
        new DescribeDBInstancesCommand({ DBInstanceIdentifier: 'production-dr' }),
      );
      if (!DBInstances?.[0]?.ReadReplicaSourceDBInstanceIdentifier) break;
    }
    const change = await route53.send(
      new ChangeResourceRecordSetsCommand({
        HostedZoneId: zoneId,
        ChangeBatch: {
          Changes: [
            {
              Action: 'UPSERT',
              ResourceRecordSet: {
                Name: 'db.example.com',
                Type: 'CNAME',
                TTL: 60,
                ResourceRecords: [{ Value: replicaEndpoint }],
              },
            },
          ],
        },
      }),
    );
    for (;;) {
      const { ChangeInfo } = await route53.send(
        new GetChangeCommand({ Id: change.ChangeInfo!.Id }),
      );
      if (ChangeInfo?.Status === 'INSYNC') break;
    }
    const end = performance.now();
    return { wallMs: end - start, apiMs: covered(proxy.intervals(), start, end) };
  } finally {
    await proxy.close();
  }
}

// The emulator takes any key; the seeding in this process signs with these too.
process.env.AWS_ACCESS_KEY_ID = 'testing';
process.env.AWS_SECRET_ACCESS_KEY = 'testing';
delete process.env.AWS_SESSION_TOKEN;
const moto = await startMoto();
const work = mkdtempSync(path.join(tmpdir(), 'lifeboat-bench-aws-'));
const healthy: Round[] = [];
const hanging: Round[] = [];
const bares: Round[] = [];
try {
  // A warm-up of each, then the three alternately.
  await throughCli(moto.url, path.join(work, 'warm'), false);
  await bare(moto.url);
  for (let round = 0; round < ROUNDS; round++) {
    healthy.push(await throughCli(moto.url, path.join(work, `h${round}`), false));
    bares.push(await bare(moto.url));
    hanging.push(await throughCli(moto.url, path.join(work, `x${round}`), true));
  }
} finally {
  await moto.stop();
  rmSync(work, { recursive: true, force: true });
}

const wall = (rounds: Round[]) => rounds.map((r) => r.wallMs);
const api = (rounds: Round[]) => rounds.map((r) => r.apiMs);
const own = (rounds: Round[]) => rounds.map((r) => r.wallMs - r.apiMs);
console.log(
  `AWS failover through the break-glass CLI against moto_server, second person's first approval -> DNS verified (${ROUNDS} rounds; ${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version})`,
);
console.log(' us-east-1 healthy:');
console.log(formatSummary('whole (3 `run approve` processes)', wall(healthy)));
console.log(formatSummary('  waiting on the AWS API', api(healthy)));
console.log(
  formatSummary('  in lifeboat (process start, config, store, gates, audit)', own(healthy)),
);
console.log(" us-east-1's RDS API accepting connections and never answering:");
console.log(formatSummary('whole (3 `run approve` processes)', wall(hanging)));
console.log(
  formatSummary('  waiting on the AWS API (the hung calls until their budget)', api(hanging)),
);
console.log(formatSummary('  in lifeboat', own(hanging)));
console.log(' bare: the same AWS calls in-process, no gates, no store, healthy:');
console.log(formatSummary('whole', wall(bares)));
console.log(formatSummary('  waiting on the AWS API', api(bares)));
console.log(' lifeboat healthy against bare:');
console.log(formatRatio(wall(healthy), wall(bares)));
