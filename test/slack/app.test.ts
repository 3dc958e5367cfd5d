// The real Bolt app over HTTP, with requests signed as Slack signs them, against a Web API
// stand-in on loopback.

import { renderReport } from '../../src/report.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startPostgresPair } from '../../src/providers/postgres/servers.js';
import { createSlackApp } from '../../src/slack/app.js';
import { ActionId, ViewId } from '../../src/slack/ids.js';
import { createSlackNotifier } from '../../src/slack/notifier.js';
import { postgresConfig } from '../support/engine.js';
import { sql, waitFor } from '../support/pg-pair.js';
import { buttonClick, slashCommand, STAND_IN_BOT, viewSubmission } from '../support/slack.js';
import { SECRET, startSlackHarness, type SlackHarness } from '../support/slack-harness.js';

const drill = `---
title: Quarterly drill
kind: drill
---
## Phase 1: Walk (10 minutes)
1. Open the dashboards
2. Read the alerts
3. Write down what surprised you
`;

const failover = `---
title: Failover — payments database
kind: failover
service: payments-db
---
## Fail over (15 minutes)
1. Confirm the primary is down
2. Promote the DR replica \`action: db.promote\`
3. Verify it takes writes \`action: db.verify-writable\`
`;

const switchover = `---
kind: switchover
service: payments-db
---
## Go (5 minutes)
1. Fence \`action: db.fence\`
2. Catch up \`action: db.catch-up 2m\`
3. Promote \`action: db.promote\`
`;

type Harness = SlackHarness;
let harness: Harness | null = null;

/** Sends through the current harness, so replies inside the ack are recorded too. */
async function sendToSlackApp(
  _url: string,
  body: string,
  secret = SECRET,
  options?: Parameters<SlackHarness['send']>[2],
) {
  return harness!.send(body, secret, options);
}

async function startHarness(configYaml: string): Promise<Harness> {
  harness = await startSlackHarness({ configYaml, runbooks: { drill, failover, switchover } });
  return harness;
}

afterEach(async () => {
  await harness?.stop();
  harness = null;
});

const replies = (h: Harness) => h.replies();
const noDb = postgresConfig(
  'postgres://postgres@127.0.0.1:1/postgres',
  'postgres://postgres@127.0.0.1:2/postgres',
);

const settle = (h: Harness) => h.settle();

