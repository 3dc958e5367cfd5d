// `npm start`. With SLACK_BOT_TOKEN: the startup checks (a bad config, a broken runbook, a store
// from a newer lifeboat or a tampered audit log stops the start with one line saying why), then
// the Slack app — Socket Mode with SLACK_APP_TOKEN, else HTTP on PORT — and the scheduled jobs.
// Without it: local mode, a PostgreSQL pair, an S3 stand-in and a web console that plays Slack.

import path from 'node:path';
import { loadConfig, parseEnvironment } from './config.js';
import { isLifeboatError } from './errors.js';
import { startLocalMode } from './local/mode.js';
import { createFileLogger, createLogger, LOG_LEVELS, type Logger } from './log.js';
import { checkReadiness } from './readiness.js';
import { serve, type Serving } from './serve.js';
import { VERSION } from './version.js';

/** The package's folder: two up from dist/src/main.js, one up from src/main.ts. */
const root = path.resolve(
  import.meta.dirname,
  import.meta.dirname.includes('/dist/') ? '../..' : '..',
);

async function main(): Promise<number> {
  const level = process.env.LOG_LEVEL || 'info';
  if (!LOG_LEVELS.includes(level)) {
    console.error(
      `lifeboat: not starting: LOG_LEVEL: "${level}" is not one of ${LOG_LEVELS.join(', ')}`,
    );
    return 1;
  }
  const logger = createLogger({ level });
  try {
    const env = parseEnvironment(process.env);
    if (!env.slackBotToken) {
      const logFile = path.join(root, '.lifeboat', 'lifeboat.log');
      return await local(createFileLogger(logFile, level), env.port, logFile);
    }
    const { problems, lines } = await checkReadiness(process.env, new Date());
    console.log(`lifeboat ${VERSION}: startup checks`);
    for (const line of lines) console.log(`  ${line}`);
    if (problems.length > 0) {
      for (const problem of problems) console.error(problem);
      console.error(`lifeboat: not starting: ${problems.length} problem(s) above`);
      return 1;
    }
    const config = loadConfig(process.env);
    const serving = await serve(config, logger, config.env.port);
    console.log(
      `lifeboat is listening to Slack (${config.env.slackAppToken ? 'Socket Mode' : `HTTP on port ${config.env.port}, /slack/events`}); ${serving.reattached} run(s) in flight re-attached; ${config.schedules.length} schedule(s)`,
    );
    stopOnSignal(() => serving.stop());
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

async function local(logger: Logger, port: number, logFile: string): Promise<number> {
  console.log(`lifeboat ${VERSION}: SLACK_BOT_TOKEN is not set, so this is local mode`);
  console.log(
    `  logs go to ${path.relative(process.cwd(), logFile) || logFile} (errors to this terminal too; LOG_LEVEL=debug for more)`,
  );
  if (process.env.LIFEBOAT_CONFIG)
    console.log(
      `  (LIFEBOAT_CONFIG=${process.env.LIFEBOAT_CONFIG} is for serving Slack; local mode writes its own config to .lifeboat/lifeboat.yml)`,
    );
  const mode = await startLocalMode({
    dir: path.join(root, '.lifeboat'),
    runbooksDir: path.join(root, 'runbooks'),
    port,
    env: process.env,
    logger,
    print: (line) => console.log(line),
  });
  const serving: Serving = mode.serving;
  console.log(
    [
      '',
      `  lifeboat local console: ${mode.url}`,
      '',
      `  A stand-in for Slack on this machine: a #dr-ops channel with you as alice (requester) or`,
      `  bob (approver), a PostgreSQL primary (port ${mode.environment.pair.primary.port}) and standby (port ${mode.environment.pair.standby.port}),`,
      `  and an S3 stand-in with a real backup. ${serving.reattached} run(s) in flight re-attached.`,
      `  Ctrl-C stops it all; "npx lifeboat local reset" wipes .lifeboat/.`,
      '',
    ].join('\n'),
  );
  stopOnSignal(() => mode.stop());
  return 0;
}

function stopOnSignal(stop: () => Promise<void>): void {
  const handler = () => {
    stop()
      .then(() => process.exit(0))
      .catch((error: unknown) => {
        console.error(`lifeboat: stopping failed: ${(error as Error).message}`);
        process.exit(1);
      });
  };
  process.once('SIGINT', handler);
  process.once('SIGTERM', handler);
}

process.exitCode = await main();
