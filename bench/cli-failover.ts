// A PostgreSQL failover through the break-glass CLI, as a user runs it when Slack is down, on real
// pairs (primary killed): `lifeboat run start failover` by one person, then `lifeboat run approve
// RUN --token T` by the second, whose process promotes the standby and verifies it writable. Two
// figures: from the second person's approval to "verified writable" (the approving process, spawn
// to exit), and the whole failover (run start too). Baselines, on an identical pair in the same
// round: the bare `pg_promote` + one write in this process (the baseline), the same in a
// fresh `node` process (what any CLI pays to start and load a PostgreSQL client), and in this
// process promoted without waiting and polled as lifeboat polls (bench/failover-kit.ts). The store
// exists before the run starts, as a team's does.
//
//   npm run build && npx tsx bench/cli-failover.ts [rounds]

import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem, userInfo } from 'node:os';
import path from 'node:path';
import { generateApproverKey, signChallenge } from '../src/cli/approval-token.js';
import type { PostgresPair } from '../src/providers/postgres/servers.js';
import { barePromoteAndWrite, FAILOVER_RUNBOOK, pairWithPrimaryKilled } from './failover-kit.js';
import { formatRatio, formatSummary } from './stats.js';

const ROUNDS = Number(process.argv[2] ?? 7);
const root = path.resolve(import.meta.dirname, '..');
const cliJs = path.join(root, 'dist', 'cli', 'lifeboat.js');
const BARE = `
const pg = require(${JSON.stringify(createRequire(import.meta.url).resolve('pg'))});
const client = new pg.Client({ connectionString: process.argv[1] });
(async () => {
  await client.connect();
  await client.query('SELECT pg_promote(true, 60)');
  await client.query('CREATE TABLE IF NOT EXISTS bench_write (id serial PRIMARY KEY)');
  await client.query('INSERT INTO bench_write DEFAULT VALUES');
  await client.end();
})();
`;

function run(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { env });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0 ? resolve(out) : reject(new Error(`${args.join(' ')} exited ${code}:\n${out}`)),
    );
  });
}

async function bareProcess(pair: PostgresPair): Promise<number> {
  const start = performance.now();
  await run(['-e', BARE, pair.standby.url]);
  return performance.now() - start;
}

async function throughCli(
  pair: PostgresPair,
  dir: string,
): Promise<{ approveMs: number; wholeMs: number }> {
  const bob = generateApproverKey('U0BOB');
  mkdirSync(path.join(dir, 'runbooks'), { recursive: true });
  writeFileSync(path.join(dir, 'runbooks', 'failover.md'), FAILOVER_RUNBOOK);
  writeFileSync(
    path.join(dir, 'lifeboat.yml'),
    `cli:
  users: { ${userInfo().username}: U0ALICE }
approvals:
  approvers: [U0ALICE, U0BOB]
  keys: { U0BOB: "${bob.publicKey}" }
services:
  payments-db:
    rto: 15m
    rpo: 1m
    database: { provider: postgres, primary: "${pair.primary.url}", replica: "${pair.standby.url}" }
`,
  );
  const env = { ...process.env, LIFEBOAT_CONFIG: path.join(dir, 'lifeboat.yml') };
  // A team's store exists and its CLI has run before: the store made (its migrations) and the
  // config and runbook caches filled by commands that read them, not timed. (Without the runbook
  // cache, `run start` also loads the markdown parser and parses the runbook: ~45 ms more.)
  await run([cliJs, 'history'], env);
  await run([cliJs, 'runbooks', 'list'], env);
  const start = performance.now();
  let out = await run([cliJs, 'run', 'start', 'failover'], env);
  const runId = /run (r-[0-9a-f]+)/.exec(out)?.[1];
  if (!runId) throw new Error(`no run started: ${out}`);
  let approveMs = 0;
  for (let approvals = 0; ; approvals++) {
    const challenge = /lifeboat approve-token (\S+) --key/.exec(out)?.[1];
    if (!challenge) break;
    if (approvals > 3) throw new Error(`too many approvals: ${out}`);
    // Signing is the second person's, on their own machine: not counted.
    const token = signChallenge(challenge, bob.keyFile);
    const from = performance.now();
    out = await run([cliJs, 'run', 'approve', runId, '--token', token], env);
    approveMs += performance.now() - from;
  }
  const wholeMs = performance.now() - start;
  if (!/\[x\] 2\. Write/.test(out)) throw new Error(`the failover did not finish:\n${out}`);
  return { approveMs, wholeMs };
}

const work = mkdtempSync(path.join(tmpdir(), 'lifeboat-bench-cli-failover-'));
const approve: number[] = [];
const whole: number[] = [];
const bare: number[] = [];
const bareProc: number[] = [];
const polled: number[] = [];
try {
  // A warm-up round (the CLI's caches filled, the page cache warm), then the rounds counted.
  for (let round = -1; round < ROUNDS; round++) {
    const pairs = await Promise.all([
      pairWithPrimaryKilled(),
      pairWithPrimaryKilled(),
      pairWithPrimaryKilled(),
      pairWithPrimaryKilled(),
    ]);
    try {
      const sides = [
        async () => {
          const figures = await throughCli(pairs[0], path.join(work, `r${round}`));
          if (round < 0) return;
          approve.push(figures.approveMs);
          whole.push(figures.wholeMs);
        },
        async () => {
          const ms = await barePromoteAndWrite(pairs[1].standby.url, 'pg_promote');
          if (round >= 0) bare.push(ms);
        },
        async () => {
          const ms = await barePromoteAndWrite(pairs[3].standby.url, 'polled');
          if (round >= 0) polled.push(ms);
        },
        async () => {
          const ms = await bareProcess(pairs[2]);
          if (round >= 0) bareProc.push(ms);
        },
      ];
      // Rotate which goes first so none always meets a warmer machine.
      for (let turn = 0; turn < sides.length; turn++)
        await sides[(Math.max(round, 0) + turn) % sides.length]!();
    } finally {
      await Promise.all(pairs.map((pair) => pair.stop()));
    }
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}

console.log(
  `PostgreSQL failover through the break-glass CLI, primary killed (${ROUNDS} rounds; ${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version})`,
);
console.log(formatSummary("second person's `run approve` -> verified writable", approve));
console.log(formatSummary('whole: `run start` + `run approve`', whole));
console.log(formatSummary('bare pg_promote + one write, in-process', bare));
console.log(formatSummary('bare pg_promote + one write, a fresh node process', bareProc));
console.log(formatSummary('bare, promoted without waiting, polled every 5 ms', polled));
console.log(' the approval against bare in-process (the goal: <= 1.5x):');
console.log(formatRatio(approve, bare));
console.log(' the whole failover against bare in-process:');
console.log(formatRatio(whole, bare));
console.log(' the approval against bare in a fresh process:');
console.log(formatRatio(approve, bareProc));
console.log(" the approval against the polled bare (lifeboat's own cost, process start included):");
console.log(formatRatio(approve, polled));
