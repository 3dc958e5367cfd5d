// The local console's HTTP server, on loopback only. It is two things at once:
//  - Slack, as the bot meets it: the Web API under /api/ (the bot's SLACK_API_URL) and the
//    response_url endpoints under /response/;
//  - the page a person plays Slack with: /console/* takes what they type and click, and sends it
//    to the real Bolt app as Slack would — signed slash commands, block_actions, view_submission
//    and events — with Slack's 3-second limit.
// Page requests must be JSON from this origin: a form on another site cannot POST here, and a
// Host that is not localhost (DNS rebinding) is refused.

import { readFileSync, existsSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ConfigError } from '../../errors.js';
import type { Logger } from '../../log.js';
import type { Block } from './block-html.js';
import { HttpError, isLocalHost, parseJson, send, sendText } from './http.js';
import { knownPerson, pageActions, type AppAnswer, type ConsoleControls } from './page-actions.js';
import { ResponseUrls } from './response-urls.js';
import { sendToSlackApp } from './slack-requests.js';
import { viewFor } from './view.js';
import {
  CHANNEL,
  fileOfMultipart,
  readApiRequest,
  readBody,
  readBytes,
  type Workspace,
} from './workspace.js';

export type { ConsoleControls } from './page-actions.js';

export interface ConsoleDeps {
  workspace: Workspace;
  /** Where the Bolt app listens (its /slack/events); null while it does not listen yet. */
  appUrl: () => string | null;
  signingSecret: string;
  controls: ConsoleControls;
  logger?: Logger;
}

export interface ConsoleServer {
  url: string;
  port: number;
  /** Tells open pages that the infrastructure changed. */
  infraChanged(): void;
  close(): Promise<void>;
}

/** Slack gives up on an app that has not acked within 3 seconds. */
const SLACK_TIMEOUT_MS = 3000;

