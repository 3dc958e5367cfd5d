// The console server on its own: the Web API it answers is as strict as Slack's, the page's
// endpoints cannot be driven by another site, and an app that does not ack in 3 s is told so.

import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { startConsoleServer, type ConsoleServer } from '../../src/local/console/server.js';
import { Workspace, type SavedWorkspace } from '../../src/local/console/workspace.js';
import { renderBlocks } from '../../src/local/console/block-html.js';
import { renderRtoChart } from '../../src/chart/rto-trend.js';
import { WebClient } from '@slack/web-api';
import { ConfigError } from '../../src/errors.js';

const people = [
  { id: 'U0ALICE', name: 'alice', role: 'on-call engineer' },
  { id: 'U0BOB', name: 'bob', role: 'approver' },
];
const controls = {
  infra: () => ({}),
  disaster: () => Promise.resolve('killed'),
  restore: () => Promise.resolve('rebuilt'),
  rebuildOldPrimary: () => Promise.resolve('rebuilt as a standby'),
  partition: () => Promise.resolve('partitioned'),
  backup: () => Promise.resolve('backed up'),
  healthy: () => true,
};

let running: ConsoleServer[] = [];
let apps: Server[] = [];
afterEach(async () => {
  await Promise.all(running.map((server) => server.close()));
  for (const app of apps) app.close();
  running = [];
  apps = [];
});

async function start(appUrl = 'http://127.0.0.1:9', port = 0) {
  const workspace = new Workspace(people);
  const server = await startConsoleServer(
    { workspace, appUrl: () => appUrl, signingSecret: 's', controls },
    port,
  );
  running.push(server);
  return { workspace, server };
}

