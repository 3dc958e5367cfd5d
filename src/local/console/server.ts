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
import {
  appHomeOpenedBody,
  buttonClickBody,
  sendToSlackApp,
  slashCommandBody,
  viewSubmissionBody,
} from './slack-requests.js';
import { viewFor } from './view.js';
import { CHANNEL, readApiRequest, readBody, str, type Workspace } from './workspace.js';
import type { Block } from './block-html.js';

export interface ConsoleControls {
  /** What the infrastructure panel shows (JSON). */
  infra(): unknown;
  /** Kills the primary; resolves to a sentence for the page. */
  disaster(): Promise<string>;
  /** Rebuilds the pair; resolves to a sentence for the page. */
  restore(): Promise<string>;
  /** After a failover: the dead primary rebuilt as a standby of the promoted one (for a failback). */
  rebuildOldPrimary(): Promise<string>;
  partition(): Promise<string>;
  /** A pg_dump of whichever server takes writes into the store, as a backup job would. */
  backup(): Promise<string>;
  /** The demo application's health, for the service's health check. */
  healthy(): boolean;
}

export interface ConsoleDeps {
  workspace: Workspace;
  /** Where the Bolt app listens (its /slack/events). */
  appUrl: string;
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
  const responseUrls = new Map<
    string,
    { user: string; command?: string; expiresAt: number; usesLeft: number }
  >();
  let responseSeq = 0;
  let consoleUrl = '';
  const page = loadPage();

