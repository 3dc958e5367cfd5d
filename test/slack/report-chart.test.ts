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
