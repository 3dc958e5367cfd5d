// Slack mrkdwn from text we did not write, people and times: the Slack messages, the reports and
// the command replies all go through these. Pure.

import { USER_ID } from './people.js';

/**
 * The one way text we did not write (runbook titles and steps, service names, S3 keys, notes,
 * reasons, error messages that echo input) enters mrkdwn: &, < and > escaped, so `<!channel>`,
 * `<@U…>` and `<https://evil|click here>` are shown, never acted on.
 */
export function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** escape(), cut at `max` characters with "…": the whole text stays in the report. */
export function clip(text: string, max = 500): string {
  return escape(text.length > max ? `${text.slice(0, max - 1)}…` : text);
}

export const mention = (user: string): string =>
  /^[UW][A-Z0-9]+$/.test(user) ? `<@${user}>` : user;

/** Every bare user ID (people.ts) in already-escaped mrkdwn becomes a mention: Slack shows the name. */
export const mentionIds = (mrkdwn: string): string => mrkdwn.replace(USER_ID, (id) => `<@${id}>`);

/**
 * A time as Slack shows it to each reader, in their own zone (`<!date^…>`); where a client cannot,
 * the fallback "2026-11-24 03:12 UTC". `time` shows the time of day alone.
 */
export function slackTime(at: string | Date, shape: 'date-time' | 'time' = 'date-time'): string {
  const date = typeof at === 'string' ? new Date(at) : at;
  const iso = date.toISOString();
  const fallback = shape === 'time' ? iso.slice(11, 16) : iso.slice(0, 16).replace('T', ' ');
  const tokens = shape === 'time' ? '{time}' : '{date_num} {time}';
  return `<!date^${Math.floor(date.getTime() / 1000)}^${tokens}|${fallback} UTC>`;
}

/**
 * A run's outcome ("aborted by U0ALICE: time is up") as mrkdwn: the reason escaped (a typed
 * `<!channel>` must not ping anyone), the person who ended it as a mention.
 */
export const outcomeText = (outcome: string): string =>
  escape(outcome).replace(
    /^(aborted|denied) by ([UW][A-Z0-9]+)/,
    (_, verb: string, user: string) => `${verb} by ${mention(user)}`,
  );
