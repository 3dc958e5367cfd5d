// One side of the ack bench in a process of its own: `lifeboat CONFIG` serves lifeboat exactly as
// `npm start` does (serve(): the engine, the Bolt app on HTTP, the scheduled jobs, logs at info),
// `bare` a Bolt app whose listeners only ack. Prints its URL, then serves until killed. The
// Slack Web API stand-in's URL and the signing secret come from the environment.
//
//   node --import tsx bench/ack-app.ts lifeboat /path/lifeboat.yml | bare

import { App, LogLevel } from '@slack/bolt';
import { openSync } from 'node:fs';
import path from 'node:path';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/log.js';
import { freePort } from '../src/providers/postgres/servers.js';
import { serve } from '../src/serve.js';

const [side, configFile] = process.argv.slice(2);
const port = await freePort();

if (side === 'lifeboat') {
  const env = { ...process.env, LIFEBOAT_CONFIG: configFile, PORT: String(port) };
  const config = loadConfig(env);
  // Logs as a deployment keeps them: info, JSON lines, into a file beside the config.
  const log = openSync(path.join(path.dirname(configFile!), 'lifeboat.log'), 'a');
  await serve(config, createLogger({ level: 'info', destination: log }), port);
} else {
  const bare = new App({
    token: process.env.SLACK_BOT_TOKEN,
    signingSecret: process.env.SLACK_SIGNING_SECRET,
    logLevel: LogLevel.ERROR,
    clientOptions: { slackApiUrl: process.env.SLACK_API_URL },
  });
  bare.command('/dr', async ({ ack }) => ack());
  bare.action(/.*/, async ({ ack }) => ack());
  await bare.start(port);
}
process.stdout.write(`http://127.0.0.1:${port}\n`);
// The bench asks each side for its CPU time around each round.
process.on('message', (message) => {
  if (message === 'cpu') process.send?.(process.cpuUsage());
});
// Killed by the bench: exit normally, so that `--cpu-prof` (in NODE_OPTIONS) can write its profile.
process.once('SIGTERM', () => process.exit(0));
