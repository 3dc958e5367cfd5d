// The small mrkdwn helpers every message goes through: times in the reader's zone, people by name.

import { describe, expect, it } from 'vitest';
import { mentionIds, slackTime } from '../../../src/slack/blocks/kit.js';
import { errorReply } from '../../../src/slack/error-reply.js';
import { GateRefused } from '../../../src/errors.js';

describe('mrkdwn helpers', () => {
  it('writes a time for Slack to show in each reader’s zone, with a UTC fallback', () => {
    const at = '2026-11-24T03:12:05.000Z';
    expect(slackTime(at)).toBe('<!date^1795489925^{date_num} {time}|2026-11-24 03:12 UTC>');
    expect(slackTime(new Date(at), 'time')).toBe('<!date^1795489925^{time}|03:12 UTC>');
  });

  it('turns the user IDs in an engine sentence into mentions, and nothing else', () => {
    expect(
      mentionIds('U0MALLORY may not approve: only permissions.approvers (U0ALICE, W0BOB9) may'),
    ).toBe('<@U0MALLORY> may not approve: only permissions.approvers (<@U0ALICE>, <@W0BOB9>) may');
    // Words in capitals, run ids, already-mentioned people and escaped input stay as they are.
    expect(mentionIds('UNPROTECTED since r-U0XYZ1; <@U0ALICE>; &lt;@U0EVE1&gt;')).toBe(
      'UNPROTECTED since r-U0XYZ1; <@U0ALICE>; &lt;@U0EVE1&gt;',
    );
  });

  it('names the people in a refusal, and keeps typed markup inert', () => {
    const refusal = new GateRefused('permission', 'U0MALLORY may not abort run r-1 (<!channel>)');
    expect(errorReply(refusal, undefined, {})).toBe(
      ':warning: <@U0MALLORY> may not abort run r-1 (&lt;!channel&gt;)',
    );
  });
});
