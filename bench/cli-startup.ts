// Start-up of the break-glass CLI as a user runs it (the bin, dist/cli/lifeboat.js: the bundle
// `npm run build` makes), against `node -e 0` in the same run: each side spawned alternately,
// after a warm-up round; min / median / max. Also, for comparison: `run status` from the
// unbundled build (dist/src/cli.js), and from the bundle with empty caches — no compiled code, no
// validated config (the first command after an install or an upgrade).
//
//   npm run build && npx tsx bench/cli-startup.ts [rounds]

import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { formatRatio, formatSummary } from './stats.js';

const ROUNDS = Number(process.argv[2] ?? 9);
const root = path.resolve(import.meta.dirname, '..');
const cli = path.join(root, 'dist/cli/lifeboat.js');
const unbundled = path.join(root, 'dist/src/cli.js');
if (!existsSync(cli) || !existsSync(unbundled))
  throw new Error('no dist/: run npm run build first');

// A break-glass host's config: one service on PostgreSQL (no AWS), a store with nothing in flight.
const dir = mkdtempSync(path.join(tmpdir(), 'lifeboat-bench-cli-'));
const config = path.join(dir, 'lifeboat.yml');
writeFileSync(
  config,
  `approvals: { approvers: [U0ALICE, U0BOB] }
cli: { users: { ${process.env.USER ?? 'root'}: U0ALICE } }
services:
  payments-db:
    rto: 15m
    rpo: 1m
    database: { provider: postgres, primary: "postgres://postgres@127.0.0.1:1/postgres", replica: "postgres://postgres@127.0.0.1:2/postgres" }
`,
);
const cacheHome = path.join(dir, 'cache');
const coldCache = () => path.join(dir, `cold-${Math.random().toString(36).slice(2)}`);
// [label, argv, cache folder (default: the warm one), exit status expected (default 0)]
const commands: [string, string[], (() => string)?, number?][] = [
  ['lifeboat --version', [cli, '--version']],
  ['lifeboat runbooks list', [cli, 'runbooks', 'list', '--dir', path.join(root, 'runbooks')]],
  ['lifeboat runbooks check', [cli, 'runbooks', 'check', '--dir', path.join(root, 'runbooks')]],
  [
    'lifeboat runbooks show dr-test',
    [cli, 'runbooks', 'show', 'dr-test', '--dir', path.join(root, 'runbooks')],
  ],
  ['lifeboat run status (a PostgreSQL service)', [cli, 'run', 'status']],
  ['lifeboat history', [cli, 'history']],
  // Probes both databases (they refuse at once: what is timed is lifeboat's own work); exit 1, as
  // a service with no writer must.
  ['lifeboat status (databases refusing)', [cli, 'status'], undefined, 1],
  ['run status, empty caches', [cli, 'run', 'status'], coldCache],
  ['run status, unbundled (dist/src/cli.js)', [unbundled, 'run', 'status']],
];

function timed(args: string[], cache = cacheHome, exit = 0): number {
  const start = process.hrtime.bigint();
  const result = spawnSync(process.execPath, args, {
    cwd: root,
    stdio: 'ignore',
    env: { ...process.env, LIFEBOAT_CONFIG: config, XDG_CACHE_HOME: cache, NODE_COMPILE_CACHE: '' },
  });
  if (result.status !== exit) throw new Error(`${args.join(' ')} exited ${result.status}`);
  return Number(process.hrtime.bigint() - start) / 1e6;
}

const bare = ['-e', '0'];
console.log(`CLI start-up to exit, ${ROUNDS} rounds each, against node -e 0 in the same run`);
for (const [label, args, cache, exit] of commands) {
  timed(args, cache?.(), exit);
  timed(bare);
  const ours: number[] = [];
  const baseline: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    ours.push(timed(args, cache?.(), exit));
    baseline.push(timed(bare));
  }
  console.log(formatSummary(label, ours));
  console.log(formatSummary('node -e 0', baseline));
  console.log(formatRatio(ours, baseline));
}
rmSync(dir, { recursive: true, force: true });
