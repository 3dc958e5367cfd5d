// Multi-site active-active on real things: two PostgreSQL servers that both take writes (one site
// each), a Route 53 weighted record over them (moto_server), and the shipped drain-region runbook.
// Both writable is the design, never TWO PRIMARIES; a site that stops answering is SITE DOWN; the
// drain sends all the weight to the healthy site behind two people, promoting and fencing nothing.

import {
  ChangeResourceRecordSetsCommand,
  CreateHostedZoneCommand,
  ListResourceRecordSetsCommand,
  Route53Client,
} from '@aws-sdk/client-route-53';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { status } from '../../commands/status.js';
import { startThrowawayServer, stopServer } from '../../src/providers/postgres/servers.js';
import { makeEngine, playThrough } from '../support/engine.js';
import { startMoto, type Moto } from '../support/moto.js';
import { sql } from '../support/pg-pair.js';

type Server = Awaited<ReturnType<typeof startThrowawayServer>>;
let moto: Moto;
let east: Server;
let west: Server;
const saved: Record<string, string | undefined> = {};

beforeAll(async () => {
  [moto, east, west] = await Promise.all([
    startMoto(),
    startThrowawayServer(),
    startThrowawayServer(),
  ]);
  const env = {
    AWS_ACCESS_KEY_ID: 'testing',
    AWS_SECRET_ACCESS_KEY: 'testing',
    AWS_ENDPOINT_URL: moto.url,
  };
  for (const [name, value] of Object.entries(env)) {
    saved[name] = process.env[name];
    process.env[name] = value;
  }
}, 120_000);
afterAll(async () => {
  for (const [name, value] of Object.entries(saved))
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  await Promise.allSettled([moto?.stop(), east?.stop(), west?.stop()]);
});

const route53 = () => new Route53Client({ region: 'us-east-1', endpoint: moto.url });

describe('an active-active service', () => {
  it('is healthy with both sites writable, SITE DOWN when one stops, and drains it by weight without promoting or fencing anything', async () => {
    const zone = await route53().send(
      new CreateHostedZoneCommand({ Name: 'example.com', CallerReference: `aa-${Date.now()}` }),
    );
    const zoneId = zone.HostedZone!.Id!.replace('/hostedzone/', '');
    // The two sites' databases, by name: the east one as "localhost", the west one as 127.0.0.1.
    const weighted = (site: string, value: string) => ({
      Action: 'CREATE' as const,
      ResourceRecordSet: {
        Name: 'db.example.com',
        Type: 'CNAME' as const,
        TTL: 30,
        SetIdentifier: site,
        Weight: 50,
        ResourceRecords: [{ Value: value }],
      },
    });
    await route53().send(
      new ChangeResourceRecordSetsCommand({
        HostedZoneId: zoneId,
        ChangeBatch: { Changes: [weighted('east', 'localhost'), weighted('west', '127.0.0.1')] },
      }),
    );
    const t = await makeEngine({
      runbooks: {
        'drain-region': readFileSync(
          path.resolve(import.meta.dirname, '../../runbooks/drain-region.md'),
          'utf8',
        ),
      },
      configYaml: `approvals: { approvers: [U0ALICE, U0BOB], required: 1, expires_after: 15m }
services:
  orders:
    rto: 5m
    rpo: 1s
    strategy: active-active
    runbooks: { failover: drain-region }
    database: { provider: postgres, primary: "postgres://postgres@localhost:${east.server.port}/postgres", replica: "${west.server.url}" }
    dns: { provider: route53, mode: weighted, zone_id: ${zoneId}, record: db.example.com, type: CNAME }
`,
    });
    const statusText = async () =>
      (await status.run(['orders'], {
        config: t.config,
        store: t.store,
        user: 'U0ALICE',
        clock: t.clock,
        engine: t.engine,
      })) as { text: string; alarms: string[] };
    const healthy = await statusText();
    expect(healthy.text).toContain(
      `• replication: active-active: both primary localhost:${east.server.port} and replica 127.0.0.1:${west.server.port} take writes`,
    );
    expect(healthy.alarms).toEqual([]);

    await stopServer(east.server, 'immediate');
    const down = await statusText();
    expect(down.text).toMatch(
      new RegExp(
        `• replication: active-active: primary localhost:${east.server.port} does not take writes \\(.*\\) — drain its traffic \\(the drain-region runbook\\)`,
      ),
    );

    const { runId } = await t.engine.startRun({
      key: 'drain',
      actor: { user: 'U0ALICE' },
      runbook: 'drain-region',
      service: 'orders',
    });
    const view = await playThrough(t, runId);
    expect(view.run.status).toBe('succeeded');
    const acted = view.steps.filter((step) => step.action !== null);
    expect(acted.map((step) => [step.action, step.state])).toEqual([
      ['dns.switch', 'done'],
      ['dns.verify', 'done'],
      ['db.verify-writable', 'done'],
      ['http.check', 'skipped'],
    ]);
    expect(acted[0]!.approvals.map((approval) => approval.status)).toEqual(['approved']);
    const { ResourceRecordSets } = await route53().send(
      new ListResourceRecordSetsCommand({ HostedZoneId: zoneId }),
    );
    expect(
      ResourceRecordSets!
        .filter((set) => set.Name === 'db.example.com.')
        .map((set) => [set.SetIdentifier, set.Weight]),
    ).toEqual([
      ['east', 0],
      ['west', 100],
    ]);
    // The west site took the drained traffic's writes; nothing was promoted or fenced.
    expect(await sql(west.server.url, 'SELECT pg_is_in_recovery() AS standby')).toEqual([
      { standby: false },
    ]);
    await t.store.close();
  });
});
