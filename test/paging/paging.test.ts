// Paging, received by a local server that checks every payload against what PagerDuty's Events
// API v2, Opsgenie's Alert API and our signed webhook document: a run's life (started, a step
// failed, an approval nobody decides, finished), TWO PRIMARIES found by the scheduled lag check on
// two real PostgreSQL servers, and a page that cannot be delivered said in the channel.

import { createHmac } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { Pager } from '../../src/paging/pager.js';
import { startThrowawayServer } from '../../src/providers/postgres/servers.js';
import { jobOf } from '../support/jobs.js';
import type { Notice } from '../../src/schedule/notifier.js';
import { makeEngine, postgresConfig, type TestEngine } from '../support/engine.js';

// PagerDuty Events API v2 (developer.pagerduty.com, "Send an Alert Event" / "Resolve").
const pagerDutyTrigger = z.strictObject({
  routing_key: z.string().min(1),
  event_action: z.literal('trigger'),
  dedup_key: z.string().min(1).max(255),
  client: z.string().optional(),
  payload: z.strictObject({
    summary: z.string().min(1).max(1024),
    source: z.string().min(1),
    severity: z.enum(['critical', 'error', 'warning', 'info']),
    timestamp: z.iso.datetime().optional(),
    component: z.string().optional(),
    group: z.string().optional(),
    class: z.string().optional(),
    custom_details: z.record(z.string(), z.unknown()).optional(),
  }),
});
const pagerDutyResolve = z.strictObject({
  routing_key: z.string().min(1),
  event_action: z.literal('resolve'),
  dedup_key: z.string().min(1).max(255),
});
// Opsgenie Alert API v2 (docs.opsgenie.com, "Create Alert" / "Close Alert").
const opsgenieCreate = z.strictObject({
  message: z.string().min(1).max(130),
  alias: z.string().max(512).optional(),
  description: z.string().max(15_000).optional(),
  priority: z.enum(['P1', 'P2', 'P3', 'P4', 'P5']).optional(),
  source: z.string().max(100).optional(),
  entity: z.string().max(512).optional(),
  tags: z.array(z.string().max(50)).max(20).optional(),
  details: z.record(z.string(), z.string()).optional(),
});
const opsgenieClose = z.strictObject({
  user: z.string().max(100).optional(),
  source: z.string().max(100).optional(),
  note: z.string().max(25_000).optional(),
});

interface Received {
  target: 'pagerduty' | 'opsgenie' | 'webhook';
  action: 'trigger' | 'resolve';
  dedupKey: string;
  summary: string;
  severity: string;
}

let server: Server | null = null;
afterEach(async () => {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = null;
});

