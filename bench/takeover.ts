// Takeover after kill -9: an instance walking a run (its action running) is killed; a second
// instance, live on the same store and looking for orphaned runs every ADOPT_EVERY_MS as a
// serving instance does, takes the run up and finishes it. Figures: kill -> the second instance
// runs the action again, and kill -> the run finished, against the goal of the issue (lease TTL +
// 5 s). On one host a dead walker is seen at once (its pid is gone), so the sweep interval bounds
// it; a walker on another host is taken over once its lease (STALE_AFTER_MS) has lapsed, a case
// the fencing tests cover and this bench does not time. With --postgres, both instances share a
// PostgreSQL store (a throwaway local server) instead of the SQLite file.
//
//   npx tsx bench/takeover.ts [rounds] [--postgres]

import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig } from '../src/config.js';
import { createEngine } from '../src/engine/create.js';
import { ADOPT_EVERY_MS, STALE_AFTER_MS } from '../src/engine/executor-lease.js';
import { startThrowawayServer } from '../src/providers/postgres/servers.js';
import { formatSummary } from './stats.js';

const ROUNDS = Number(process.argv.slice(2).find((arg) => !arg.startsWith('--')) ?? 5);
const storeServer = process.argv.includes('--postgres') ? await startThrowawayServer() : null;
const runbook = `---
title: Hold
kind: drill
---
## Hold (10 minutes)
1. Hold \`action: wait 3s\`
2. Tell the channel \`action: notify\`
`;

async function round(dir: string, index: number): Promise<{ claimed: number; finished: number }> {
  mkdirSync(path.join(dir, 'runbooks'), { recursive: true });
  writeFileSync(path.join(dir, 'runbooks', 'hold.md'), runbook);
  const configFile = path.join(dir, 'lifeboat.yml');
  const store = storeServer
    ? `store: { url: "${storeServer.server.url}", schema: takeover_${index} }\n`
    : '';
  writeFileSync(configFile, `${store}approvals: { approvers: [U0ALICE, U0BOB] }\n`);
  const survivor = await createEngine(loadConfig({ LIFEBOAT_CONFIG: configFile }));
  let claimed = 0;
  let finished = 0;
  survivor.on((event) => {
    const ms = Number(process.hrtime.bigint()) / 1e6;
    if (event.type === 'action.started' && event.stepIndex === 0 && !claimed) claimed = ms;
    if (event.type === 'run.finished') finished = ms;
  });
  // A serving instance sweeps on its own timer: start it at a random phase of the interval.
  await new Promise((resolve) => setTimeout(resolve, Math.random() * ADOPT_EVERY_MS));
  const sweep = setInterval(() => void survivor.adoptOrphans(), ADOPT_EVERY_MS);
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', path.join(import.meta.dirname, 'takeover-walker.ts'), configFile],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  await new Promise<void>((resolve) =>
    child.stdout.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('WALKING')) resolve();
    }),
  );
  const exited = new Promise((resolve) => child.on('exit', resolve));
  const killedAt = Number(process.hrtime.bigint()) / 1e6;
  child.kill('SIGKILL');
  await exited;
  while (!finished) await new Promise((resolve) => setTimeout(resolve, 10));
  clearInterval(sweep);
  await survivor.idle();
  await survivor.store.close();
  return { claimed: claimed - killedAt, finished: finished - killedAt };
}

const root = mkdtempSync(path.join(tmpdir(), 'lifeboat-bench-takeover-'));
const claimedMs: number[] = [];
const finishedMs: number[] = [];
try {
  for (let i = 0; i < ROUNDS; i++) {
    const { claimed, finished } = await round(path.join(root, `r${i}`), i);
    claimedMs.push(claimed);
    finishedMs.push(finished);
  }
} finally {
  await storeServer?.stop();
  rmSync(root, { recursive: true, force: true });
}
console.log(
  `takeover after kill -9 of the walking instance, ${storeServer ? 'PostgreSQL' : 'SQLite'} store, ${ROUNDS} rounds (sweep every ${ADOPT_EVERY_MS / 1000} s, lease ${STALE_AFTER_MS / 1000} s)`,
);
console.log(formatSummary('kill -> the survivor runs the interrupted action again', claimedMs));
console.log(
  formatSummary('kill -> the run finished (its 3 s wait resumed, not restarted)', finishedMs),
);
const goal = STALE_AFTER_MS + 5000;
console.log(
  `  goal: lease TTL + 5 s = ${goal / 1000} s; worst here ${(Math.max(...claimedMs) / 1000).toFixed(1)} s = ${(Math.max(...claimedMs) / goal).toFixed(3)}x of the goal, ${(Math.max(...claimedMs) / ADOPT_EVERY_MS).toFixed(2)}x of one sweep interval`,
);
process.exit(0);