describe('the /dr command', () => {
  beforeEach(async () => {
    await startHarness(noDb);
  });

  it('answers /dr help with every subcommand, acking at once', async () => {
    const h = harness!;
    const sent = await sendToSlackApp(
      h.url,
      slashCommand('help', 'U0ALICE', h.responseUrl),
      SECRET,
    );
    expect(sent.status).toBe(200);
    await waitFor(() => replies(h).length > 0, 'the reply');
    expect(replies(h)[0]).toContain('`/dr failover <service>`');
    expect(replies(h)[0]).toContain('`/dr tabletop <runbook>`');
  });

  it('rejects a forged signature and a request older than five minutes', async () => {
    const h = harness!;
    const body = slashCommand('help', 'U0ALICE', h.responseUrl);
    expect(
      (await sendToSlackApp(h.url, body, SECRET, { signature: 'v0=' + '0'.repeat(64) })).status,
    ).toBe(401);
    expect(
      (
        await sendToSlackApp(h.url, body, SECRET, {
          timestamp: Math.floor(Date.now() / 1000) - 6 * 60,
        })
      ).status,
    ).toBe(401);
    expect((await sendToSlackApp(h.url, body, 'not-the-secret')).status).toBe(401);
    expect(replies(h)).toEqual([]);
  });

  it('answers usage mistakes with an ephemeral line, never a stack trace', async () => {
    const h = harness!;
    const cases: [string, RegExp][] = [
      ['frobnicate', /unknown command "frobnicate"\. Commands: help, status, failover/],
      ['drill', /usage: \/dr drill &lt;runbook&gt;/], // Slack shows it as <runbook>
      ['drill nope', /no runbook "nope" .*\(known: drill, failover, switchover\)/],
      ['failover orders-db', /no service "orders-db" \(known: payments-db\)/],
      ['runbook', /usage: \/dr runbook list\|show\|start &lt;name&gt;/],
      ['abort r-1', /usage: \/dr abort &lt;run&gt; \[--force\] &lt;reason&gt;/],
      ['report', /usage: \/dr report &lt;run&gt;/],
      ['history lots', /usage: \/dr history \[N\]/],
    ];
    for (const [text, expected] of cases) {
      const before = replies(h).length;
      await sendToSlackApp(h.url, slashCommand(text, 'U0ALICE', h.responseUrl), SECRET);
      await waitFor(() => replies(h).length > before, `the reply to "${text}"`);
      expect(replies(h).at(-1)).toMatch(expected);
      expect(replies(h).at(-1)).not.toMatch(/\n\s+at /);
    }
  });

  it('runs a drill in a thread: header updated in place, Done buttons, notes, and survives 429 and 500 from Slack', async () => {
    const h = harness!;
    await sendToSlackApp(
      h.url,
      slashCommand('drill drill', 'U0ALICE', h.responseUrl, 'trigger-1'),
      SECRET,
    );
    // Slack retries the same slash command (same trigger id): still one run.
    await sendToSlackApp(
      h.url,
      slashCommand('drill drill', 'U0ALICE', h.responseUrl, 'trigger-1'),
      SECRET,
      { headers: { 'x-slack-retry-num': '1', 'x-slack-retry-reason': 'http_timeout' } },
    );
    await waitFor(() => replies(h).length >= 2, 'both replies');
    await settle(h);
    const runs = await h.t.store.all<{ id: string }>('SELECT id FROM runs');
    expect(runs).toHaveLength(1);
    const runId = runs[0]!.id;
    const header = h.slack.callsTo('chat.postMessage').find((call) => !call.body.thread_ts)!;
    expect(JSON.stringify(header.body.blocks)).toContain('DRILL · Quarterly drill');

    const click = async (step: number) => {
      await sendToSlackApp(
        h.url,
        buttonClick(ActionId.stepDone, `${runId}:${step}`, 'U0BOB', h.responseUrl),
        SECRET,
      );
      await waitFor(
        async () =>
          (await h.t.engine.getRun(runId)).run.currentStep > step ||
          (await h.t.engine.getRun(runId)).run.status !== 'running',
        `step ${step + 1} done`,
      );
      await settle(h);
    };
    await click(0);
    h.slack.failNext('chat.postMessage', [429, 500]);
    h.slack.failNext('chat.update', [500]);
    await click(1);
    // The note modal names the step; an empty note is refused in the modal, not dropped.
    await sendToSlackApp(
      h.url,
      buttonClick(ActionId.stepNote, `${runId}:2`, 'U0BOB', h.responseUrl),
      SECRET,
    );
    await waitFor(() => h.slack.callsTo('views.open').length === 1, 'the note modal');
    expect(JSON.stringify(h.slack.callsTo('views.open')[0]!.body.view)).toContain(
      `*Step 3 of ${runId}: `,
    );
    const empty = await sendToSlackApp(
      h.url,
      viewSubmission(ViewId.stepNote, `${runId}:2`, { reason: '   ' }, 'U0BOB'),
      SECRET,
    );
    expect(JSON.parse(empty.text)).toEqual({
      response_action: 'errors',
      errors: { reason: 'Write the note: an empty one is not saved.' },
    });
    await sendToSlackApp(
      h.url,
      viewSubmission(
        ViewId.stepNote,
        `${runId}:2`,
        { reason: 'the alert runbook link was dead' },
        'U0BOB',
      ),
      SECRET,
    );
    await waitFor(
      async () =>
        ((await h.t.store.get('SELECT count(*) AS n FROM notes')) as { n: number }).n === 1,
      'the note',
    );
    await click(2);

    expect((await h.t.engine.getRun(runId)).run.status).toBe('succeeded');
    const failed = h.slack.calls.filter((call) => call.method.includes('!'));
    expect(failed.map((call) => call.method).sort()).toEqual([
      'chat.postMessage!429',
      'chat.postMessage!500',
      'chat.update!500',
    ]);
    const headerTs = (
      (await h.t.store.get("SELECT ts FROM slack_messages WHERE ref = 'header'")) as {
        ts: string;
      }
    ).ts;
    const threadPosts = h.slack
      .callsTo('chat.postMessage')
      .filter((call) => call.body.thread_ts === headerTs);
    const stepMessages = threadPosts.filter((call) =>
      JSON.stringify(call.body.blocks ?? '').includes('*Step '),
    );
    expect(
      stepMessages.map((call) => JSON.stringify(call.body.blocks).match(/\*Step (\d)\/3\*/)?.[1]),
    ).toEqual(['1', '2', '3']);
    const summary = threadPosts.find((call) =>
      JSON.stringify(call.body.blocks ?? '').includes('Run succeeded'),
    );
    expect(JSON.stringify(summary?.body.blocks)).toContain('the alert runbook link was dead');
    const lastHeader = h.slack
      .callsTo('chat.update')
      .filter((call) => call.body.ts === headerTs)
      .at(-1)!;
    expect(JSON.stringify(lastHeader.body.blocks)).toContain('recovered');

    const before = replies(h).length;
    await sendToSlackApp(h.url, slashCommand(`report ${runId}`, 'U0ALICE', h.responseUrl), SECRET);
    await waitFor(() => replies(h).length > before, 'the report');
    await sendToSlackApp(h.url, slashCommand('history', 'U0ALICE', h.responseUrl), SECRET);
    await waitFor(() => replies(h).length > before + 1, 'the history');
    const [report, history] = replies(h).slice(before);
    expect(report).toContain('*Notes*');
    expect(report).toContain('- the alert runbook link was dead — <@U0BOB>, step 3');
    expect(report).toMatch(/step 1 done by <@U0BOB>/);
    expect(history).toMatch(
      new RegExp(
        `\`${runId}\` <!date\\^\\d+\\^\\{date_num\\} \\{time\\}\\|[-\\d]+ [:\\d]+ UTC> drill, runbook \`drill\` by <@U0ALICE> — succeeded, RTO`,
      ),
    );
  });

  it('publishes App Home with readiness and recent runs when the tab is opened', async () => {
    const h = harness!;
    const event = {
      token: 'legacy-verification-token',
      team_id: 'T0LIFEBOAT',
      api_app_id: 'A0LIFEBOAT',
      type: 'event_callback',
      event_id: 'Ev0HOME',
      event_time: Math.floor(Date.now() / 1000),
      event: {
        type: 'app_home_opened',
        user: 'U0ALICE',
        channel: 'D0HOME',
        tab: 'home',
        event_ts: `${Date.now() / 1000}`,
      },
      authorizations: [{ team_id: 'T0LIFEBOAT', user_id: 'UBOT', is_bot: true }],
    };
    const sent = await sendToSlackApp(h.url, JSON.stringify(event), SECRET, {
      contentType: 'application/json',
    });
    expect(sent.status).toBe(200);
    await waitFor(() => h.slack.callsTo('views.publish').length > 0, 'App Home');
    const home = JSON.stringify(h.slack.callsTo('views.publish')[0]!.body);
    expect(home).toContain('disaster recovery readiness');
    expect(home).toContain('*payments-db* — RTO 15m, RPO 1m');
    expect(home).toContain('replication: *NO WRITER* since ');
    expect(home).toContain('last failover: never');
    expect(home).toContain(
      '*RTO trend*\\n• *payments-db* no measured recovery yet (objective 15m)',
    );
  });

  it('re-attaches to the thread of a run in flight after a restart', async () => {
    const h = harness!;
    await sendToSlackApp(h.url, slashCommand('drill drill', 'U0ALICE', h.responseUrl), SECRET);
    const headers = async () =>
      await h.t.store.all("SELECT ts FROM slack_messages WHERE ref = 'header'");
    await waitFor(async () => (await headers()).length === 1, 'the header');
    await settle(h);
    await h.app.app.stop();
    const headerTs = (
      (await h.t.store.get("SELECT ts FROM slack_messages WHERE ref = 'header'")) as {
        ts: string;
      }
    ).ts;
    const updatesBefore = h.slack.callsTo('chat.update').length;

    const restarted = createSlackApp({
      config: h.t.config,
      engine: h.t.engine,
      bot: STAND_IN_BOT,
    });
    h.app = restarted;
    const runId = ((await h.t.store.get('SELECT id FROM runs')) as { id: string }).id;
    restarted.publisher.reattach([runId]);
    await restarted.publisher.flushed();
    const updates = h.slack.callsTo('chat.update').slice(updatesBefore);
    expect(
      updates.some(
        (call) =>
          call.body.ts === headerTs &&
          JSON.stringify(call.body.blocks).includes('waiting for the team'),
      ),
    ).toBe(true);
    await restarted.app.start(0);
  });

  it('walks a tabletop of the failover runbook: nothing executed, plans shown, notes become findings', async () => {
    const h = harness!;
    await sendToSlackApp(
      h.url,
      slashCommand('tabletop failover', 'U0ALICE', h.responseUrl),
      SECRET,
    );
    await waitFor(async () => (await h.t.store.all('SELECT id FROM runs')).length === 1, 'the run');
    await settle(h);
    const runId = ((await h.t.store.get('SELECT id FROM runs')) as { id: string }).id;
    const header = h.slack.callsTo('chat.postMessage').find((call) => !call.body.thread_ts)!;
    expect(JSON.stringify(header.body.blocks)).toContain('TABLETOP — nothing is executed');
    for (let step = 0; step < 3; step++) {
      if (step === 1) {
        await sendToSlackApp(
          h.url,
          viewSubmission(
            ViewId.stepNote,
            `${runId}:1`,
            { reason: 'nobody knew who may approve a promotion' },
            'U0CAROL',
          ),
          SECRET,
        );
      }
      await sendToSlackApp(
        h.url,
        buttonClick(ActionId.stepDone, `${runId}:${step}`, 'U0BOB', h.responseUrl),
        SECRET,
      );
      await waitFor(
        async () => (await h.t.engine.getRun(runId)).run.currentStep > step,
        `step ${step + 1}`,
      );
      await settle(h);
    }
    const posts = h.slack
      .callsTo('chat.postMessage')
      .map((call) => JSON.stringify(call.body.blocks ?? call.body.text));
    expect(
      posts.some((text) =>
        text.includes('Would run: Promote replica 127.0.0.1:2 to a standalone primary'),
      ),
    ).toBe(true);
    expect(
      h.slack.calls.some(
        (call) =>
          call.method === 'views.open' || JSON.stringify(call.body).includes('Approval needed'),
      ),
    ).toBe(false);
    const summary = posts.find((text) => text.includes('Run succeeded'))!;
    expect(summary).toContain('*Findings*');
    expect(summary).toContain('nobody knew who may approve a promotion — <@U0CAROL>');
    // Its report asks whether the plan would hold: the strategy as measured, and what is unknown.
    const report = await renderReport(
      await h.t.engine.getRun(runId),
      h.t.store,
      h.t.config,
      'slack',
      h.t.clock(),
    );
    expect(report).toContain(
      '*Strategy against the objectives*\n- payments-db: warm standby: expected RTO not measured: no failover, drill or switchover has succeeded yet; RPO not measured: the replica lag is unknown',
    );
  });

  it('starts the runbook a DR-test reminder names from its Start button', async () => {
    const h = harness!;
    await createSlackNotifier(h.app.client, 'C0DROPS').post({
      text: ':alarm_clock: *DR test due:* Quarterly drill',
      startRunbook: 'drill',
    });
    const reminder = h.slack.callsTo('chat.postMessage').at(-1)!;
    expect(JSON.stringify(reminder.body.blocks)).toContain('"action_id":"reminder-start"');
    await sendToSlackApp(
      h.url,
      buttonClick(ActionId.reminderStart, 'drill', 'U0BOB', h.responseUrl),
      SECRET,
    );
    await waitFor(async () => (await h.t.store.all('SELECT id FROM runs')).length === 1, 'the run');
    expect(await h.t.store.get('SELECT runbook, kind, started_by FROM runs')).toEqual({
      runbook: 'drill',
      kind: 'drill',
      started_by: 'U0BOB',
    });
  });

  it('lists the schedule, and says when nothing is scheduled', async () => {
    const h = harness!;
    await sendToSlackApp(h.url, slashCommand('schedule', 'U0ALICE', h.responseUrl), SECRET);
    await waitFor(() => replies(h).length > 0, 'the reply');
    expect(replies(h)[0]).toBe('Nothing is scheduled: add schedules: to lifeboat.yml.');
  });
});