/** A receiver for all three; a payload off its documented schema fails the test. */
async function receiver(
  failPagerDuty = false,
): Promise<{ url: string; got: Received[]; invalid: string[] }> {
  const got: Received[] = [];
  const invalid: string[] = [];
  server = createServer((request, response) => {
    let text = '';
    request.on('data', (chunk: Buffer) => (text += chunk.toString()));
    request.on('end', () => {
      const body = JSON.parse(text) as Record<string, unknown>;
      const url = request.url ?? '';
      const check = (schema: z.ZodType, value: unknown) => {
        const result = schema.safeParse(value);
        if (!result.success) invalid.push(`${url}: ${result.error.message}`);
      };
      if (url === '/pd') {
        if (failPagerDuty) {
          response
            .writeHead(400)
            .end('{"status":"invalid event","message":"Event object is invalid"}');
          return;
        }
        const resolve = body.event_action === 'resolve';
        check(resolve ? pagerDutyResolve : pagerDutyTrigger, body);
        const payload = body.payload as { summary: string; severity: string } | undefined;
        got.push({
          target: 'pagerduty',
          action: resolve ? 'resolve' : 'trigger',
          dedupKey: String(body.dedup_key),
          summary: payload?.summary ?? '',
          severity: payload?.severity ?? '',
        });
        response.writeHead(202).end('{"status":"success","dedup_key":"x"}');
      } else if (url.startsWith('/og/v2/alerts')) {
        if (request.headers.authorization !== 'GenieKey og-key')
          invalid.push('opsgenie: wrong key');
        const close = /^\/og\/v2\/alerts\/([^/]+)\/close\?identifierType=alias$/.exec(url);
        check(close ? opsgenieClose : opsgenieCreate, body);
        got.push({
          target: 'opsgenie',
          action: close ? 'resolve' : 'trigger',
          dedupKey: close ? decodeURIComponent(close[1]!) : String(body.alias),
          summary: String(close ? body.note : body.message),
          severity: typeof body.priority === 'string' ? body.priority : '',
        });
        response.writeHead(202).end('{"result":"Request will be processed"}');
      } else {
        const timestamp = String(request.headers['x-lifeboat-timestamp']);
        const expected = createHmac('sha256', 'hook-secret')
          .update(`${timestamp}.${text}`)
          .digest('hex');
        if (request.headers['x-lifeboat-signature'] !== `sha256=${expected}`)
          invalid.push('webhook: bad signature');
        got.push({
          target: 'webhook',
          action: body.action as 'trigger' | 'resolve',
          dedupKey: String(body.dedup_key),
          summary: String(body.summary),
          severity: String(body.severity),
        });
        response.writeHead(204).end();
      }
    });
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, got, invalid };
}

const paging = (url: string) => `paging:
  approval_waiting_after: 10m
  targets:
    oncall: { type: pagerduty, routing_key: { env: PD_KEY }, url: "${url}/pd" }
    ops: { type: opsgenie, api_key: { env: OG_KEY }, url: "${url}/og", events: [two-primaries, approval.waiting] }
    hook: { type: webhook, url: "${url}/hook", secret: { env: HOOK_SECRET }, events: [run.failed, run.finished] }
`;
const env = {
  PD_KEY: 'pd-key',
  OG_KEY: 'og-key',
  HOOK_SECRET: 'hook-secret',
  PATH: '/usr/bin:/bin',
};

describe('paging', () => {
  it('pages a run’s life to the targets that want each part, under one dedup key per run', async () => {
    const { url, got, invalid } = await receiver();
    const t: TestEngine = await makeEngine({
      runbooks: {
        failover: `---\ntitle: Failover\nkind: failover\nservice: payments-db\n---\n## Go (10 minutes)\n1. Fail \`action: run broken\`\n2. Restart \`action: run restart\`\n`,
      },
      configYaml: postgresConfig(
        'postgres://postgres@127.0.0.1:1/postgres',
        'postgres://postgres@127.0.0.1:2/postgres',
        `${paging(url)}actions:\n  broken: { command: [/bin/false], approval: none }\n  restart: { command: [/bin/true] }\n`,
      ),
      env,
    });
    const pager = new Pager({ config: t.config, clock: t.clock, sleep: () => Promise.resolve() });
    pager.watch(t.engine);
    const { runId } = await t.engine.startRun({
      key: 'k',
      actor: { user: 'U0ALICE' },
      runbook: 'failover',
    });
    await t.engine.idle();
    await t.engine.skipStep({
      key: 's',
      actor: { user: 'U0ALICE' },
      runId,
      stepIndex: 0,
      reason: 'known broken',
    });
    await t.engine.idle();
    t.clock.advance(9 * 60_000);
    pager.checkWaitingApprovals(t.clock()); // not yet ten minutes
    t.clock.advance(2 * 60_000);
    pager.checkWaitingApprovals(t.clock());
    pager.checkWaitingApprovals(t.clock()); // paged once, not at every look
    await pager.idle();
    // A bot restarted while the approval waits takes it up from the store.
    const restarted = new Pager({
      config: t.config,
      clock: t.clock,
      sleep: () => Promise.resolve(),
    });
    expect(await restarted.trackPending(t.store)).toBe(1);
    restarted.checkWaitingApprovals(t.clock());
    await restarted.idle();
    const pending = (await t.engine.getRun(runId)).current!.approvals.find(
      (a) => a.status === 'pending',
    )!;
    await t.engine.decideApproval({
      key: 'b',
      actor: { user: 'U0BOB' },
      approvalId: pending.id,
      decision: 'approve',
    });
    await t.engine.idle();
    await pager.idle();

    expect(invalid).toEqual([]);
    const runKey = `lifeboat-run-${runId}`;
    const approvalKey = `lifeboat-approval-${pending.id}`;
    expect(
      got
        .filter((each) => each.target === 'pagerduty')
        .map(({ action, dedupKey, severity }) => [action, dedupKey, severity]),
    ).toEqual([
      ['trigger', runKey, 'critical'], // started
      ['trigger', runKey, 'critical'], // step 1 failed
      ['trigger', approvalKey, 'critical'], // nobody approved for 11 minutes
      ['trigger', approvalKey, 'critical'], // the restarted bot: the same incident, updated
      ['resolve', approvalKey, ''],
      ['resolve', runKey, ''],
    ]);
    const pd = got.filter((each) => each.target === 'pagerduty');
    expect(pd[0]!.summary).toBe(
      `lifeboat: failover of payments-db (run ${runId}) started by U0ALICE (runbook failover)`,
    );
    expect(pd[1]!.summary).toMatch(
      new RegExp(
        `^lifeboat: failover of payments-db \\(run ${runId}\\): step 1 failed: run broken: \`/bin/false\` exited 1`,
      ),
    );
    expect(pd[2]!.summary).toMatch(/step 2 has waited 11 min for a second person's approval/);
    expect(pd[3]!.summary).toMatch(/step 2 has waited 11 min for a second person's approval/);
    // Opsgenie wants approvals waiting (and TWO PRIMARIES): the alert and its close, P1 for a failover.
    expect(
      got
        .filter((each) => each.target === 'opsgenie')
        .map(({ action, dedupKey, severity }) => [action, dedupKey, severity]),
    ).toEqual([
      ['trigger', approvalKey, 'P1'],
      ['trigger', approvalKey, 'P1'],
      ['resolve', approvalKey, ''],
    ]);
    // The webhook wants failures and the end.
    expect(
      got
        .filter((each) => each.target === 'webhook')
        .map(({ action, dedupKey }) => [action, dedupKey]),
    ).toEqual([
      ['trigger', runKey],
      ['resolve', runKey],
    ]);
  });

  it('pages TWO PRIMARIES from the scheduled lag check, and says in the channel when a page cannot be delivered', async () => {
    const { url, got, invalid } = await receiver(true);
    const [a, b] = await Promise.all([startThrowawayServer(), startThrowawayServer()]);
    try {
      const t = await makeEngine({
        runbooks: {},
        configYaml: postgresConfig(a.server.url, b.server.url, paging(url)),
        env,
      });
      const posts: Notice[] = [];
      const channel = { post: (notice: Notice) => Promise.resolve(void posts.push(notice)) };
      const pager = new Pager({
        config: t.config,
        clock: t.clock,
        sleep: () => Promise.resolve(),
        fallback: channel,
      });
      const lagJob = jobOf(t.config, 'lag');
      await lagJob.run({
        config: t.config,
        engine: t.engine,
        notifier: pager.notifier(channel),
        now: t.clock(),
      });
      await pager.idle();
      expect(invalid).toEqual([]);
      expect(got).toEqual([
        {
          target: 'opsgenie',
          action: 'trigger',
          dedupKey: 'lifeboat-replication-payments-db',
          summary: expect.stringMatching(
            /^lifeboat: replication of payments-db: TWO PRIMARIES: /,
          ) as string,
          severity: 'P1',
        },
      ]);
      expect(posts.map((post) => post.text)).toEqual([
        expect.stringMatching(/^:rotating_light: \*TWO PRIMARIES\* replication of \*payments-db\*/),
        ':warning: could not page oncall (pagerduty) about two-primaries: HTTP 400 {"status":"invalid event","message":"Event object is invalid"}',
      ]);
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
  });

  it('names the key path of a paging mistake', async () => {
    await expect(
      makeEngine({
        runbooks: {},
        configYaml:
          'paging:\n  targets:\n    oncall: { type: pagerdutty, routing_key: { env: PD } }\n',
      }),
    ).rejects.toThrow('paging.targets.oncall.type');
    await expect(
      makeEngine({
        runbooks: {},
        configYaml: 'paging:\n  targets:\n    oncall: { type: pagerduty, routing_key: "R0123" }\n',
      }),
    ).rejects.toThrow('paging.targets.oncall.routing_key');
  });
});
