// `/dr` ack latency under a mixed load. Every app runs in a process of its own (bench/ack-app.ts):
// lifeboat served as `npm start` serves it, and a bare Bolt app whose listeners only ack; the
// Slack Web API stand-in in a third. This process only generates the load: 50 concurrent clients,
// each sending its requests one after another, signed as Slack signs them — status, history,
// runbook list and show, help, the failover confirmation (a modal opened after the ack) and
// button clicks (an approval that does not exist: refused in the thread after the ack). Every
// side gets the same requests in the same order; the sides take turns round by round. Prints
// p50/p99 per command and overall, and the ratio to the bare app (goal: p99 <= 1.2x and
// <= 300 ms). With --postgres, lifeboat on a PostgreSQL store (a throwaway local server) too.
//
//   npx tsx bench/slack-ack.ts [rounds] [--postgres]

import { spawn, type ChildProcess } from 'node:child_process';
import { cpus } from 'node:os';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startThrowawayServer } from '../src/providers/postgres/servers.js';
import { slackSignature } from '../src/local/console/slack-requests.js';
import { formatRatio, formatSummary } from './stats.js';
import { buttonClick, slashCommand } from '../test/support/slack.js';
import { nodeTsArgs } from '../test/support/node-ts.js';

const ROUNDS = Number(process.argv.slice(2).find((arg) => !arg.startsWith('--')) ?? 10);
const WITH_POSTGRES = process.argv.includes('--postgres');
const CLIENTS = Number(process.env.ACK_CLIENTS ?? 50);
const PER_CLIENT = 4;
const SECRET = 'bench-secret';

/** What a team sends, weighted roughly as a busy channel sends it. */
const MIX: { label: string; body: (responseUrl: string, id: string) => string }[] = [
  { label: 'status', body: (r, id) => slashCommand('status', 'U0ALICE', r, id) },
  { label: 'status', body: (r, id) => slashCommand('status payments-db', 'U0ALICE', r, id) },
  { label: 'history', body: (r, id) => slashCommand('history', 'U0ALICE', r, id) },
  { label: 'runbook list', body: (r, id) => slashCommand('runbook list', 'U0ALICE', r, id) },
  { label: 'runbook show', body: (r, id) => slashCommand('runbook show failover', 'U0BOB', r, id) },
  { label: 'help', body: (r, id) => slashCommand('help', 'U0BOB', r, id) },
  {
    label: 'failover (modal)',
    body: (r, id) => slashCommand('failover payments-db', 'U0ALICE', r, id),
  },
  {
    label: 'button click',
    body: (r) => buttonClick('approval-approve', 'no-such-approval', 'U0BOB', r),
  },
];

function spawnPrintingUrl(
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit', 'ipc'], env });
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`${args.at(-1)} exited with ${code}`)));
    child.stdout!.once('data', (chunk: Buffer) => resolve({ url: chunk.toString().trim(), child }));
  });
}

async function send(url: string, body: string): Promise<number> {
  const started = performance.now();
  const response = await fetch(`${url}/slack/events`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      ...slackSignature(body, SECRET),
    },
    body,
  });
  await response.arrayBuffer();
  if (response.status !== 200) throw new Error(`HTTP ${response.status} from ${url}`);
  return performance.now() - started;
}

/** The CPU time (user + system) a child has used so far, in ms: it answers over IPC. */
function cpuOf(child: ChildProcess): Promise<number> {
  return new Promise((resolve) => {
    child.once('message', (usage: NodeJS.CpuUsage) => resolve((usage.user + usage.system) / 1000));
    child.send('cpu');
  });
}

/** One round against one app: 50 clients, each sending its share of the round's requests in turn. */
async function round(url: string, responseUrl: string, r: number): Promise<Map<string, number[]>> {
  const times = new Map<string, number[]>();
  await Promise.all(
    Array.from({ length: CLIENTS }, async (_, client) => {
      for (let n = 0; n < PER_CLIENT; n++) {
        const kind = MIX[(client * PER_CLIENT + n + r + MIX.length) % MIX.length]!;
        const ms = await send(
          url,
          kind.body(responseUrl, `t-${r}-${client}-${n}-${Math.random()}`),
        );
        times.set(kind.label, [...(times.get(kind.label) ?? []), ms]);
      }
    }),
  );
  return times;
}

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
};

