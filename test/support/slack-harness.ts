// The real Bolt app on a free port, with an engine on a temporary store and a Web API stand-in:
// what the Slack suites send signed requests to. Every reply a person saw — answered inside the
// ack or later through response_url — reads from one list.

import type { Server as NetServer } from 'node:net';
import { createSlackApp, type SlackApp } from '../../src/slack/app.js';
import type { ActionRegistry } from '../../src/actions/registry.js';
import type { ProvidersFor } from '../../src/engine/step-runner.js';
import { makeEngine, testClock, type TestClock, type TestEngine } from './engine.js';
import { sendToSlackApp, STAND_IN_BOT, startSlackStandIn, type SlackStandIn } from './slack.js';

export const SECRET = 'test-signing-secret';

export interface SlackHarness {
  t: TestEngine;
  slack: SlackStandIn;
  app: SlackApp;
  url: string;
  responseUrl: string;
  /** Sends a signed request body; an answer inside the ack is recorded with the replies. */
  send(
    body: string,
    secret?: string,
    options?: Parameters<typeof sendToSlackApp>[3],
  ): ReturnType<typeof sendToSlackApp>;
  /** Every reply text a person saw, oldest first. */
  replies(): string[];
  /** Waits for the engine and every queued Slack update. */
  settle(): Promise<void>;
  stop(): Promise<void>;
}

export async function startSlackHarness(options: {
  configYaml: string;
  runbooks: Record<string, string>;
  providersFor?: ProvidersFor;
  actions?: ActionRegistry;
  clock?: TestClock;
  /** More of lifeboat's environment (secrets the config names). */
  env?: Record<string, string>;
}): Promise<SlackHarness> {
  const slack = await startSlackStandIn();
  const t = await makeEngine({
    runbooks: options.runbooks,
    configYaml: `slack: { channel: C0DROPS }\n${options.configYaml}`,
    clock: options.clock ?? testClock(new Date().toISOString()),
    providersFor: options.providersFor,
    actions: options.actions,
    env: {
      SLACK_BOT_TOKEN: 'xoxb-test',
      SLACK_SIGNING_SECRET: SECRET,
      SLACK_API_URL: slack.url,
      ...options.env,
    },
  });
  const app = createSlackApp({
    config: t.config,
    engine: t.engine,
    bot: STAND_IN_BOT,
    retryConfig: { retries: 4, factor: 1, minTimeout: 5, maxTimeout: 20 },
  });
  const url = `http://127.0.0.1:${listeningPort(await app.app.start(0))}`;
  const harness: SlackHarness = {
    t,
    slack,
    app,
    url,
    responseUrl: `${slack.url}response/1`,
    async send(body, secret = SECRET, sendOptions) {
      const result = await sendToSlackApp(url, body, secret, sendOptions);
      if (result.status === 200 && result.text.startsWith('{')) {
        const answer = JSON.parse(result.text) as Record<string, unknown>;
        if (typeof answer.text === 'string')
          slack.calls.push({ method: 'response/ack', body: answer });
      }
      return result;
    },
    replies: () =>
      slack.calls
        .filter((call) => call.method.startsWith('response/'))
        .map((call) => String(call.body.text)),
    async settle() {
      await harness.app.handled();
      await t.engine.idle();
      await harness.app.publisher.flushed();
    },
    async stop() {
      await harness.settle();
      await harness.app.app.stop();
      await slack.close();
      await t.store.close();
    },
  };
  return harness;
}

/**
 * The port a server started on port 0 got from the system. The tests' apps listen so: a port
 * picked free first could be taken (if only by a connection's local end) before the app binds it.
 */
export function listeningPort(server: NetServer): number {
  const address = server.address();
  if (!address || typeof address !== 'object') throw new Error('the server does not listen');
  return address.port;
}