async function api(server: ConsoleServer, method: string, body: Record<string, unknown>) {
  const response = await fetch(`${server.url}/api/${method}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return (await response.json()) as Record<string, unknown>;
}

describe('the console server', () => {
  it('answers the Web API like Slack: unknown channel, message, trigger or stale view hash are errors', async () => {
    const { server, workspace } = await start();
    expect(await api(server, 'chat.postMessage', { channel: 'C0OTHER', text: 'x' })).toEqual({
      ok: false,
      error: 'channel_not_found',
    });
    const posted = await api(server, 'chat.postMessage', { channel: 'C0LOCAL', text: 'hello' });
    expect(posted).toMatchObject({ ok: true, channel: 'C0LOCAL' });
    expect(
      await api(server, 'chat.postMessage', { channel: 'C0LOCAL', text: 'r', thread_ts: '1.2' }),
    ).toEqual({ ok: false, error: 'thread_not_found' });
    expect(await api(server, 'chat.update', { channel: 'C0LOCAL', ts: '1.2', text: 'y' })).toEqual({
      ok: false,
      error: 'message_not_found',
    });
    expect(
      await api(server, 'chat.update', { channel: 'C0LOCAL', ts: posted.ts, text: 'hello again' }),
    ).toMatchObject({ ok: true });
    expect(workspace.messages.map((m) => [m.text, m.edited])).toEqual([['hello again', true]]);

    expect(await api(server, 'views.open', { trigger_id: 'made-up', view: {} })).toEqual({
      ok: false,
      error: 'invalid_trigger_id',
    });
    const opened = await api(server, 'views.open', {
      trigger_id: workspace.trigger('U0BOB'),
      view: { type: 'modal', blocks: [] },
    });
    const view = opened.view as { id: string; hash: string };
    expect(workspace.modals.get('U0BOB')?.id).toBe(view.id);
    const update = { view_id: view.id, hash: view.hash, view: { type: 'modal', blocks: [] } };
    expect(await api(server, 'views.update', update)).toMatchObject({ ok: true });
    expect(await api(server, 'views.update', update)).toEqual({
      ok: false,
      error: 'hash_conflict',
    });
    expect(await api(server, 'chat.delete', {})).toEqual({ ok: false, error: 'unknown_method' });
  });

  it('refuses page requests from another site: a foreign Host, or a body that is not JSON', async () => {
    const { server } = await start();
    // A DNS-rebinding page reaches the loopback port under its own host name (fetch cannot
    // forge Host, so a raw request does).
    const foreign = await new Promise<number>((resolve, reject) => {
      const request = httpRequest(
        {
          host: '127.0.0.1',
          port: server.port,
          path: '/console/disaster',
          method: 'POST',
          headers: { 'content-type': 'application/json', host: 'evil.example:3000' },
        },
        (response) => {
          response.resume();
          resolve(response.statusCode ?? 0);
        },
      );
      request.on('error', reject);
      request.end('{}');
    });
    expect(foreign).toBe(403);
    const form = await fetch(`${server.url}/console/disaster`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'a=1',
    });
    expect(form.status).toBe(415);
    const unknownPerson = await fetch(`${server.url}/console/command`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ as: 'U0MALLORY', text: '/dr help' }),
    });
    expect(unknownPerson.status).toBe(400);
    await expect(unknownPerson.json()).resolves.toEqual({ error: 'unknown person "U0MALLORY"' });
  });

  it('says "operation_timeout" to the person when the app does not ack within 3 s, as Slack does', async () => {
    const silent = createServer(() => undefined); // takes the request, never answers
    apps.push(silent);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { server, workspace } = await start(
      `http://127.0.0.1:${(silent.address() as AddressInfo).port}`,
    );
    const response = await fetch(`${server.url}/console/command`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ as: 'U0ALICE', text: '/dr status' }),
    });
    expect(response.status).toBe(200);
    expect(workspace.messages.at(-1)).toMatchObject({
      onlyFor: 'U0ALICE',
      text: '`/dr` failed with the error "operation_timeout"',
      inReplyTo: '/dr status',
    });
    silent.closeAllConnections();
  });

  it('takes 5 answers on a response_url, as Slack does, and shows them to the person who asked', async () => {
    let responseUrl = '';
    const app = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString()));
      request.on('end', () => {
        responseUrl = new URLSearchParams(body).get('response_url') ?? '';
        response.writeHead(200).end();
      });
    });
    apps.push(app);
    await new Promise<void>((resolve) => app.listen(0, '127.0.0.1', resolve));
    const { server, workspace } = await start(
      `http://127.0.0.1:${(app.address() as AddressInfo).port}`,
    );
    await fetch(`${server.url}/console/command`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ as: 'U0BOB', text: '/dr backups check' }),
    });
    expect(responseUrl).toMatch(/^http:\/\/localhost:\d+\/response\/\d+$/);
    const statuses: number[] = [];
    for (let use = 1; use <= 6; use += 1) {
      const answer = await fetch(responseUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ response_type: 'ephemeral', text: `answer ${use}` }),
      });
      statuses.push(answer.status);
    }
    expect(statuses).toEqual([200, 200, 200, 200, 200, 404]);
    expect(workspace.messages.map((m) => [m.onlyFor, m.text, m.inReplyTo])).toEqual(
      [1, 2, 3, 4, 5].map((n) => ['U0BOB', `answer ${n}`, '/dr backups check']),
    );
  });

  it('takes a chart the bot uploads with files.uploadV2, shows it inline in the channel and serves its bytes', async () => {
    const { server, workspace } = await start();
    const png = renderRtoChart(
      [{ runId: 'r-1', kind: 'drill', finishedAt: '2026-11-24T03:10:00Z', rtoSeconds: 600 }],
      900,
    );
    const client = new WebClient('xoxb-local', { slackApiUrl: `${server.url}/api/` });
    await client.files.uploadV2({
      channel_id: 'C0LOCAL',
      file: png,
      filename: 'rto-payments-db.png',
      title: 'payments-db: achieved RTO',
    });
    const message = workspace.messages.at(-1)!;
    expect(message.blocks).toEqual([
      {
        type: 'image',
        image_url: expect.stringMatching(/^\/files\/F\w+$/) as string,
        alt_text: 'payments-db: achieved RTO',
        title: { type: 'plain_text', text: 'payments-db: achieved RTO' },
      },
    ]);
    const source = message.blocks![0]!.image_url!;
    const served = await fetch(`${server.url}${source}`);
    expect(served.headers.get('content-type')).toBe('image/png');
    expect(Buffer.from(await served.arrayBuffer())).toEqual(png);
    expect(renderBlocks(message.blocks!)).toBe(
      `<figure class="block image"><img src="${source}" alt="payments-db: achieved RTO"><figcaption>payments-db: achieved RTO</figcaption></figure>`,
    );
    // Kept across a restart, like the channel.
    const again = new Workspace(
      people,
      JSON.parse(JSON.stringify(workspace.save())) as SavedWorkspace,
    );
    expect(again.files.get(source.split('/').at(-1)!)?.bytes).toEqual(png);
    // An image from anywhere else is not loaded.
    expect(renderBlocks([{ type: 'image', image_url: 'https://evil.example/x.png' }])).toBe(
      '<div class="block unknown">(image)</div>',
    );
  });

  it('names a taken port', async () => {
    const { server } = await start();
    await expect(start(undefined, server.port)).rejects.toBeInstanceOf(ConfigError);
    await expect(start(undefined, server.port)).rejects.toThrow(
      `PORT: ${server.port} is taken: stop what uses it, or start with PORT set to a free port`,
    );
  });
});