export async function startConsoleServer(deps: ConsoleDeps, port: number): Promise<ConsoleServer> {
  const { workspace } = deps;
  const streams = new Set<ServerResponse>();
  let consoleUrl = '';
  const page = loadPage();

  const broadcast = (event: string, data: unknown) => {
    const frame = `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
    for (const stream of streams) stream.write(frame);
  };
  workspace.on('change', (version: number) => broadcast('workspace', version));

  const responseUrls = new ResponseUrls(() => consoleUrl);

  const toApp = appSender(deps.appUrl, deps.signingSecret);
  const actions = pageActions({ workspace, controls: deps.controls, responseUrls, toApp });

  const server: Server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      const status = error instanceof HttpError ? error.status : 500;
      if (status === 500) deps.logger?.error({ err: error, url: request.url }, 'console error');
      if (!response.headersSent) send(response, status, { error: (error as Error).message });
      else response.end();
    });
  });

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://localhost');
    if (!isLocalHost(request.headers.host)) throw new HttpError(403, 'not a local request');
    const route = `${request.method ?? 'GET'} ${url.pathname}`;

    if (
      await serveSlackSide(request, response, url, { workspace, responseUrls, logger: deps.logger })
    )
      return;
    switch (route) {
      case 'GET /':
        sendText(response, 200, 'text/html; charset=utf-8', page.html);
        return;
      case 'GET /console.js':
        sendText(response, 200, 'text/javascript; charset=utf-8', page.script);
        return;
      case 'GET /favicon.ico':
        response.writeHead(204).end();
        return;
      case 'GET /console.css':
        sendText(response, 200, 'text/css; charset=utf-8', page.style);
        return;
      case 'GET /console/state':
        send(response, 200, {
          people: workspace.people,
          view: viewFor(workspace, knownPerson(workspace, url.searchParams.get('as'))),
          infra: deps.controls.infra(),
        });
        return;
      case 'GET /console/events':
        response.writeHead(200, {
          'content-type': 'text/event-stream',
          'cache-control': 'no-store',
          connection: 'keep-alive',
        });
        response.write(`event: workspace\ndata: ${workspace.version}\n\n`);
        streams.add(response);
        request.on('close', () => streams.delete(response));
        return;
      case 'GET /demo/health': {
        const healthy = deps.controls.healthy();
        sendText(response, healthy ? 200 : 503, 'text/plain', healthy ? 'ok\n' : 'unhealthy\n');
        return;
      }
    }
    const action = url.pathname.startsWith('/console/')
      ? actions[url.pathname.slice('/console/'.length)]
      : undefined;
    if (action && request.method === 'POST') {
      if (!(request.headers['content-type'] ?? '').startsWith('application/json'))
        throw new HttpError(415, 'send JSON');
      const input = (parseJson(await readBody(request)) ?? {}) as Record<string, unknown>;
      send(response, 200, await action(input));
      return;
    }
    throw new HttpError(404, `nothing at ${route}`);
  }

  const actual = await listen(server, port);
  consoleUrl = `http://localhost:${actual}`;
  return {
    url: consoleUrl,
    port: actual,
    infraChanged: () => broadcast('infra', deps.controls.infra()),
    close: () =>
      new Promise((resolve) => {
        for (const stream of streams) stream.end();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/**
 * Slack's side, as the bot meets it: the Web API under /api/ (the bot's SLACK_API_URL) and the
 * response_url endpoints under /response/. False when the request is for neither.
 */
async function serveSlackSide(
  request: IncomingMessage,
  response: ServerResponse,
  url: URL,
  {
    workspace,
    responseUrls,
    logger,
  }: { workspace: Workspace; responseUrls: ResponseUrls; logger?: Logger },
): Promise<boolean> {
  const upload = /^\/files\/upload\/(F\w+)$/.exec(url.pathname);
  if (upload && request.method === 'POST') {
    const raw = await readBytes(request);
    const bytes = fileOfMultipart(raw, request.headers['content-type'] ?? '') ?? raw;
    if (!workspace.receiveFile(upload[1]!, bytes)) throw new HttpError(404, 'no such upload');
    sendText(response, 200, 'text/plain', 'OK');
    return true;
  }
  const file = /^\/files\/(F\w+)$/.exec(url.pathname);
  if (file && request.method === 'GET') {
    const bytes = workspace.files.get(file[1]!)?.bytes;
    if (!bytes) throw new HttpError(404, 'no such file');
    response.writeHead(200, { 'content-type': 'image/png', 'cache-control': 'no-store' });
    response.end(bytes);
    return true;
  }
  if (url.pathname.startsWith('/api/') && request.method === 'POST') {
    const { method, body } = await readApiRequest(request);
    const answer = workspace.api(method, body);
    // An upload URL is this server's: the bot posts the bytes back here.
    if (method === 'files.getUploadURLExternal' && typeof answer.upload_url === 'string')
      answer.upload_url = `http://${request.headers.host ?? 'localhost'}${answer.upload_url}`;
    if (!answer.ok) logger?.warn({ method, error: answer.error }, 'Web API call refused');
    send(response, 200, answer);
    return true;
  }
  if (url.pathname.startsWith('/response/') && request.method === 'POST') {
    const target = responseUrls.use(url.pathname.slice('/response/'.length));
    if (!target) throw new HttpError(404, 'expired_url');
    const body = parseJson(await readBody(request)) as {
      text?: string;
      blocks?: Block[];
      response_type?: string;
    } | null;
    if (body?.response_type === 'in_channel') {
      workspace.api('chat.postMessage', {
        channel: CHANNEL.id,
        text: body.text ?? '',
        ...(body.blocks ? { blocks: body.blocks } : {}),
      });
    } else {
      workspace.ephemeral(target.user, body?.text ?? '', body?.blocks, target.command);
    }
    send(response, 200, { ok: true });
    return true;
  }
  return false;
}

/** Sends a signed request to the app as Slack does; the app's answer, or what Slack would say. */
function appSender(appUrl: () => string | null, signingSecret: string) {
  return async (body: string, contentType?: string): Promise<AppAnswer> => {
    const url = appUrl();
    if (!url) return { ok: false, error: 'dispatch_failed (the app is still starting)' };
    try {
      const answer = await sendToSlackApp(url, body, signingSecret, {
        ...(contentType ? { contentType } : {}),
        timeoutMs: SLACK_TIMEOUT_MS,
      });
      return answer.status === 200
        ? { ok: true, text: answer.text }
        : { ok: false, error: `the app answered HTTP ${answer.status}` };
    } catch (error) {
      const timedOut = (error as Error).name === 'TimeoutError';
      return {
        ok: false,
        error: timedOut ? 'operation_timeout' : `dispatch_failed (${(error as Error).message})`,
      };
    }
  };
}

/** Listens on loopback; resolves to the port. A taken port is a ConfigError naming PORT. */
async function listen(server: Server, port: number): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        error.code === 'EADDRINUSE'
          ? new ConfigError(
              'PORT',
              `${port} is taken: stop what uses it, or start with PORT set to a free port`,
            )
          : error,
      ),
    );
    server.listen(port, '127.0.0.1', resolve);
  });
  return (server.address() as AddressInfo).port;
}

/**
 * The page's three files, from public/ beside this module (tsx, tests) or in the source tree
 * (the compiled dist/ holds no copies of them).
 */
function loadPage(): { html: string; script: string; style: string } {
  const candidates = [
    new URL('./public/', import.meta.url),
    new URL('../../../../src/local/console/public/', import.meta.url),
  ];
  const dir = candidates.find((candidate) => existsSync(new URL('index.html', candidate)));
  if (!dir) throw new Error('the console page (src/local/console/public/) is missing');
  const read = (name: string) => readFileSync(new URL(name, dir), 'utf8');
  return { html: read('index.html'), script: read('console.js'), style: read('console.css') };
}
