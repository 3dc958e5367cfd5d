// `npm start`: the startup checks (a bad config, a broken runbook, a store from a newer lifeboat or
// a tampered audit log stops the start with one line saying why), then the Slack app when
// SLACK_BOT_TOKEN is set: Socket Mode with SLACK_APP_TOKEN, else HTTP on PORT.

import { loadConfig } from './config.js';
import { createEngine } from './engine/create.js';
import { isLifeboatError } from './errors.js';
import { createLogger } from './log.js';
import { checkReadiness } from './readiness.js';
import { createSlackApp } from './slack/app.js';
import { listRunsInFlight } from './store/runs.js';
import { buildJobs } from './schedule/jobs.js';
import { Scheduler } from './schedule/scheduler.js';
import { createSlackNotifier } from './slack/notifier.js';
import { VERSION } from './version.js';

async function main(): Promise<number> {
  const logger = createLogger();
  try {
    const { problems, lines } = checkReadiness(process.env, new Date());
    console.log(`lifeboat ${VERSION}: startup checks`);
    for (const line of lines) console.log(`  ${line}`);
    if (problems.length > 0) {
      for (const problem of problems) console.error(problem);
      console.error(`lifeboat: not starting: ${problems.length} problem(s) above`);
      return 1;
    }
    const config = loadConfig(process.env);
    if (!config.env.slackBotToken) {
      console.log(
        'ready. SLACK_BOT_TOKEN is not set, so the Slack app is not started (the local console comes later): use the `lifeboat` CLI.',
      );
      return 0;
    }
    const engine = createEngine(config, { logger });
    const slack = createSlackApp({ config, engine, logger });
    const inFlight = listRunsInFlight(engine.store.db).map((run) => run.id);
    engine.resume();
    slack.publisher.reattach(inFlight);
    await slack.app.start(config.env.port);
    const scheduler = config.slackChannel
      ? new Scheduler({
          db: engine.store.db,
          jobs: buildJobs(config),
          logger,
          context: (now) => ({
            config,
            engine,
            notifier: createSlackNotifier(slack.client, config.slackChannel!),
            now,
          }),
        })
      : null;
    await scheduler?.start();
    console.log(
      `lifeboat is listening to Slack (${config.env.slackAppToken ? 'Socket Mode' : `HTTP on port ${config.env.port}, /slack/events`}); ${inFlight.length} run(s) in flight re-attached; ${config.schedules.length} schedule(s)`,
    );
    const stop = async () => {
      await scheduler?.stop();
      await slack.app.stop();
      await engine.idle();
      engine.store.close();
      process.exit(0);
    };
    process.once('SIGINT', () => void stop());
    process.once('SIGTERM', () => void stop());
    return 0;
  } catch (error) {
    if (isLifeboatError(error)) {
      console.error(`lifeboat: not starting: ${error.message}`);
      return 1;
    }
    logger.error({ err: error }, 'internal error at start');
    return 2;
  }
}

process.exitCode = await main();
