// Start-up against Slack: a token Slack refuses stops the start with one line naming it; Slack not
// answering is retried with backoff, then said plainly; Slack answering late is waited for. Who
// the bot is, asked once at start, is not asked again before each answer.

import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config.js';
import { ConfigError, ProviderError } from '../../src/errors.js';
import { freePort } from '../../src/providers/postgres/servers.js';
import { createLogger } from '../../src/log.js';
import { serve, type Serving } from '../../src/serve.js';
import {
  buttonClick,
  sendToSlackApp,
  slashCommand,
  startSlackStandIn,
  type SlackStandIn,
} from '../support/slack.js';
import { makeTempDir } from '../support/tmp.js';

let slack: SlackStandIn | null = null;
let serving: Serving | null = null;
afterEach(async () => {
  await serving?.stop();
  await slack?.close();
  serving = null;
  slack = null;
});

function configFor(apiUrl: string) {
  const dir = makeTempDir();
  mkdirSync(path.join(dir, 'runbooks'));
  return parseConfig(
    'approvals: { approvers: [U0ALICE, U0BOB] }\n',
    path.join(dir, 'lifeboat.yml'),
    {
      SLACK_BOT_TOKEN: 'xoxb-test',
      SLACK_SIGNING_SECRET: 'secret',
      SLACK_API_URL: apiUrl,
      PORT: '3000', // not listened on: each test serves on port 0
    },
  );
}

const quiet = createLogger({ level: 'silent' });
const noWait = { sleep: () => Promise.resolve() };

describe('starting against Slack', () => {
  it('waits out a Slack that answers 500 twice, then serves', async () => {
    slack = await startSlackStandIn();
    slack.failNext('auth.test', [500, 503]);
    const config = configFor(slack.url);
    // Port 0: the app listens where the system says, never on a port picked earlier and taken since.
    serving = await serve(config, quiet, 0, {}, { ...noWait, attempts: 5 });
    expect(slack.calls.map((call) => call.method).filter((m) => m.startsWith('auth.test'))).toEqual(
      ['auth.test!500', 'auth.test!503', 'auth.test'],
    );
  });

  it('says plainly that Slack does not answer, after retrying with backoff, instead of crashing', async () => {
    const closed = `http://127.0.0.1:${await freePort()}/api/`;
    const waits: number[] = [];
    const error = await serve(
      configFor(closed),
      quiet,
      0,
      {},
      {
        attempts: 4,
        firstDelayMs: 1000,
        sleep: (ms) => Promise.resolve(void waits.push(ms)),
      },
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProviderError);
    expect((error as Error).message).toMatch(
      /^Slack: did not answer auth\.test after 4 attempts \(.*\): is the network up, and SLACK_API_URL right if set\?/,
    );
    expect(waits).toEqual([1000, 2000, 4000]);
  });

  it('stops at once, naming SLACK_BOT_TOKEN, when Slack refuses the token', async () => {
    slack = await startSlackStandIn();
    slack.answerNext('auth.test', { ok: false, error: 'invalid_auth' });
    const error = await serve(configFor(slack.url), quiet, 0, {}, noWait).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toBe(
      "SLACK_BOT_TOKEN: Slack refused it (invalid_auth): take the bot token (xoxb-…) again from the app's Install App page",
    );
  });

  it('asks Slack who the bot is once, at start, and not again before each answer', async () => {
    slack = await startSlackStandIn();
    const config = configFor(slack.url);
    serving = await serve(config, quiet, 0, {}, noWait);
    const url = `http://127.0.0.1:${serving.port}`;
    const responseUrl = `${slack.url}response/start`;
    const help = await sendToSlackApp(url, slashCommand('help', 'U0ALICE', responseUrl), 'secret');
    const click = await sendToSlackApp(
      url,
      buttonClick('approval-approve', 'no-such-approval', 'U0BOB', responseUrl),
      'secret',
    );
    await serving.slack.handled();
    expect(help.text).toContain('/dr help');
    expect(click.status).toBe(200);
    expect(slack.callsTo('auth.test')).toHaveLength(1);
  });
});
