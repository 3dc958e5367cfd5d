// Start-up of the break-glass CLI as a user runs it (the compiled dist/), against `node -e 0` in
// the same run: each side spawned alternately, after a warm-up round; min / median / max.
//
//   npm run build && npx tsx bench/cli-startup.ts [rounds]

import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { formatRatio, formatSummary } from './stats.js';

const ROUNDS = Number(process.argv[2] ?? 9);
const root = path.resolve(import.meta.dirname, '..');
const cli = path.join(root, 'dist/src/cli.js');
if (!existsSync(cli)) throw new Error('no dist/: run npm run build first');

const commands: [string, string[]][] = [
  ['lifeboat --version', ['--version']],
  ['lifeboat runbooks list', ['runbooks', 'list', '--dir', path.join(root, 'runbooks')]],
  ['lifeboat runbooks check', ['runbooks', 'check', '--dir', path.join(root, 'runbooks')]],
];

function timed(args: string[]): number {
  const start = process.hrtime.bigint();
  const result = spawnSync(process.execPath, args, { cwd: root, stdio: 'ignore' });
  if (result.status !== 0) throw new Error(`${args.join(' ')} exited ${result.status}`);
  return Number(process.hrtime.bigint() - start) / 1e6;
}

const bare = ['-e', '0'];
console.log(`CLI start-up to exit, ${ROUNDS} rounds each, against node -e 0 in the same run`);
for (const [label, args] of commands) {
  timed([cli, ...args]);
  timed(bare);
  const ours: number[] = [];
  const baseline: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    ours.push(timed([cli, ...args]));
    baseline.push(timed(bare));
  }
  console.log(formatSummary(label, ours));
  console.log(formatSummary('node -e 0', baseline));
  console.log(formatRatio(ours, baseline));
}