const dir = mkdtempSync(path.join(tmpdir(), 'lifeboat-bench-ack-'));
const children: ChildProcess[] = [];
const server = WITH_POSTGRES ? await startThrowawayServer() : null;
try {
  const standIn = await spawnPrintingUrl(nodeTsArgs('bench/stand-in.ts'), process.env);
  children.push(standIn.child);
  const env = {
    ...process.env,
    SLACK_BOT_TOKEN: 'xoxb-bench',
    SLACK_SIGNING_SECRET: SECRET,
    SLACK_API_URL: standIn.url,
  };
  /** A lifeboat deployment in its own folder: the shipped runbooks, one service, `store` as given. */
  const deployment = (name: string, store: string) => {
    const home = path.join(dir, name);
    mkdirSync(home);
    cpSync(path.join(import.meta.dirname, '..', 'runbooks'), path.join(home, 'runbooks'), {
      recursive: true,
    });
    writeFileSync(
      path.join(home, 'lifeboat.yml'),
      `${store}slack: { channel: C0DROPS }\nservices:\n  payments-db:\n    rto: 15m\n    rpo: 1m\n    database: { provider: postgres, primary: "postgres://127.0.0.1:1/p", replica: "postgres://127.0.0.1:2/p" }\n`,
    );
    return path.join(home, 'lifeboat.yml');
  };
  const sides = [{ label: 'lifeboat, SQLite store', config: deployment('sqlite', '') }];
  if (server)
    sides.push({
      label: 'lifeboat, PostgreSQL store',
      config: deployment('postgres', `store: { url: "${server.server.url}", schema: bench }\n`),
    });
  const apps = [];
  for (const side of sides) {
    const app = await spawnPrintingUrl(
      nodeTsArgs('bench/ack-app.ts', 'lifeboat', side.config),
      env,
    );
    children.push(app.child);
    apps.push({ label: side.label, url: app.url, child: app.child });
  }
  const bare = await spawnPrintingUrl(nodeTsArgs('bench/ack-app.ts', 'bare'), env);
  children.push(bare.child);
  apps.push({ label: 'bare Bolt, acks only', url: bare.url, child: bare.child });

  const responseUrl = `${standIn.url}response/bench`;
  console.log(
    `/dr ack latency: ${CLIENTS} concurrent clients x ${PER_CLIENT} mixed requests x ${ROUNDS} rounds per app; each app, the stand-in and this load generator in processes of their own (${cpus().length} cores, Node ${process.version})`,
  );
  for (const app of apps) await round(app.url, responseUrl, -1); // warm-up
  const times = apps.map(() => new Map<string, number[]>());
  const cpu = apps.map((): number[] => []);
  /** Each round's p99 over all its requests: how much the overall p99 owes to one round. */
  const roundP99 = apps.map((): number[] => []);
  for (let r = 0; r < ROUNDS; r++) {
    for (let turn = 0; turn < apps.length; turn++) {
      const which = (r + turn) % apps.length;
      const cpuBefore = await cpuOf(apps[which]!.child);
      const measured = await round(apps[which]!.url, responseUrl, r);
      for (const [label, list] of measured)
        times[which]!.set(label, [...(times[which]!.get(label) ?? []), ...list]);
      roundP99[which]!.push(percentile([...measured.values()].flat(), 99));
      // Let the app finish what it does after its acks (probes, answers in the thread) before
      // the next app is measured: its work must not be counted against another process.
      await new Promise((resolve) => setTimeout(resolve, 300));
      // Its CPU for the round's requests: before the ack and after it (the pause included).
      cpu[which]!.push((await cpuOf(apps[which]!.child)) - cpuBefore);
    }
  }
  const labels = [...new Set(MIX.map((kind) => kind.label)), 'all'];
  const all = (map: Map<string, number[]>) => [...map.values()].flat();
  const bareTimes = times.at(-1)!;
  for (const label of labels) {
    console.log(`  /dr ${label}`);
    apps.forEach((app, i) => {
      const list = label === 'all' ? all(times[i]!) : (times[i]!.get(label) ?? []);
      const baseline = label === 'all' ? all(bareTimes) : (bareTimes.get(label) ?? []);
      const [p50, p99] = [percentile(list, 50), percentile(list, 99)];
      const [b50, b99] = [percentile(baseline, 50), percentile(baseline, 99)];
      const ratio =
        i === apps.length - 1
          ? ''
          : `   (${(p50 / b50).toFixed(2)}x / ${(p99 / b99).toFixed(2)}x bare)`;
      console.log(
        `    ${app.label.padEnd(28)} p50 ${p50.toFixed(1)} ms   p99 ${p99.toFixed(1)} ms${ratio}`,
      );
    });
  }
  console.log('  each round, all commands:');
  apps.forEach((app, i) => {
    console.log(formatSummary(`${app.label}: p99`, roundP99[i]!));
    if (i < apps.length - 1) console.log(formatRatio(roundP99[i]!, roundP99.at(-1)!));
  });
  apps.forEach((app, i) => {
    const perRequest = cpu[i]!.map((ms) => ms / (CLIENTS * PER_CLIENT));
    console.log(
      formatSummary(`${app.label}: CPU per request, the work after the ack included`, perRequest),
    );
  });
} finally {
  for (const child of children) child.kill();
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
}
