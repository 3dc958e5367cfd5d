// Failover figures on real PostgreSQL pairs: from the approval click to "verified writable"
// through the engine (RPO gate, promotion, write check, every transition committed and audited),
// against a bare `pg_promote` + one write on an identical pair, in the same run, and against the
// same promoted without waiting and polled every 5 ms as lifeboat does (bench/failover-kit.ts). With --postgres,
// also through an engine whose store is on PostgreSQL (a throwaway local server): SQLite against
// PostgreSQL, each on its own pair, in the same rounds.
//
//   npx tsx bench/failover.ts [rounds] [--postgres]

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseConfig } from '../src/config.js';
import { createEngine } from '../src/engine/create.js';
import { startThrowawayServer, type PostgresPair } from '../src/providers/postgres/servers.js';
import { barePromoteAndWrite, FAILOVER_RUNBOOK, pairWithPrimaryKilled } from './failover-kit.js';

const ROUNDS = Number(process.argv.slice(2).find((arg) => !arg.startsWith('--')) ?? 5);
const WITH_POSTGRES = process.argv.includes('--postgres');

async function throughEngine(pair: PostgresPair, dir: string, store = ''): Promise<number> {
  mkdirSync(path.join(dir, 'runbooks'), { recursive: true });
  writeFileSync(path.join(dir, 'runbooks', 'failover.md'), FAILOVER_RUNBOOK);
  const yaml = `${store}approvals: { approvers: [U0ALICE, U0BOB] }
services:
  payments-db:
    rto: 15m
    rpo: 1m
    database: { provider: postgres, primary: "${pair.primary.url}", replica: "${pair.standby.url}" }
`;
  const config = parseConfig(yaml, path.join(dir, 'lifeboat.yml'));
  const engine = await createEngine(config);
  const { runId } = await engine.startRun({
    key: 'bench',
    actor: { user: 'U0ALICE' },
    runbook: 'failover',
  });
  await engine.idle();
  const approval = (await engine.getRun(runId)).steps[0]!.approvals[0]!;
  const start = process.hrtime.bigint();
  await engine.decideApproval({
    key: 'approve',
    actor: { user: 'U0BOB' },
    approvalId: approval.id,
    decision: 'approve',
  });
  await engine.idle();
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if ((await engine.getRun(runId)).run.status !== 'succeeded')
    throw new Error(`run did not succeed: ${JSON.stringify((await engine.getRun(runId)).current)}`);
  await engine.store.close();
  return ms;
}

const median = (values: number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;

const root = mkdtempSync(path.join(tmpdir(), 'lifeboat-bench-failover-'));
const storeServer = WITH_POSTGRES ? await startThrowawayServer() : null;
const engineMs: number[] = [];
const postgresMs: number[] = [];
const bareMs: number[] = [];
const polledMs: number[] = [];
try {
  for (let round = 0; round < ROUNDS; round++) {
    const pairs = await Promise.all([
      pairWithPrimaryKilled(),
      pairWithPrimaryKilled(),
      pairWithPrimaryKilled(),
      ...(storeServer ? [pairWithPrimaryKilled()] : []),
    ]);
    try {
      const sides = [
        async () => engineMs.push(await throughEngine(pairs[0], path.join(root, `r${round}`))),
        async () => bareMs.push(await barePromoteAndWrite(pairs[1].standby.url, 'pg_promote')),
        async () => polledMs.push(await barePromoteAndWrite(pairs[2].standby.url, 'polled')),
        ...(storeServer
          ? [
              async () =>
                postgresMs.push(
                  await throughEngine(
                    pairs[3]!,
                    path.join(root, `p${round}`),
                    `store: { url: "${storeServer.server.url}", schema: failover_${round} }\n`,
                  ),
                ),
            ]
          : []),
      ];
      // Rotate which goes first so none always meets a warmer machine.
      for (let turn = 0; turn < sides.length; turn++) await sides[(round + turn) % sides.length]!();
    } finally {
      await Promise.all(pairs.map((pair) => pair.stop()));
    }
  }
} finally {
  await storeServer?.stop();
  rmSync(root, { recursive: true, force: true });
}
const ours = median(engineMs);
const baseline = median(bareMs);
const list = (values: number[]) => values.map((v) => v.toFixed(0)).join(', ');
console.log(`failover on a real PostgreSQL pair (primary killed), median of ${ROUNDS} rounds`);
console.log(
  `  lifeboat engine, SQLite store: approval -> promoted -> verified writable   ${ours.toFixed(0)} ms  (${list(engineMs)})`,
);
if (postgresMs.length)
  console.log(
    `  lifeboat engine, PostgreSQL store                                         ${median(postgresMs).toFixed(0)} ms  (${list(postgresMs)})`,
  );
console.log(
  `  bare pg_promote + one write                                                ${baseline.toFixed(0)} ms  (${list(bareMs)})`,
);
console.log(
  `  bare, promoted without waiting and pg_is_in_recovery() asked every 5 ms      ${median(polledMs).toFixed(0)} ms  (${list(polledMs)})`,
);
console.log(
  `  ratio ${(ours / baseline).toFixed(2)}x, added by lifeboat ${(ours - baseline).toFixed(0)} ms; against the polled bare ${(ours / median(polledMs)).toFixed(2)}x${postgresMs.length ? `; PostgreSQL store against SQLite ${(median(postgresMs) / ours).toFixed(2)}x` : ''}`,
);