describe('/dr failover on a real PostgreSQL pair', () => {
  it('confirms, then fails over with a second person approving; self-approval and non-approvers are refused', async () => {
    const pair = await startPostgresPair();
    try {
      await pair.killPrimary();
      const h = await startHarness(postgresConfig(pair.primary.url, pair.standby.url));
      await sendToSlackApp(
        h.url,
        slashCommand('failover', 'U0ALICE', h.responseUrl, 'trigger-fo'),
        SECRET,
      );
      await waitFor(
        () => h.slack.callsTo('views.update').length > 0,
        'the confirmation with the lag',
      );
      const opened = h.slack.callsTo('views.open')[0]!;
      const modal = JSON.stringify(opened.body.view);
      expect(modal).toContain('Start failover');
      expect(modal).toMatch(/Promote replica 127\.0\.0\.1:\d+ to a standalone primary/);
      expect(JSON.stringify(h.slack.callsTo('views.update')[0]!.body.view)).toMatch(
        /Replication lag:\*.*the primary does not answer/,
      );
      expect(await h.t.store.get('SELECT count(*) AS n FROM runs')).toEqual({ n: 0 });

      const metadata = JSON.parse(
        String((opened.body.view as { private_metadata: string }).private_metadata),
      ) as Record<string, string>;
      const bad = await sendToSlackApp(
        h.url,
        viewSubmission(
          ViewId.failoverConfirm,
          JSON.stringify(metadata),
          { 'impact-time': 'lunchtime' },
          'U0ALICE',
          'V1',
        ),
        SECRET,
      );
      expect(JSON.parse(bad.text)).toMatchObject({
        response_action: 'errors',
        errors: { 'impact-time': expect.stringContaining('HH:MM') },
      });
      // A time that reads is shown back in full before anything starts.
      const echoed = await sendToSlackApp(
        h.url,
        viewSubmission(
          ViewId.failoverConfirm,
          JSON.stringify(metadata),
          { 'impact-time': '2 min ago' },
          'U0ALICE',
          'V2',
        ),
        SECRET,
      );
      const update = JSON.parse(echoed.text) as {
        response_action: string;
        view: { private_metadata: string };
      };
      expect(update.response_action).toBe('update');
      expect(JSON.stringify(update.view)).toMatch(
        /The RTO clock starts at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC, 2m ago\.\* Press \*Start failover\* again/,
      );
      expect(JSON.stringify(update.view)).toContain('"initial_value":"2 min ago"');
      expect(await h.t.store.get('SELECT count(*) AS n FROM runs')).toEqual({ n: 0 });
      const readAs = (JSON.parse(update.view.private_metadata) as { echoed: { at: string } }).echoed
        .at;
      h.t.clock.advance(30_000); // the person reads it, then presses Start again
      await sendToSlackApp(
        h.url,
        viewSubmission(
          ViewId.failoverConfirm,
          update.view.private_metadata,
          { 'impact-time': '2 min ago' },
          'U0ALICE',
          'V2',
        ),
        SECRET,
      );
      await waitFor(
        async () =>
          ((await h.t.store.get('SELECT count(*) AS n FROM runs')) as { n: number }).n === 1,
        'the run',
      );
      // The run counts from the time shown, not from "2 min ago" read again 30 s later.
      expect(await h.t.store.get('SELECT impact_at FROM runs')).toEqual({
        impact_at: readAs,
      });
      await settle(h);
      const runId = ((await h.t.store.get('SELECT id FROM runs')) as { id: string }).id;

      await sendToSlackApp(
        h.url,
        buttonClick(ActionId.stepDone, `${runId}:0`, 'U0ALICE', h.responseUrl),
        SECRET,
      );
      await waitFor(
        async () => (await h.t.engine.getRun(runId)).current?.waitingOn === 'approval',
        'the approval request',
      );
      await settle(h);
      const approval = (await h.t.engine.getRun(runId)).steps[1]!.approvals[0]!;
      const request = h.slack
        .callsTo('chat.postMessage')
        .find((call) => JSON.stringify(call.body.blocks ?? '').includes('Approval needed'))!;
      expect(JSON.stringify(request.body.blocks)).toContain('<@U0ALICE> asks for step 2');

      await sendToSlackApp(
        h.url,
        buttonClick(ActionId.approvalApprove, approval.id, 'U0ALICE', h.responseUrl),
        SECRET,
      );
      await waitFor(
        () => replies(h).some((text) => text.includes('two-person rule')),
        'the refusal',
      );
      await sendToSlackApp(
        h.url,
        buttonClick(ActionId.approvalApprove, approval.id, 'U0MALLORY', h.responseUrl),
        SECRET,
      );
      await waitFor(
        () => replies(h).some((text) => text.includes('<@U0MALLORY> is not an approver')),
        'the second refusal',
      );
      expect(await sql(pair.standby.url, 'SELECT pg_is_in_recovery() AS r')).toEqual([{ r: true }]);

      await sendToSlackApp(
        h.url,
        buttonClick(ActionId.approvalApprove, approval.id, 'U0BOB', h.responseUrl),
        SECRET,
      );
      await waitFor(
        async () => (await h.t.engine.getRun(runId)).run.status === 'succeeded',
        'the failover to finish',
      );
      await settle(h);
      await sql(
        pair.standby.url,
        'CREATE TABLE after_failover (id int); INSERT INTO after_failover VALUES (1)',
      );
      expect(await sql(pair.standby.url, 'SELECT count(*)::int AS n FROM after_failover')).toEqual([
        { n: 1 },
      ]);
      const decided = h.slack
        .callsTo('chat.update')
        .filter((call) => JSON.stringify(call.body.blocks ?? '').includes('approved by <@U0BOB>'));
      expect(decided.length).toBeGreaterThan(0);
      const summary = h.slack
        .callsTo('chat.postMessage')
        .find((call) => JSON.stringify(call.body.blocks ?? '').includes('Achieved RTO'));
      expect(JSON.stringify(summary?.body.blocks)).toMatch(/Achieved RTO:\*.*objective 15m/);
    } finally {
      await pair.stop();
    }
  });

  it('blocks a promotion beside a live primary in the thread; "Promote unfenced" needs a reason and a second person', async () => {
    const pair = await startPostgresPair();
    try {
      const h = await startHarness(postgresConfig(pair.primary.url, pair.standby.url));
      const { runId } = await h.t.engine.startRun({
        key: 'k',
        actor: { user: 'U0ALICE', via: 'slack' },
        runbook: 'failover',
      });
      h.app.publisher.bindChannel(runId, 'C0DROPS');
      await sendToSlackApp(
        h.url,
        buttonClick(ActionId.stepDone, `${runId}:0`, 'U0ALICE', h.responseUrl),
        SECRET,
      );
      await waitFor(
        async () => (await h.t.engine.getRun(runId)).current?.waitingOn === 'fence-gate',
        'the fence gate',
      );
      await settle(h);
      const blocked = h.slack
        .callsTo('chat.update')
        .concat(h.slack.callsTo('chat.postMessage'))
        .map((call) => JSON.stringify(call.body.blocks ?? ''))
        .find((blocks) => blocks.includes('still accepts writes: fence it first'));
      expect(blocked).toContain(ActionId.fenceOverride);

      await sendToSlackApp(
        h.url,
        buttonClick(ActionId.fenceOverride, `${runId}:1`, 'U0ALICE', h.responseUrl),
        SECRET,
      );
      await waitFor(() => h.slack.callsTo('views.open').length > 0, 'the reason modal');
      const modal = h.slack.callsTo('views.open')[0]!.body.view as { callback_id: string };
      expect(modal.callback_id).toBe(ViewId.fenceOverride);
      await sendToSlackApp(
        h.url,
        viewSubmission(
          ViewId.fenceOverride,
          `${runId}:1`,
          { reason: 'partitioned from every client' },
          'U0ALICE',
        ),
        SECRET,
      );
      await waitFor(
        async () =>
          (await h.t.engine.getRun(runId)).steps[1]!.approvals.some(
            (a) => a.gate === 'fence-override',
          ),
        'the override request',
      );
      await settle(h);
      const request = h.slack
        .callsTo('chat.postMessage')
        .map((call) => JSON.stringify(call.body.blocks ?? ''))
        .find((blocks) => blocks.includes('asks for a promotion UNFENCED'));
      expect(request).toContain('partitioned from every client');
      const override = (await h.t.engine.getRun(runId)).steps[1]!.approvals.find(
        (a) => a.gate === 'fence-override',
      )!;
      await sendToSlackApp(
        h.url,
        buttonClick(ActionId.approvalApprove, override.id, 'U0ALICE', h.responseUrl),
        SECRET,
      );
      await waitFor(
        () => replies(h).some((text) => text.includes('two-person rule')),
        'the self-approval refusal',
      );
      expect(await sql(pair.standby.url, 'SELECT pg_is_in_recovery() AS r')).toEqual([{ r: true }]);
    } finally {
      await pair.stop();
    }
  });

  it('confirms a switchover with its plan and no outage time to ask for', async () => {
    const h = await startHarness(noDb);
    await sendToSlackApp(
      h.url,
      slashCommand('switchover payments-db', 'U0ALICE', h.responseUrl, 'trigger-so'),
      SECRET,
    );
    await waitFor(() => h.slack.callsTo('views.open').length > 0, 'the confirmation');
    const modal = JSON.stringify(h.slack.callsTo('views.open')[0]!.body.view);
    expect(modal).toContain('Switch over payments-db');
    expect(modal).toContain('Start switchover');
    expect(modal).toMatch(
      /Fence primary 127\.0\.0\.1:1: ALTER SYSTEM SET default_transaction_read_only = on/,
    );
    expect(modal).toContain('Wait up to 2m until replica 127.0.0.1:2 has replayed everything');
    expect(modal).not.toContain('impact-time');
  });
});
