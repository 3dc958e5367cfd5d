// announce: a stakeholder update in slack.announcements — what the step says, the run's phase, when
// the impact began and the ETA of recovery from the phase budgets. From the break-glass CLI, which
// cannot post, the update is written out for a person to post, and the step waits for Done.

import { withTimeout } from '../../deadline.js';
import { ProviderError } from '../../errors.js';
import { escape } from '../../mrkdwn.js';
import { clockTimeUtc } from '../../time.js';
import type { Action, ActionContext, RunStanding } from '../types.js';

/** How long an announcement may wait on Slack. */
export const ANNOUNCE_TIMEOUT_MS = 30_000;

const notConfigured = (context: ActionContext): string | null =>
  context.announcements
    ? null
    : 'slack.announcements is not set in lifeboat.yml: there is no channel to announce to, so this step is skipped.';

/** The update as stakeholders read it; runbook text is escaped. */
export function announcement(context: ActionContext, standing: RunStanding, now: Date): string {
  const minutes = Math.max(0, Math.round((now.getTime() - Date.parse(standing.impactAt)) / 60_000));
  const eta = standing.etaAt
    ? `Expected recovery by ${clockTimeUtc(standing.etaAt)} (from the runbook's phase budgets${standing.etaNote ? `; ${standing.etaNote}` : ''}).`
    : `No ETA: ${standing.etaNote ?? 'not known'}.`;
  return [
    `:loudspeaker: *DR update — ${context.run.kind} of ${escape(standing.service ?? context.run.runbook)}*`,
    escape(context.step.text),
    `Phase ${standing.phaseNumber} of ${standing.phaseCount}: ${escape(standing.phaseTitle)}. Impact began ${clockTimeUtc(new Date(standing.impactAt))} (${minutes} min ago). ${eta}`,
  ].join('\n');
}

export const announce: Action = {
  name: 'announce',
  skipReason: notConfigured,
  plan: (context) =>
    notConfigured(context) ??
    `Post "${context.step.text}" with the run's phase and ETA to the announcements channel (${context.announcements}).`,
  instructions: (context) =>
    context.announce || !context.announcements
      ? null
      : `lifeboat cannot post to Slack from here: post the update to the announcements channel (${context.announcements}) yourself — the run's phase and ETA are in \`lifeboat run status\` — then mark this step done.`,
  async run(context) {
    const standing = await context.standing();
    const text = announcement(context, standing, context.clock());
    let posted: { channel: string; ts: string };
    try {
      // Slack's client retries for up to half an hour when Slack is down: a run does not wait on it.
      posted = await withTimeout(
        context.announce!(text),
        ANNOUNCE_TIMEOUT_MS,
        `no answer within ${ANNOUNCE_TIMEOUT_MS / 1000} s (retry the step, or post the update by hand and skip it)`,
      );
    } catch (error) {
      const code = (error as { data?: { error?: string } }).data?.error;
      throw new ProviderError(
        `announcements channel ${context.announcements}`,
        `Slack did not take the post: ${code ?? (error as Error).message}${code === 'not_in_channel' || code === 'channel_not_found' ? ' — invite the bot to the channel' : ''}`,
        false,
        { cause: error },
      );
    }
    return {
      summary: `announced in the announcements channel (${posted.channel}): phase ${standing.phaseNumber} of ${standing.phaseCount}, ${standing.etaAt ? `ETA ${clockTimeUtc(standing.etaAt)}` : 'no ETA'}`,
      details: {
        channel: posted.channel,
        ts: posted.ts,
        text,
        eta: standing.etaAt?.toISOString() ?? null,
      },
    };
  },
};
