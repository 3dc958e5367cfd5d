// Slack shows the person an error when an ack takes over 3 seconds: nothing that waits — on Slack's
// own API, the network, or a long read of the store — may come before it. What can answer at once
// answers inside the ack; the rest acks empty and answers through response_url.

import { afterEach, describe, expect, it } from 'vitest';
import { slashCommand } from '../support/slack.js';
import { startSlackHarness, type SlackHarness } from '../support/slack-harness.js';

const drill = `---
title: Quarterly drill
kind: drill
---
## Walk
1. Open the dashboards
`;

let harness: SlackHarness | null = null;
afterEach(async () => {
  await harness?.stop();
  harness = null;
});

async function start(): Promise<SlackHarness> {
  harness = await startSlackHarness({
    // U0DAVE is listed by no ID: whether S0ONCALL admits him must be asked of Slack.
    configYaml: 'approvals: { approvers: [U0ALICE, U0BOB], usergroup: S0ONCALL }\n',
    runbooks: { drill },
  });
  return harness;
}

describe('the ack of /dr', () => {
  it('comes at once while Slack’s user-group API hangs; the answer follows once the group is known', async () => {
    const h = await start();
    const release = h.slack.hold('usergroups.users.list');
    const acked = await h.send(slashCommand('runbook list', 'U0DAVE', h.responseUrl));
    expect(acked.status).toBe(200);
    expect(acked.text).toBe(''); // acked, empty: the list comes after
    expect(h.replies()).toEqual([]);

    release();
    await h.settle();
    expect(h.slack.callsTo('usergroups.users.list')).toHaveLength(1);
    expect(h.replies()).toEqual([
      expect.stringMatching(/^\*Runbooks\* in .*\n• `drill` — Quarterly drill/),
    ]);

    // The group is known now: the same command answers inside its ack, asking Slack nothing.
    const again = await h.send(slashCommand('runbook list', 'U0DAVE', h.responseUrl));
    expect((JSON.parse(again.text) as { text: string }).text).toMatch(/^\*Runbooks\* in /);
    expect(h.slack.callsTo('usergroups.users.list')).toHaveLength(1);
  });

  it('answers inside the ack for a person listed by ID, without asking Slack about groups', async () => {
    const h = await start();
    h.slack.hold('usergroups.users.list'); // never released: it must not be needed
    const acked = await h.send(slashCommand('help', 'U0ALICE', h.responseUrl));
    expect((JSON.parse(acked.text) as { text: string }).text).toMatch(/\/dr status/);
    expect(h.slack.callsTo('usergroups.users.list')).toHaveLength(0);
  });

  it('acks /dr status empty before reading the store, and answers through response_url', async () => {
    const h = await start();
    const acked = await h.send(slashCommand('status', 'U0ALICE', h.responseUrl));
    expect(acked.text).toBe('');
    await h.settle();
    expect(h.replies()).toHaveLength(1);
    expect(h.replies()[0]).toMatch(/^\*Instances\*\n• none serving this store/);
  });
});
