// Slack, as the tests meet it: a Web API stand-in on loopback that records every call (and can be
// told to fail), and requests signed exactly as Slack signs them, sent to the real Bolt app.

import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  buttonClickBody,
  sendToSlackApp,
  slackSignature,
  slashCommandBody,
  viewSubmissionBody,
} from '../../src/local/console/slack-requests.js';
import { fileOfMultipart, readApiRequest, readBytes } from '../../src/local/console/workspace.js';

export interface RecordedCall {
  method: string;
  body: Record<string, unknown>;
}

export interface SlackStandIn {
  url: string;
  calls: RecordedCall[];
  /** Answers for the next calls of `method` before the normal one: e.g. [429, 500]. */
  failNext(method: string, statuses: number[]): void;
  /** The body of the next answer to `method` (an `ok: false` Slack error, say). */
  answerNext(method: string, body: Record<string, unknown>): void;
  /** Calls of `method` wait, unanswered, until the returned function is called. */
  hold(method: string): () => void;
  callsTo(method: string): RecordedCall[];
  close(): Promise<void>;
}

/** The bot the stand-in's auth.test answers for: what serve() hands createSlackApp. */
export const STAND_IN_BOT = { botUserId: 'UBOT', botId: 'BBOT' };

export async function startSlackStandIn(): Promise<SlackStandIn> {
  const calls: RecordedCall[] = [];
  const failures = new Map<string, number[]>();
  const answers = new Map<string, Record<string, unknown>>();
  const held = new Map<string, Promise<void>>();
  let ts = 1_700_000_000;
  let files = 0;
  let base = '';
  const server: Server = createServer((request, response) => {
    // files.uploadV2 sends the bytes to the URL files.getUploadURLExternal gave: kept as sent.
    const upload = /^\/upload\/(F\w+)$/.exec(request.url ?? '');
    if (upload) {
      void readBytes(request).then((raw) => {
        const bytes = fileOfMultipart(raw, request.headers['content-type'] ?? '') ?? raw;
        calls.push({ method: 'upload', body: { fileId: upload[1], bytes } });
        response.writeHead(200, { 'content-type': 'text/plain' });
        response.end('OK');
      });
      return;
    }
    void readApiRequest(request).then(async ({ method, body }) => {
      await held.get(method);
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
      const special = answers.get(method);
      answers.delete(method);
      response.end(
        JSON.stringify(
          special ??
            answer(method, body, () => `${++ts}.000100`, {
              uploadUrl: () => `${base}upload/F0FILE${++files}`,
            }),
        ),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  base = `http://127.0.0.1:${port}/`;
  return {
    url: `http://127.0.0.1:${port}/api/`,
    calls,
    failNext: (method, statuses) => failures.set(method, [...statuses]),
    answerNext: (method, body) => answers.set(method, body),
    hold: (method) => {
      let release = () => undefined as void;
      held.set(
        method,
        new Promise<void>((resolve) => {
          release = resolve;
        }),
      );
      return () => {
        held.delete(method);
        release();
      };
    },
    callsTo: (method) => calls.filter((call) => call.method === method),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

function answer(
  method: string,
  body: Record<string, unknown>,
  nextTs: () => string,
  files: { uploadUrl: () => string },
): Record<string, unknown> {
  switch (method) {
    case 'files.getUploadURLExternal': {
      const url = files.uploadUrl();
      return { ok: true, upload_url: url, file_id: url.split('/').at(-1) };
    }
    case 'files.completeUploadExternal':
      return { ok: true, files: [{ id: 'F0FILE', title: 'chart' }] };
    case 'auth.test':
      return {
        ok: true,
        user_id: STAND_IN_BOT.botUserId,
        bot_id: STAND_IN_BOT.botId,
        team_id: 'T0LIFEBOAT',
        user: 'lifeboat',
      };
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

export { slackSignature, sendToSlackApp };

const DR_OPS = { id: 'C0DROPS', name: 'dr-ops' };

/** A slash command body, shaped like Slack's, from #dr-ops. */
export function slashCommand(
  text: string,
  user: string,
  responseUrl: string,
  triggerId = `${Date.now()}.${Math.random()}`,
): string {
  return slashCommandBody({ text, user, channel: DR_OPS, responseUrl, triggerId });
}

/** A block_actions payload for a button click, shaped like Slack's. */
export function buttonClick(
  actionId: string,
  value: string,
  user: string,
  responseUrl: string,
  message?: { channel: string; ts: string },
): string {
  return buttonClickBody({
    actionId,
    value,
    user,
    channel: message ? { id: message.channel, name: 'dr-ops' } : DR_OPS,
    messageTs: message?.ts ?? '1.0',
    responseUrl,
    triggerId: `${Date.now()}.trigger`,
    actionTs: `${Date.now()}.${Math.floor(Math.random() * 1e6)}`,
  });
}

/** A view_submission payload, shaped like Slack's. */
export function viewSubmission(
  callbackId: string,
  privateMetadata: string,
  values: Record<string, string>,
  user: string,
  viewId = `V${Date.now()}`,
): string {
  return viewSubmissionBody({
    viewId,
    callbackId,
    privateMetadata,
    values,
    user,
    triggerId: `${Date.now()}.trigger`,
  });
}
