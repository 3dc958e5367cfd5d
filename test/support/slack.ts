// Slack, as the tests meet it: a Web API stand-in on loopback that records every call (and can be
// told to fail), and requests signed exactly as Slack signs them, sent to the real Bolt app.

import { createHmac } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedCall {
  method: string;
  body: Record<string, unknown>;
}

export interface SlackStandIn {
  url: string;
  calls: RecordedCall[];
  /** Answers for the next calls of `method` before the normal one: e.g. [429, 500]. */
  failNext(method: string, statuses: number[]): void;
  callsTo(method: string): RecordedCall[];
  close(): Promise<void>;
}

export async function startSlackStandIn(): Promise<SlackStandIn> {
  const calls: RecordedCall[] = [];
  const failures = new Map<string, number[]>();
  let ts = 1_700_000_000;
  const server: Server = createServer((request, response) => {
    void readBody(request).then((raw) => {
      const method = (request.url ?? '').replace(/^\/api\//, '').split('?')[0] ?? '';
      const body = parseBody(raw, request.headers['content-type'] ?? '');
      const pending = failures.get(method);
      const status = pending?.shift();
      if (status !== undefined) {
        calls.push({ method: `${method}!${status}`, body });
        response.writeHead(status, {
          'content-type': 'application/json',
          ...(status === 429 ? { 'retry-after': '0' } : {}),
        });
        response.end(
          JSON.stringify({ ok: false, error: status === 429 ? 'ratelimited' : 'internal_error' }),
        );
        return;
      }
      calls.push({ method, body });
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify(answer(method, body, () => `${++ts}.000100`)));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/api/`,
    calls,
    failNext: (method, statuses) => failures.set(method, [...statuses]),
    callsTo: (method) => calls.filter((call) => call.method === method),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

function answer(
  method: string,
  body: Record<string, unknown>,
  nextTs: () => string,
): Record<string, unknown> {
  switch (method) {
    case 'auth.test':
      return { ok: true, user_id: 'UBOT', bot_id: 'BBOT', team_id: 'T0LIFEBOAT', user: 'lifeboat' };
    case 'chat.postMessage':
      return { ok: true, channel: body.channel, ts: nextTs(), message: {} };
    case 'chat.update':
      return { ok: true, channel: body.channel, ts: body.ts };
    case 'views.open':
    case 'views.update':
      return { ok: true, view: { id: 'V0CONFIRM', hash: 'h1' } };
    case 'usergroups.users.list':
      return { ok: true, users: ['U0DAVE'] };
    default:
      return { ok: true };
  }
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let data = '';
    request.on('data', (chunk: Buffer) => (data += chunk.toString()));
    request.on('end', () => resolve(data));
  });
}

function parseBody(raw: string, contentType: string): Record<string, unknown> {
  if (contentType.includes('application/json'))
    return JSON.parse(raw || '{}') as Record<string, unknown>;
  const form = Object.fromEntries(new URLSearchParams(raw));
  for (const key of ['blocks', 'view']) {
    if (typeof form[key] === 'string')
      (form as Record<string, unknown>)[key] = JSON.parse(form[key]);
  }
  return form;
}

/** Headers Slack sends with a request: `v0=` HMAC-SHA256 of `v0:{timestamp}:{body}`. */
export function slackSignature(
  body: string,
  secret: string,
  timestamp = Math.floor(Date.now() / 1000),
): Record<string, string> {
  const signature = createHmac('sha256', secret).update(`v0:${timestamp}:${body}`).digest('hex');
  return { 'x-slack-request-timestamp': String(timestamp), 'x-slack-signature': `v0=${signature}` };
}

/** POSTs a signed request to the Bolt app's /slack/events. */
export async function sendToSlackApp(
  appUrl: string,
  body: string,
  secret: string,
  options: {
    contentType?: string;
    timestamp?: number;
    signature?: string;
    headers?: Record<string, string>;
  } = {},
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
  });
  return { status: response.status, text: await response.text(), ms: Date.now() - started };
}

/** A slash command body, shaped like Slack's. */
export function slashCommand(
  text: string,
  user: string,
  responseUrl: string,
  triggerId = `${Date.now()}.${Math.random()}`,
): string {
  return new URLSearchParams({
    token: 'legacy-verification-token',
    team_id: 'T0LIFEBOAT',
    team_domain: 'lifeboat-test',
    channel_id: 'C0DROPS',
    channel_name: 'dr-ops',
    user_id: user,
    user_name: user.toLowerCase(),
    command: '/dr',
    text,
    api_app_id: 'A0LIFEBOAT',
    is_enterprise_install: 'false',
    response_url: responseUrl,
    trigger_id: triggerId,
  }).toString();
}

/** A block_actions payload for a button click, shaped like Slack's. */
export function buttonClick(
  actionId: string,
  value: string,
  user: string,
  responseUrl: string,
  message?: { channel: string; ts: string },
): string {
  const payload = {
    type: 'block_actions',
    team: { id: 'T0LIFEBOAT', domain: 'lifeboat-test' },
    user: { id: user, username: user.toLowerCase(), team_id: 'T0LIFEBOAT' },
    api_app_id: 'A0LIFEBOAT',
    token: 'legacy-verification-token',
    container: {
      type: 'message',
      message_ts: message?.ts ?? '1.0',
      channel_id: message?.channel ?? 'C0DROPS',
      is_ephemeral: false,
    },
    trigger_id: `${Date.now()}.trigger`,
    channel: { id: message?.channel ?? 'C0DROPS', name: 'dr-ops' },
    message: { ts: message?.ts ?? '1.0', type: 'message', text: '' },
    response_url: responseUrl,
    actions: [
      {
        type: 'button',
        action_id: actionId,
        block_id: 'b',
        text: { type: 'plain_text', text: actionId },
        value,
        action_ts: `${Date.now()}.${Math.floor(Math.random() * 1e6)}`,
      },
    ],
  };
  return new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
}

/** A view_submission payload, shaped like Slack's. */
export function viewSubmission(
  callbackId: string,
  privateMetadata: string,
  values: Record<string, string>,
  user: string,
  viewId = `V${Date.now()}`,
): string {
  const state = Object.fromEntries(
    Object.entries(values).map(([block, value]) => [
      block,
      { value: { type: 'plain_text_input', value } },
    ]),
  );
  const payload = {
    type: 'view_submission',
    team: { id: 'T0LIFEBOAT', domain: 'lifeboat-test' },
    user: { id: user, username: user.toLowerCase(), team_id: 'T0LIFEBOAT' },
    api_app_id: 'A0LIFEBOAT',
    token: 'legacy-verification-token',
    trigger_id: `${Date.now()}.trigger`,
    view: {
      id: viewId,
      team_id: 'T0LIFEBOAT',
      type: 'modal',
      callback_id: callbackId,
      private_metadata: privateMetadata,
      state: { values: state },
      hash: 'h',
      blocks: [],
    },
    response_urls: [],
  };
  return new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
}
