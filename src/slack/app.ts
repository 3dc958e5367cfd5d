// The Slack adapter: the Bolt app, with `/dr` (slash-command.ts), the confirmation modal
// (confirmation.ts) and the buttons and reason modals (buttons.ts) wired to the engine. No rules
// live here — it parses, calls the engine, renders. Every handler acks within Slack's 3 s, and
// every error becomes an ephemeral reply through error-reply.ts.

import { App, LogLevel, type CustomRoute } from '@slack/bolt';
import { timingSafeEqual } from 'node:crypto';
import { createMetrics } from '../metrics.js';
import type { WebClient } from '@slack/web-api';
import type { Config } from '../config.js';
import { ConfigError } from '../errors.js';
import type { Engine } from '../engine/engine.js';
import type { Logger } from '../log.js';
import type { SlackBot } from './verify-token.js';
import { createAfterAcks } from './after-acks.js';
import { publishAppHome } from './app-home.js';
import { registerButtons } from './buttons.js';
import { registerConfirmation } from './confirmation.js';
import { registerSlashCommand } from './slash-command.js';
import { ThreadPublisher } from './thread-publisher.js';
import { UserGroups } from './usergroups.js';

export interface SlackAppDeps {
  config: Config;
  engine: Engine;
  /** Who the bot is (verifySlackToken's answer): spares an auth.test call before every ack. */
  bot: SlackBot;
  logger?: Logger;
  /** Web API retries; tests shorten them. */
  retryConfig?: { retries: number; factor?: number; minTimeout?: number; maxTimeout?: number };
}

export interface SlackApp {
  app: App;
  publisher: ThreadPublisher;
  client: WebClient;
  /** Resolves when every request received so far has been handled (after its ack, too). */
  handled(): Promise<void>;
}

/** The tokens and secret have the right shape: checked before anything talks to Slack. */
export function checkSlackEnvironment(env: Config['env']): void {
  if (!env.slackBotToken?.startsWith('xoxb-'))
    throw new ConfigError('SLACK_BOT_TOKEN', 'is missing or not a bot token (xoxb-…)');
  if (env.slackAppToken !== null && !env.slackAppToken.startsWith('xapp-'))
    throw new ConfigError('SLACK_APP_TOKEN', 'is not an app-level token (xapp-…)');
  if (env.slackAppToken === null && !env.slackSigningSecret)
    throw new ConfigError(
      'SLACK_SIGNING_SECRET',
      'is required in HTTP mode (or set SLACK_APP_TOKEN for Socket Mode)',
    );
}

export function createSlackApp(deps: SlackAppDeps): SlackApp {
  const { config, engine, logger } = deps;
  const env = config.env;
  checkSlackEnvironment(env);
  const socketMode = env.slackAppToken !== null;

  const app = new App({
    token: env.slackBotToken!,
    botUserId: deps.bot.botUserId,
    botId: deps.bot.botId,
    ...(socketMode
      ? // Socket Mode serves custom routes (/metrics) on a port of its own: PORT.
        { socketMode: true, appToken: env.slackAppToken!, installerOptions: { port: env.port } }
      : { signingSecret: env.slackSigningSecret!, port: env.port }),
    ...(config.metrics ? { customRoutes: [metricsRoute(config, engine)] } : {}),
    logLevel: LogLevel.WARN,
    // Bolt's conversation store (context.conversation) is not used; its lookup builds an Error
    // with a stack trace for every request it cannot find, which is every request.
    convoStore: false,
    // serve() checks the token first, with retries (verify-token.ts), and hands us who the bot
    // is; Bolt's own check in the constructor cannot be retried and would crash the process when
    // Slack is down.
    tokenVerificationEnabled: false,
    clientOptions: {
      ...(env.slackApiUrl ? { slackApiUrl: env.slackApiUrl } : {}),
      ...(deps.retryConfig ? { retryConfig: deps.retryConfig } : {}),
    },
  });
  const publisher = new ThreadPublisher({
    client: app.client,
    engine,
    defaultChannel: config.slackChannel,
    logger,
  });
  publisher.attach();
  const usergroups = new UserGroups(app.client, config, { logger });

  // Requests being handled: a handler acks first and then acts on the engine, so "answered" is
  // not "done" — a graceful stop and the tests wait for this.
  let inFlight = 0;
  const waiting: (() => void)[] = [];
  app.use(async ({ next }) => {
    inFlight += 1;
    try {
      await next();
    } finally {
      inFlight -= 1;
      if (inFlight === 0) for (const resolve of waiting.splice(0)) resolve();
    }
  });
  const handled = () =>
    inFlight === 0 ? Promise.resolve() : new Promise<void>((resolve) => waiting.push(resolve));

  const afterAcks = createAfterAcks();
  const wiring = { app, config, engine, logger, publisher, usergroups, afterAcks };
  const openConfirmation = registerConfirmation(wiring);
  registerSlashCommand(wiring, openConfirmation);
  registerButtons(wiring, openConfirmation);

  app.event('app_home_opened', async ({ event, client }) => {
    if (event.tab !== 'home') return;
    await afterAcks(); // Bolt acked the event: drawing the home tab waits its turn
    await publishAppHome(client, engine, event.user, logger).catch((error: unknown) =>
      logger?.error({ err: error, user: event.user }, 'could not publish App Home'),
    );
  });

  app.error(async (error) => {
    logger?.error({ err: error }, 'unhandled error in a Slack listener');
    return Promise.resolve();
  });

  return { app, publisher, client: app.client, handled };
}

/**
 * GET /metrics for a Prometheus scraper that sends `Authorization: Bearer TOKEN` (the token from
 * the environment variable metrics.bearer_token names). Anything else is refused; with no token
 * set, nothing is served.
 */
function metricsRoute(config: Config, engine: Engine): CustomRoute {
  const metrics = createMetrics(config, engine.store, engine.clock);
  const token = config.metrics ? config.actionEnv[config.metrics.tokenEnv] : undefined;
  return {
    path: '/metrics',
    method: ['GET'],
    handler: (request, response) => {
      const refuse = (status: number, text: string) => {
        response.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8' });
        response.end(`${text}\n`);
      };
      if (!token)
        return refuse(
          503,
          `metrics: ${config.metrics?.tokenEnv} is not set in lifeboat's environment`,
        );
      const given = Buffer.from(request.headers.authorization ?? '');
      const wanted = Buffer.from(`Bearer ${token}`);
      if (given.length !== wanted.length || !timingSafeEqual(given, wanted))
        return refuse(401, 'metrics: send Authorization: Bearer <metrics token>');
      metrics.text().then(
        (text) => {
          response.writeHead(200, { 'Content-Type': metrics.contentType });
          response.end(text);
        },
        () => refuse(500, 'metrics: the store could not be read (see the log)'),
      );
    },
  };
}