  const broadcast = (event: string, data: unknown) => {
    const frame = `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
    for (const stream of streams) stream.write(frame);
  };
  workspace.on('change', (version: number) => broadcast('workspace', version));

  // Slack's response_url: good for 30 minutes and 5 uses.
  const responseUrl = (user: string, command?: string) => {
    const now = Date.now();
    for (const [id, entry] of responseUrls) if (entry.expiresAt < now) responseUrls.delete(id);
    const id = String(++responseSeq);
    responseUrls.set(id, {
      user,
      ...(command ? { command } : {}),
      expiresAt: now + 30 * 60_000,
      usesLeft: 5,
    });
    return `${consoleUrl}/response/${id}`;
  };

  /** Sends a signed request to the app as Slack does; the app's answer or what Slack would say. */
  const toApp = async (body: string, contentType?: string) => {
    try {
      const answer = await sendToSlackApp(deps.appUrl, body, deps.signingSecret, {
        ...(contentType ? { contentType } : {}),
        timeoutMs: SLACK_TIMEOUT_MS,
      });
      return answer.status === 200
        ? { ok: true as const, text: answer.text }
        : { ok: false as const, error: `the app answered HTTP ${answer.status}` };
    } catch (error) {
      const timedOut = (error as Error).name === 'TimeoutError';
      return {
        ok: false as const,
        error: timedOut ? 'operation_timeout' : `dispatch_failed (${(error as Error).message})`,
      };
    }
  };

  const person = (id: unknown): string => {
    const found = workspace.people.find((p) => p.id === id);
    if (!found) throw new HttpError(400, `unknown person ${JSON.stringify(id)}`);
    return found.id;
  };

  const actions: Record<string, (input: Record<string, unknown>) => Promise<unknown>> = {
    async command(input) {
      const as = person(input.as);
      const text = str(input.text).trim();
      if (!text) return {};
      if (!text.startsWith('/')) {
        workspace.say(as, text);
        return {};
      }
      const [command = '', ...rest] = text.split(/\s+/);
      if (command !== '/dr') {
        workspace.ephemeral(
          as,
          `\`${command}\` is not a valid command. This console knows \`/dr\`.`,
        );
        return {};
      }
      const answer = await toApp(
        slashCommandBody({
          text: rest.join(' '),
          user: as,
          channel: CHANNEL,
          responseUrl: responseUrl(as, text),
          triggerId: workspace.trigger(as),
        }),
      );
      if (!answer.ok) {
        workspace.ephemeral(as, `\`/dr\` failed with the error "${answer.error}"`, undefined, text);
      } else if (answer.text) {
        const reply = parseJson(answer.text) as { text?: string; blocks?: Block[] } | null;
        workspace.ephemeral(as, reply?.text ?? answer.text, reply?.blocks, text);
      }
      return {};
    },
    async click(input) {
      const as = person(input.as);
      const answer = await toApp(
        buttonClickBody({
          actionId: str(input.actionId),
          value: str(input.value),
          user: as,
          channel: CHANNEL,
          messageTs: str(input.messageTs),
          responseUrl: responseUrl(as),
          triggerId: workspace.trigger(as),
        }),
      );
      if (!answer.ok) workspace.ephemeral(as, `That did not work: "${answer.error}"`);
      return {};
    },
    async submit(input) {
      const as = person(input.as);
      const modal = workspace.modals.get(as);
      if (!modal || modal.id !== input.viewId) return { closed: true };
      const values = (input.values ?? {}) as Record<string, string>;
      const answer = await toApp(
        viewSubmissionBody({
          viewId: modal.id,
          callbackId: modal.view.callback_id ?? '',
          privateMetadata: modal.view.private_metadata ?? '',
          values,
          user: as,
          triggerId: workspace.trigger(as),
        }),
      );
      if (!answer.ok) {
        modal.errors = { '': `We had some trouble connecting: ${answer.error}` };
        workspace.changed();
        return {};
      }
      const reply = parseJson(answer.text) as {
        response_action?: string;
        errors?: Record<string, string>;
        view?: typeof modal.view;
      } | null;
      if (reply?.response_action === 'errors') {
        modal.errors = reply.errors ?? {};
        workspace.changed();
        return {};
      }
      if (reply?.response_action === 'update' && reply.view) {
        workspace.replaceModal(as, reply.view);
        return {};
      }
      workspace.closeModal(as);
      return { closed: true };
    },
    close(input) {
      workspace.closeModal(person(input.as));
      return Promise.resolve({});
    },
    async home(input) {
      const as = person(input.as);
      const answer = await toApp(appHomeOpenedBody(as, `Ev${Date.now()}`), 'application/json');
      return answer.ok ? {} : { error: answer.error };
    },
    async disaster() {
      return { said: await deps.controls.disaster() };
    },
    async restore() {
      return { said: await deps.controls.restore() };
    },
    async backup() {
      return { said: await deps.controls.backup() };
    },
    async 'rebuild-old-primary'() {
      return { said: await deps.controls.rebuildOldPrimary() };
    },
    async partition() {
      return { said: await deps.controls.partition() };
    },
  };

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

    if (url.pathname.startsWith('/api/') && request.method === 'POST') {
      const { method, body } = await readApiRequest(request);
      const answer = workspace.api(method, body);
      if (!answer.ok) deps.logger?.warn({ method, error: answer.error }, 'Web API call refused');
      send(response, 200, answer);
      return;
    }
    if (url.pathname.startsWith('/response/') && request.method === 'POST') {
      const target = responseUrls.get(url.pathname.slice('/response/'.length));
      if (!target || target.expiresAt < Date.now() || target.usesLeft <= 0)
        throw new HttpError(404, 'expired_url');
      target.usesLeft -= 1;
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
      return;
    }
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
          view: viewFor(workspace, person(url.searchParams.get('as'))),
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
  const actual = (server.address() as AddressInfo).port;
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

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function isLocalHost(host: string | undefined): boolean {
  const name = (host ?? '').replace(/:\d+$/, '');
  return name === 'localhost' || name === '127.0.0.1' || name === '[::1]';
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

function send(response: ServerResponse, status: number, body: unknown): void {
  sendText(response, status, 'application/json', JSON.stringify(body));
}

function sendText(response: ServerResponse, status: number, type: string, body: string): void {
  response.writeHead(status, {
    'content-type': type,
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    'x-frame-options': 'DENY',
  });
  response.end(body);
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
