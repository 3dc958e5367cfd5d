// Serving: the engine, the Slack app and the scheduled jobs, started and stopped together. The
// same for Slack and for local mode, whose console is Slack as far as this code can tell.

import { Server as NetServer, type ListenOptions } from 'node:net';
import type { Config } from './config.js';
import { createEngine } from './engine/create.js';
import { ADOPT_EVERY_MS, SELF } from './engine/executor-lease.js';
import { registerInstance, removeInstance, touchInstance } from './store/instances.js';
import { VERSION } from './version.js';
import type { Engine } from './engine/engine.js';
import type { Logger } from './log.js';
import type { ProviderOptions } from './providers/index.js';
import { buildJobs } from './schedule/jobs.js';
import { Scheduler } from './schedule/scheduler.js';
import { checkSlackEnvironment, createSlackApp, type SlackApp } from './slack/app.js';
import { createSlackNotifier } from './slack/notifier.js';
import { verifySlackToken, type TokenCheckOptions } from './slack/verify-token.js';
import { listRunsInFlight } from './store/runs.js';
import { Pager } from './paging/pager.js';

/** How often undecided approvals are looked at for paging.approval_waiting_after. */
const APPROVAL_WATCH_MS = 30_000;

export interface Serving {
  engine: Engine;
  slack: SlackApp;
  /** Runs in flight when we started, whose threads were re-attached. */
  reattached: number;
  /** The port the app listens on for Slack's requests (null in Socket Mode). */
  port: number | null;
  stop(): Promise<void>;
}

export async function serve(
  config: Config,
  logger: Logger,
  listen: number | ListenOptions,
  providers: ProviderOptions = {},
  tokenCheck: TokenCheckOptions = {},
): Promise<Serving> {
  checkSlackEnvironment(config.env);
  const bot = await verifySlackToken(
    config.env.slackBotToken!,
    config.env.slackApiUrl,
    logger,
    tokenCheck,
  );
  // Stakeholder updates go out through the bot, once it is up (nothing walks a run before that).
  let slack: SlackApp | null = null;
  const announcements = config.slackAnnouncements;
  const announce = announcements
    ? async (text: string) => {
        const posted = await slack!.client.chat.postMessage({ channel: announcements, text });
        return { channel: posted.channel ?? announcements, ts: posted.ts ?? '' };
      }
    : undefined;
  const engine = await createEngine(config, { logger, providers, announce });
  slack = createSlackApp({ config, engine, bot, logger });
  const channel = config.slackChannel
    ? createSlackNotifier(slack.client, config.slackChannel)
    : null;
  const pager = config.paging
    ? new Pager({ config, clock: () => new Date(), logger, fallback: channel ?? undefined })
    : null;
  const unwatch = pager?.watch(engine);
  await pager?.trackPending(engine.store);
  const approvalsWatch = pager
    ? setInterval(() => pager.checkWaitingApprovals(new Date()), APPROVAL_WATCH_MS)
    : null;
  approvalsWatch?.unref();
  const inFlight = (await listRunsInFlight(engine.store)).map((run) => run.id);
  await engine.resume();
  slack.publisher.reattach(inFlight);
  const listening: unknown = await slack.app.start(listen);
  const scheduler = channel
    ? new Scheduler({
        db: engine.store,
        jobs: buildJobs(config),
        logger,
        context: (now) => ({
          config,
          engine,
          notifier: pager ? pager.notifier(channel) : channel,
          now,
        }),
      })
    : null;
  await scheduler?.start();
  // Seen by the other instances; and another instance on this store may die or stall mid-run:
  // walk on from where the store says.
  await registerInstance(engine.store, SELF, VERSION, new Date());
  let looking: Promise<void> = Promise.resolve();
  const adopting = setInterval(() => {
    looking = looking.then(async () => {
      try {
        await touchInstance(engine.store, SELF, new Date());
        await engine.adoptOrphans();
      } catch (error) {
        logger.error({ err: error }, 'could not look for runs whose walker is gone');
      }
    });
  }, ADOPT_EVERY_MS);
  adopting.unref();
  return {
    engine,
    slack,
    reattached: inFlight.length,
    port: portOf(listening),
    stop: async () => {
      clearInterval(adopting);
      await looking;
      await scheduler?.stop();
      if (approvalsWatch) clearInterval(approvalsWatch);
      unwatch?.();
      await pager?.idle();
      await slack.app.stop();
      await slack.handled();
      await engine.idle();
      await removeInstance(engine.store, SELF);
      await engine.store.close();
    },
  };
}

/** The port a server listens on (HTTP mode's app.start gives one; Socket Mode's does not). */
function portOf(listening: unknown): number | null {
  if (!(listening instanceof NetServer)) return null;
  const address = listening.address();
  return typeof address === 'object' && address ? address.port : null;
}
