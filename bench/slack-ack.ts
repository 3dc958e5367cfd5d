// `/dr` ack latency: 50 concurrent signed slash commands against lifeboat's Bolt app, and the same
// against a bare Bolt app whose handler only acks — same machine, same run. Prints p50/p99 and
// the ratio (goal <= 1.2). With --postgres, a second lifeboat app on a PostgreSQL store (a
// throwaway local server) is measured in the same rounds: SQLite against PostgreSQL.
//
//   npx tsx bench/slack-ack.ts [rounds] [--postgres]

import { App, LogLevel } from '@slack/bolt';
import { spawn } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseConfig } from '../src/config.js';
import { createEngine } from '../src/engine/create.js';
import { freePort, startThrowawayServer } from '../src/providers/postgres/servers.js';
import { createSlackApp } from '../src/slack/app.js';
import { nodeTsArgs } from '../test/support/node-ts.js';
import { sendToSlackApp, slashCommand } from '../test/support/slack.js';

const ROUNDS = Number(process.argv.slice(2).find((arg) => !arg.startsWith('--')) ?? 20);
const WITH_POSTGRES = process.argv.includes('--postgres');
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

/** Bursts against every app in turn, rotating which goes first, so none meets a warmer machine. */
async function measureAll(urls: string[], responseUrl: string, text: string): Promise<number[][]> {
  const times = urls.map((): number[] => []);
  for (let round = 0; round < ROUNDS; round++) {
    for (let turn = 0; turn < urls.length; turn++) {
      const which = (round + turn) % urls.length;
      times[which]!.push(...(await burst(urls[which]!, responseUrl, round, text)));
    }
  }
  return times.map((list) => list.sort((a, b) => a - b));
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
const [ourPort, pgPort, barePort] = [await freePort(), await freePort(), await freePort()];
const services = `services:\n  payments-db:\n    rto: 15m\n    rpo: 1m\n    database: { provider: postgres, primary: "postgres://127.0.0.1:1/p", replica: "postgres://127.0.0.1:2/p" }\n`;
const env = (port: number) => ({
  SLACK_BOT_TOKEN: 'xoxb-bench',
  SLACK_SIGNING_SECRET: SECRET,
  SLACK_API_URL: slack.url,
  PORT: String(port),
});
/** A lifeboat app on `port`, its store as `store:` says (beside the runbooks by default). */
async function startOurs(port: number, store = '') {
  const config = parseConfig(`${store}${services}`, path.join(dir, 'lifeboat.yml'), env(port));
  const engine = await createEngine(config);
  const app = createSlackApp({ config, engine });
  await app.app.start(port);
  return { engine, app, url: `http://127.0.0.1:${port}` };
}
const ours = await startOurs(ourPort);
const server = WITH_POSTGRES ? await startThrowawayServer() : null;
const onPostgres = server
  ? await startOurs(pgPort, `store: { url: "${server.server.url}", schema: bench }\n`)
  : null;
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
  const bareUrl = `http://127.0.0.1:${barePort}`;
  const sides = [
    { label: 'lifeboat, SQLite store', url: ours.url },
    ...(onPostgres ? [{ label: 'lifeboat, PostgreSQL store', url: onPostgres.url }] : []),
    { label: 'bare Bolt, empty ack', url: bareUrl },
  ];
  console.log(
    `/dr ack latency, ${CONCURRENT} concurrent requests x ${ROUNDS} rounds (HTTP receiver, signed requests)`,
  );
  for (const text of ['help', 'runbook list', 'status']) {
    for (const side of sides) await burst(side.url, responseUrl, -1, text); // warm-up
    const times = await measureAll(
      sides.map((side) => side.url),
      responseUrl,
      text,
    );
    const bareTimes = times.at(-1)!;
    const [b50, b99] = [percentile(bareTimes, 50), percentile(bareTimes, 99)];
    console.log(`  /dr ${text}`);
    sides.forEach((side, i) => {
      const [p50, p99] = [percentile(times[i]!, 50), percentile(times[i]!, 99)];
      const ratio =
        i === sides.length - 1
          ? ''
          : `   (${(p50 / Math.max(1, b50)).toFixed(2)}x / ${(p99 / Math.max(1, b99)).toFixed(2)}x bare)`;
      console.log(`    ${side.label.padEnd(28)} p50 ${p50} ms   p99 ${p99} ms${ratio}`);
    });
  }
} finally {
  for (const app of [ours, onPostgres]) {
    if (!app) continue;
    await app.app.publisher.flushed();
    await app.app.app.stop();
    await app.engine.store.close();
  }
  await server?.stop();
  await bare.stop();
  await slack.close();
  rmSync(dir, { recursive: true, force: true });
}
