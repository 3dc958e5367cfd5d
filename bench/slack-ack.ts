// `/dr` ack latency: 50 concurrent signed slash commands against lifeboat's Bolt app, and the same
// against a bare Bolt app whose handler only acks — same machine, same run. Prints p50/p99 and
// the ratio (goal <= 1.2).
//
//   npx tsx bench/slack-ack.ts [rounds]

import { App, LogLevel } from '@slack/bolt';
import { spawn } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseConfig } from '../src/config.js';
import { createEngine } from '../src/engine/create.js';
import { freePort } from '../src/providers/postgres/servers.js';
import { createSlackApp } from '../src/slack/app.js';
import { nodeTsArgs } from '../test/support/node-ts.js';
import { sendToSlackApp, slashCommand } from '../test/support/slack.js';

const ROUNDS = Number(process.argv[2] ?? 20);
const CONCURRENT = 50;
const SECRET = 'bench-secret';

async function burst(
  url: string,
  responseUrl: string,
  round: number,
  text: string,
): Promise<number[]> {
  const results = await Promise.all(
    Array.from({ length: CONCURRENT }, (_, i) =>
      sendToSlackApp(
        url,
        slashCommand(text, 'U0ALICE', responseUrl, `t-${round}-${i}-${Math.random()}`),
        SECRET,
      ),
    ),
  );
  return results.map((result) => {
    if (result.status !== 200) throw new Error(`HTTP ${result.status}`);
    return result.ms;
  });
}

/** Bursts against both apps in turn, alternating which goes first, so neither meets a warmer machine. */
async function measureBoth(
  ourUrl: string,
  bareUrl: string,
  responseUrl: string,
  text: string,
): Promise<{ ours: number[]; bare: number[] }> {
  const ours: number[] = [];
  const bare: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 === 0 ? [true, false] : [false, true];
    for (const isOurs of order) {
      if (isOurs) ours.push(...(await burst(ourUrl, responseUrl, round, text)));
      else bare.push(...(await burst(bareUrl, responseUrl, round, text)));
    }
  }
  return { ours: ours.sort((a, b) => a - b), bare: bare.sort((a, b) => a - b) };
}

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;

// The stand-in runs in its own process: its request handling must not share our event loop.
const standIn = spawn(process.execPath, nodeTsArgs('bench/stand-in.ts'), {
  stdio: ['ignore', 'pipe', 'inherit'],
});
const slackUrl = await new Promise<string>((resolve) =>
  standIn.stdout.once('data', (chunk: Buffer) => resolve(chunk.toString().trim())),
);
const slack = { url: slackUrl, close: () => Promise.resolve(void standIn.kill()) };
const dir = mkdtempSync(path.join(tmpdir(), 'lifeboat-bench-ack-'));
mkdirSync(path.join(dir, 'runbooks'));
// The shipped runbooks: what `/dr runbook list` lists.
cpSync(path.join(import.meta.dirname, '..', 'runbooks'), path.join(dir, 'runbooks'), {
  recursive: true,
});
const [ourPort, barePort] = [await freePort(), await freePort()];
const config = parseConfig(
  `services:\n  payments-db:\n    rto: 15m\n    rpo: 1m\n    database: { provider: postgres, primary: "postgres://127.0.0.1:1/p", replica: "postgres://127.0.0.1:2/p" }\n`,
  path.join(dir, 'lifeboat.yml'),
  {
    SLACK_BOT_TOKEN: 'xoxb-bench',
    SLACK_SIGNING_SECRET: SECRET,
    SLACK_API_URL: slack.url,
    PORT: String(ourPort),
  },
);
const engine = await createEngine(config);
const ours = createSlackApp({ config, engine });
await ours.app.start(ourPort);
const bare = new App({
  token: 'xoxb-bench',
  signingSecret: SECRET,
  logLevel: LogLevel.ERROR,
  clientOptions: { slackApiUrl: slack.url },
});
bare.command('/dr', async ({ ack }) => {
  await ack();
});
await bare.start(barePort);

try {
  const responseUrl = `${slack.url}response/bench`;
  const ourUrl = `http://127.0.0.1:${ourPort}`;
  const bareUrl = `http://127.0.0.1:${barePort}`;
  console.log(
    `/dr ack latency, ${CONCURRENT} concurrent requests x ${ROUNDS} rounds (HTTP receiver, signed requests)`,
  );
  for (const text of ['help', 'runbook list']) {
    await burst(ourUrl, responseUrl, -1, text); // warm-up, both
    await burst(bareUrl, responseUrl, -1, text);
    const { ours: ourTimes, bare: bareTimes } = await measureBoth(
      ourUrl,
      bareUrl,
      responseUrl,
      text,
    );
    const [p50, p99, b50, b99] = [
      percentile(ourTimes, 50),
      percentile(ourTimes, 99),
      percentile(bareTimes, 50),
      percentile(bareTimes, 99),
    ];
    console.log(`  lifeboat /dr ${text.padEnd(13)} p50 ${p50} ms   p99 ${p99} ms`);
    console.log(`  bare Bolt, empty ack       p50 ${b50} ms   p99 ${b99} ms`);
    console.log(
      `  ratio                      p50 ${(p50 / Math.max(1, b50)).toFixed(2)}x   p99 ${(p99 / Math.max(1, b99)).toFixed(2)}x`,
    );
  }
} finally {
  await ours.publisher.flushed();
  await ours.app.stop();
  await bare.stop();
  await slack.close();
  await engine.store.close();
  rmSync(dir, { recursive: true, force: true });
}
