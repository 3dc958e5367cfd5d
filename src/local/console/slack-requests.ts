// Requests shaped and signed exactly as Slack sends them to an app: slash commands, button clicks,
// modal submissions and events, each with the `v0=` HMAC-SHA256 signature Bolt verifies. The
// local console plays Slack with these, and the tests drive the Bolt app with the same ones.

import { createHmac } from 'node:crypto';

export const TEAM = { id: 'T0LIFEBOAT', domain: 'lifeboat-local' } as const;
const APP_ID = 'A0LIFEBOAT';

/** Headers Slack sends with a request: `v0=` HMAC-SHA256 of `v0:{timestamp}:{body}`. */
export function slackSignature(
  body: string,
  secret: string,
  timestamp = Math.floor(Date.now() / 1000),
): Record<string, string> {
  const signature = createHmac('sha256', secret).update(`v0:${timestamp}:${body}`).digest('hex');
  return { 'x-slack-request-timestamp': String(timestamp), 'x-slack-signature': `v0=${signature}` };
}

export interface SignedRequestOptions {
  contentType?: string;
  timestamp?: number;
  signature?: string;
  headers?: Record<string, string>;
  /** Gives up (a TimeoutError) after this long, as Slack does after 3 s. */
  timeoutMs?: number;
}

/** POSTs a signed request to a Bolt app's /slack/events. */
export async function sendToSlackApp(
  appUrl: string,
  body: string,
  secret: string,
  options: SignedRequestOptions = {},
): Promise<{ status: number; text: string; ms: number }> {
  const headers = { ...slackSignature(body, secret, options.timestamp), ...options.headers };
  if (options.signature) headers['x-slack-signature'] = options.signature;
  const started = Date.now();
  const response = await fetch(`${appUrl}/slack/events`, {
    method: 'POST',
    headers: {
      'content-type': options.contentType ?? 'application/x-www-form-urlencoded',
      ...headers,
    },
    body,
    ...(options.timeoutMs ? { signal: AbortSignal.timeout(options.timeoutMs) } : {}),
  });
  return { status: response.status, text: await response.text(), ms: Date.now() - started };
}

export interface Channel {
  id: string;
  name: string;
}

/** A slash command body, shaped like Slack's. */
export function slashCommandBody(options: {
  text: string;
  user: string;
  channel: Channel;
  responseUrl: string;
  triggerId: string;
}): string {
  return new URLSearchParams({
    token: 'legacy-verification-token',
    team_id: TEAM.id,
    team_domain: TEAM.domain,
    channel_id: options.channel.id,
    channel_name: options.channel.name,
    user_id: options.user,
    user_name: options.user.toLowerCase(),
    command: '/dr',
    text: options.text,
    api_app_id: APP_ID,
    is_enterprise_install: 'false',
    response_url: options.responseUrl,
    trigger_id: options.triggerId,
  }).toString();
}

/** A block_actions payload for a button clicked in a message, shaped like Slack's. */
export function buttonClickBody(options: {
  actionId: string;
  value: string;
  user: string;
  channel: Channel;
  messageTs: string;
  responseUrl: string;
  triggerId: string;
  actionTs?: string;
}): string {
  const payload = {
    type: 'block_actions',
    team: TEAM,
    user: { id: options.user, username: options.user.toLowerCase(), team_id: TEAM.id },
    api_app_id: APP_ID,
    token: 'legacy-verification-token',
    container: {
      type: 'message',
      message_ts: options.messageTs,
      channel_id: options.channel.id,
      is_ephemeral: false,
    },
    trigger_id: options.triggerId,
    channel: options.channel,
    message: { ts: options.messageTs, type: 'message', text: '' },
    response_url: options.responseUrl,
    actions: [
      {
        type: 'button',
        action_id: options.actionId,
        block_id: 'b',
        text: { type: 'plain_text', text: options.actionId },
        value: options.value,
        action_ts: options.actionTs ?? `${Date.now() / 1000}`,
      },
    ],
  };
  return new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
}

/** A view_submission payload, shaped like Slack's: each value under its block id. */
export function viewSubmissionBody(options: {
  viewId: string;
  callbackId: string;
  privateMetadata: string;
  values: Record<string, string>;
  user: string;
  triggerId: string;
}): string {
  const state = Object.fromEntries(
    Object.entries(options.values).map(([block, value]) => [
      block,
      { value: { type: 'plain_text_input', value } },
    ]),
  );
  const payload = {
    type: 'view_submission',
    team: TEAM,
    user: { id: options.user, username: options.user.toLowerCase(), team_id: TEAM.id },
    api_app_id: APP_ID,
    token: 'legacy-verification-token',
    trigger_id: options.triggerId,
    view: {
      id: options.viewId,
      team_id: TEAM.id,
      type: 'modal',
      callback_id: options.callbackId,
      private_metadata: options.privateMetadata,
      state: { values: state },
      hash: 'h',
      blocks: [],
    },
    response_urls: [],
  };
  return new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
}

/** An Events API `app_home_opened` callback (JSON), shaped like Slack's. */
export function appHomeOpenedBody(user: string, eventId: string): string {
  return JSON.stringify({
    token: 'legacy-verification-token',
    team_id: TEAM.id,
    api_app_id: APP_ID,
    type: 'event_callback',
    event_id: eventId,
    event_time: Math.floor(Date.now() / 1000),
    event: {
      type: 'app_home_opened',
      user,
      channel: `D0${user}`,
      tab: 'home',
      event_ts: `${Date.now() / 1000}`,
    },
  });
}
