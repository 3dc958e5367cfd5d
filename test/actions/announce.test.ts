// action: announce — a stakeholder update with the run's phase and the ETA of recovery from the
// phase budgets, posted where slack.announcements says; written out for a person where lifeboat
// cannot post; skipped, saying why, where there is no such channel.

import { describe, expect, it, vi } from 'vitest';
import { ANNOUNCE_TIMEOUT_MS } from '../../src/actions/misc/announce.js';
import { makeEngine, postgresConfig, testClock } from '../support/engine.js';

const alice = { user: 'U0ALICE' };
const runbook = `---
title: Failover
kind: drill
service: payments-db
---
## Pre-flight
- [ ] Incident channel opened

## Assess (10 minutes)
1. Confirm the primary is down

## Fail over (15 minutes)
1. Tell stakeholders (payments & ledger) we fail over \`action: announce\`
2. Promote by hand

## Verify (5 minutes)
1. Check the app
`;

function config(slack: string): string {
  return `${slack}${postgresConfig(
    'postgres://postgres@127.0.0.1:1/postgres',
    'postgres://postgres@127.0.0.1:2/postgres',
  )}`;
}

async function walkToAnnounce(
  announce: ((text: string) => Promise<{ channel: string; ts: string }>) | undefined,
  slack = 'slack: { channel: C0DROPS, announcements: C0ANNOUNCE }\n',
) {
  const clock = testClock('2026-11-24T03:00:00.000Z');
  const t = await makeEngine({
    runbooks: { failover: runbook },
    configYaml: config(slack),
    clock,
    announce,
  });
  const { runId } = await t.engine.startRun({ key: 'k', actor: alice, runbook: 'failover' });
  clock.advance(60_000);
  await t.engine.completeStep({ key: 'd0', actor: alice, runId, stepIndex: 0 });
  clock.advance(4 * 60_000);
  await t.engine.completeStep({ key: 'd1', actor: alice, runId, stepIndex: 1 });
  await t.engine.idle();
  return { t, runId, view: await t.engine.getRun(runId) };
}

describe('action: announce', () => {
  it('posts the phase, when the impact began and the ETA from the budgets left', async () => {
    const posts: string[] = [];
    const { view } = await walkToAnnounce((text) => {
      posts.push(text);
      return Promise.resolve({ channel: 'C0ANNOUNCE', ts: '1700000000.000100' });
    });
    // 03:05 now; the Fail over phase (15 min) has just begun and Verify (5 min) follows: 03:25.
    expect(posts).toEqual([
      ":loudspeaker: *DR update — drill of payments-db*\nTell stakeholders (payments &amp; ledger) we fail over\nPhase 3 of 4: Fail over. Impact began 03:00 UTC (5 min ago). Expected recovery by 03:25 UTC (from the runbook's phase budgets).",
    ]);
    expect(view.steps[2]!.summary).toBe(
      'announced in the announcements channel (C0ANNOUNCE): phase 3 of 4, ETA 03:25 UTC',
    );
    expect(view.steps[2]!.result.outcome).toMatchObject({ ts: '1700000000.000100' });
  });

  it('leaves the post to a person where lifeboat cannot post, and says when Slack refuses it', async () => {
    const { view } = await walkToAnnounce(undefined);
    expect(view.current?.index).toBe(2);
    expect(view.current?.waitingOn).toBe('operator');
    expect(view.current?.result.instructions).toBe(
      "lifeboat cannot post to Slack from here: post the update to the announcements channel (C0ANNOUNCE) yourself — the run's phase and ETA are in `lifeboat run status` — then mark this step done.",
    );

    const refused = await walkToAnnounce(() =>
      Promise.reject(
        Object.assign(new Error('An API error occurred: not_in_channel'), {
          data: { error: 'not_in_channel' },
        }),
      ),
    );
    expect(refused.view.current?.summary).toBe(
      'announcements channel C0ANNOUNCE: Slack did not take the post: not_in_channel — invite the bot to the channel',
    );
  });

  it('does not hold the run on a Slack that never answers', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      const walking = walkToAnnounce(() => new Promise<never>(() => undefined));
      await vi.advanceTimersByTimeAsync(ANNOUNCE_TIMEOUT_MS);
      const { view } = await walking;
      expect(view.current?.summary).toBe(
        'announcements channel C0ANNOUNCE: Slack did not take the post: no answer within 30 s (retry the step, or post the update by hand and skip it)',
      );
    } finally {
      vi.useRealTimers();
    }
  });

  it('is skipped, saying why, when slack.announcements is not set', async () => {
    const { view } = await walkToAnnounce(undefined, 'slack: { channel: C0DROPS }\n');
    expect(view.steps[2]!.state).toBe('skipped');
    expect(view.steps[2]!.summary).toBe(
      'slack.announcements is not set in lifeboat.yml: there is no channel to announce to, so this step is skipped.',
    );
  });
});
