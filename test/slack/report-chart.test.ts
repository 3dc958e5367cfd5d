// `/dr report` in Slack: the report (with the RTO trend line) to the person, and the RTO chart as
// a PNG uploaded to the channel with files.uploadV2 — the bytes the stand-in received decode to
// the chart; a channel the bot is not in gets a plain answer instead of a silent miss.

import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { CHART } from '../../src/chart/rto-trend.js';
import { postgresConfig, testClock } from '../support/engine.js';
import { slashCommand } from '../support/slack.js';
import { startSlackHarness } from '../support/slack-harness.js';

const drill =
  '---\ntitle: Drill\nkind: drill\nservice: payments-db\n---\n## Go (10 minutes)\n1. Do it\n';

describe('/dr report', () => {
  it('answers with the report and uploads the service’s RTO chart to the channel', async () => {
    const clock = testClock('2026-11-24T03:00:00.000Z');
    const h = await startSlackHarness({
      clock,
      runbooks: { drill },
      configYaml: postgresConfig(
        'postgres://postgres@127.0.0.1:1/postgres',
        'postgres://postgres@127.0.0.1:2/postgres',
      ),
    });
    try {
      const alice = { user: 'U0ALICE' };
      let runId = '';
      for (const minutes of [4, 20, 7]) {
        ({ runId } = await h.t.engine.startRun({
          key: `d${minutes}`,
          actor: alice,
          runbook: 'drill',
        }));
        clock.advance(minutes * 60_000);
        await h.t.engine.completeStep({ key: `c${minutes}`, actor: alice, runId, stepIndex: 0 });
        clock.advance(3_600_000);
      }
      await h.send(slashCommand(`report ${runId}`, 'U0ALICE', h.responseUrl));
      await h.settle();
      expect(h.replies().at(0)).toContain(
        '- RTO trend of payments-db: ▂█▃ last 7m (drill), objective 15m: met (2 of 3 met)',
      );
      const [asked] = h.slack.callsTo('files.getUploadURLExternal');
      expect(asked?.body).toMatchObject({ filename: 'rto-payments-db.png' });
      const [uploaded] = h.slack.callsTo('upload');
      const image = PNG.sync.read(uploaded!.body.bytes as Buffer);
      expect([image.width, image.height]).toEqual([CHART.width, CHART.height]);
      const [completed] = h.slack.callsTo('files.completeUploadExternal');
      expect(completed?.body).toMatchObject({ channel_id: 'C0DROPS' });

      // App Home: the trend line, and the chart as a private file shown by its id — uploaded once
      // for as long as the chart does not change.
      const openHome = async () => {
        const event = {
          type: 'event_callback',
          team_id: 'T0LIFEBOAT',
          api_app_id: 'A0LIFEBOAT',
          event_id: `Ev${Math.random()}`,
          event_time: 1,
          event: {
            type: 'app_home_opened',
            user: 'U0ALICE',
            channel: 'D0HOME',
            tab: 'home',
            event_ts: '1.0',
          },
          authorizations: [{ team_id: 'T0LIFEBOAT', user_id: 'UBOT', is_bot: true }],
        };
        await h.send(JSON.stringify(event), undefined, { contentType: 'application/json' });
        await h.settle();
      };
      await openHome();
      await openHome();
      const homes = h.slack.callsTo('views.publish');
      expect(homes).toHaveLength(2);
      const blocks = (homes[1]!.body.view as { blocks: Record<string, unknown>[] }).blocks;
      expect(blocks).toContainEqual({
        type: 'image',
        slack_file: { id: 'F0FILE' },
        alt_text: 'payments-db: achieved RTO against the objective',
        title: { type: 'plain_text', text: 'payments-db: achieved RTO against the objective' },
      });
      expect(h.slack.callsTo('upload')).toHaveLength(2); // the report's, and App Home's once
      const privately = h.slack.callsTo('files.completeUploadExternal')[1]!.body;
      expect(privately.channel_id).toBeUndefined();

      h.slack.answerNext('files.getUploadURLExternal', { ok: false, error: 'not_in_channel' });
      await h.send(slashCommand(`report ${runId}`, 'U0ALICE', h.responseUrl));
      await h.settle();
      expect(h.replies().at(-1)).toBe(
        "The chart could not be posted here (not_in_channel: invite the bot to this channel); the report's RTO trend line says the same.",
      );
    } finally {
      await h.stop();
    }
  });
});
