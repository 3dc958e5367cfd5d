// Two lifeboat instances serving one store (two bot processes behind one load balancer): a run
// started through one is worked through the other, its thread updated in place by whichever
// handles the event; a click Slack delivers to both has one effect.

import { afterEach, describe, expect, it } from 'vitest';
import { createSlackApp, type SlackApp } from '../../src/slack/app.js';
import { ActionId } from '../../src/slack/ids.js';
import { makeEngine, postgresConfig, type TestEngine } from '../support/engine.js';
import { waitFor } from '../support/pg-pair.js';
import {
  listeningPort,
  SECRET,
  startSlackHarness,
  type SlackHarness,
} from '../support/slack-harness.js';
import { buttonClick, sendToSlackApp, slashCommand, STAND_IN_BOT } from '../support/slack.js';

const drill = `---
title: Quarterly drill
kind: drill
---
## Work (10 minutes)
1. Look at the dashboards
2. Read the alerts
`;
const configYaml = postgresConfig(
  'postgres://postgres@127.0.0.1:1/postgres',
  'postgres://postgres@127.0.0.1:2/postgres',
);

let a: SlackHarness | null = null;
let b: { t: TestEngine; app: SlackApp; url: string } | null = null;

afterEach(async () => {
  await b?.t.engine.idle();
  await b?.app.publisher.flushed();
  await b?.app.app.stop();
  await b?.t.store.close();
  await a?.stop();
  a = b = null;
});

describe('two instances on one store', () => {
  it('works a run started through one instance through the other, and counts a click delivered to both once', async () => {
    a = await startSlackHarness({ configYaml, runbooks: { drill } });
    const t = await makeEngine({
      runbooks: { drill },
      configYaml: `slack: { channel: C0DROPS }\n${configYaml}`,
      clock: a.t.clock,
      env: {
        SLACK_BOT_TOKEN: 'xoxb-test',
        SLACK_SIGNING_SECRET: SECRET,
        SLACK_API_URL: a.slack.url,
      },
      executorId: 'instance-b:2:bbbbbb',
      sameStoreAs: a.t,
    });
    const app = createSlackApp({ config: t.config, engine: t.engine, bot: STAND_IN_BOT });
    b = { t, app, url: `http://127.0.0.1:${listeningPort(await app.app.start(0))}` };

    // Started through A: A posts the thread.
    await a.send(slashCommand('drill drill', 'U0ALICE', a.responseUrl));
    await waitFor(async () => (await a!.t.store.all('SELECT id FROM runs')).length === 1, 'run');
    await a.settle();
    const { id: runId } = (await a.t.store.get('SELECT id FROM runs')) as { id: string };
    const header = (await a.t.store.get(
      "SELECT channel, ts FROM slack_messages WHERE run_id = ? AND ref = 'header'",
      runId,
    )) as { channel: string; ts: string };
    expect(header.ts).toBeTruthy();

    // Slack delivers the same click to both (a retry that reached the other instance): one Done.
    const click = buttonClick(ActionId.stepDone, `${runId}:0`, 'U0ALICE', a.responseUrl, header);
    const answers = await Promise.all([
      sendToSlackApp(a.url, click, SECRET),
      sendToSlackApp(b.url, click, SECRET),
    ]);
    expect(answers.map((answer) => answer.status)).toEqual([200, 200]);
    // Whichever instance counted the click walks on to step 2 (after its ack, on its own time).
    await waitFor(
      async () => (await b!.t.engine.getRun(runId)).steps[1]!.state === 'active',
      'step 2 to be taken up',
    );
    await a.settle();
    await b.app.handled();
    await b.t.engine.idle();
    await b.app.publisher.flushed();
    const view = await b.t.engine.getRun(runId);
    expect(view.steps.map((step) => step.state)).toEqual(['done', 'active']);
    expect(
      await a.t.store.get(
        "SELECT count(*) AS n FROM audit_log WHERE action = 'step.done' AND subject = ?",
        runId,
      ),
    ).toEqual({ n: 1 });

    // The next click goes to B only: B updates the thread A posted, in place.
    const updatesBefore = a.slack.callsTo('chat.update').length;
    await sendToSlackApp(
      b.url,
      buttonClick(ActionId.stepDone, `${runId}:1`, 'U0ALICE', a.responseUrl, header),
      SECRET,
    );
    await waitFor(
      async () => (await b!.t.engine.getRun(runId)).run.status === 'succeeded',
      'the run to end',
    );
    await b.app.handled();
    await b.t.engine.idle();
    await b.app.publisher.flushed();
    const updates = a.slack.callsTo('chat.update').slice(updatesBefore);
    expect(
      updates.some(
        (call) =>
          call.body.ts === header.ts && JSON.stringify(call.body.blocks).includes('recovered'),
      ),
    ).toBe(true);
    expect(a.slack.callsTo('chat.postMessage').filter((call) => !call.body.thread_ts)).toHaveLength(
      1,
    ); // one thread: B never posted a second header
  });
});
