// kill -9 at every step boundary of a real failover: the restarted bot resumes where it stopped,
// every action runs exactly once, and the audit chain stays intact.

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { startPostgresPair, startThrowawayServer } from '../../src/providers/postgres/servers.js';
import { openStoreAt } from '../../src/store/open.js';
import { verifyAuditLog } from '../../src/store/audit.js';
import { openStore } from '../../src/store/db.js';
import { listRuns } from '../../src/store/runs.js';
import { postgresConfig } from '../support/engine.js';
import { nodeTsArgs } from '../support/node-ts.js';
import { sql } from '../support/pg-pair.js';
import { makeTempDir } from '../support/tmp.js';

const failover = `---
title: Failover
kind: failover
service: payments-db
---
## Assess (10 minutes)
1. Measure lag \`action: db.check-lag\`
2. Confirm the primary is down

## Fail over (15 minutes)
1. Promote \`action: db.promote\`
2. Write \`action: db.verify-writable\`
3. Tell the channel \`action: notify\`
`;
const STEPS = 5;
const ACTION_STEPS = [0, 2, 3, 4];

function launch(
  config: string,
  execLog: string,
  killAt?: number | string,
): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  const args = nodeTsArgs(
    'test/support/crash-child.ts',
    config,
    execLog,
    ...(killAt === undefined ? [] : [String(killAt)]),
  );
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
}

async function until(check: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

// The store on SQLite at every boundary; on PostgreSQL (a server of its own, one schema per test)
// at the boundaries around the promotion.
const CASES: { boundary: number; store: 'sqlite' | 'postgres' }[] = [
  ...Array.from({ length: STEPS - 1 }, (_, boundary) => ({ boundary, store: 'sqlite' as const })),
  { boundary: 1, store: 'postgres' },
  { boundary: 2, store: 'postgres' },
];

describe('crash at every step boundary', () => {
  let storeServer: Awaited<ReturnType<typeof startThrowawayServer>> | null = null;
  let schemas = 0;
  afterAll(async () => {
    await storeServer?.stop();
  });
  /** The `store:` line for a test, and how to open that store from here afterwards. */
  const storeFor = async (kind: 'sqlite' | 'postgres') => {
    if (kind === 'sqlite') return 'store: ./lifeboat.db\n';
    storeServer ??= await startThrowawayServer();
    return `store: { url: "${storeServer.server.url}", schema: crash_${process.pid}_${++schemas} }\n`;
  };
  const openTestStore = (configFile: string) =>
    openStoreAt(loadConfig({ LIFEBOAT_CONFIG: configFile }).store);

  for (const { boundary, store: storeKind } of CASES) {
    it(`resumes after kill -9 right after step ${boundary + 1} and runs each action exactly once (${storeKind} store)`, async () => {
      const pair = await startPostgresPair();
      try {
        await pair.killPrimary();
        const dir = makeTempDir();
        mkdirSync(path.join(dir, 'runbooks'));
        writeFileSync(path.join(dir, 'runbooks', 'failover.md'), failover);
        const config = path.join(dir, 'lifeboat.yml');
        writeFileSync(
          config,
          (await storeFor(storeKind)) + postgresConfig(pair.primary.url, pair.standby.url),
        );
        const execLog = path.join(dir, 'executions.log');
        writeFileSync(execLog, '');

        const first = launch(config, execLog, boundary);
        await until(() => first.output().includes('BOUNDARY'), `step ${boundary + 1} to finish`);
        first.child.kill('SIGKILL');
        expect(await first.exited).toBeNull();

        const second = launch(config, execLog);
        expect(await second.exited).toBe(0);
        expect(second.output()).toContain('FINISHED succeeded');

        const executions = readFileSync(execLog, 'utf8')
          .trim()
          .split('\n')
          .map((line) => Number(line.split(' ')[0]));
        expect(executions.sort()).toEqual(ACTION_STEPS);
        const store = await openTestStore(config);
        expect(await listRuns(store)).toHaveLength(1);
        expect(await verifyAuditLog(store)).toMatchObject({ ok: true });
        await store.close();
        expect(await sql(pair.standby.url, 'SELECT pg_is_in_recovery() AS r')).toEqual([
          { r: false },
        ]);
      } finally {
        await pair.stop();
      }
    });
  }

  it('re-runs an action interrupted before it finished, and the idempotent promotion still happens once', async () => {
    const pair = await startPostgresPair();
    try {
      await pair.killPrimary();
      const dir = makeTempDir();
      mkdirSync(path.join(dir, 'runbooks'));
      writeFileSync(path.join(dir, 'runbooks', 'failover.md'), failover);
      const config = path.join(dir, 'lifeboat.yml');
      writeFileSync(config, postgresConfig(pair.primary.url, pair.standby.url));
      const execLog = path.join(dir, 'executions.log');
      writeFileSync(execLog, '');

      const first = launch(config, execLog, 'a2'); // frozen with "promote started" committed
      await until(() => first.output().includes('BOUNDARY'), 'the promotion to start');
      first.child.kill('SIGKILL');
      await first.exited;
      const second = launch(config, execLog);
      expect(await second.exited).toBe(0);
      expect(second.output()).toContain('FINISHED succeeded');

      const executions = readFileSync(execLog, 'utf8')
        .trim()
        .split('\n')
        .map((line) => Number(line.split(' ')[0]));
      expect(executions.sort()).toEqual([0, 2, 3, 4]); // the interrupted run() never got to log
      expect(await sql(pair.standby.url, 'SELECT pg_is_in_recovery() AS r')).toEqual([
        { r: false },
      ]);
      const store = openStore(path.join(dir, 'lifeboat.db'));
      const attempts = store.db
        .prepare(
          "SELECT count(*) AS n FROM step_events WHERE event = 'action.started' AND step_index = 2",
        )
        .get();
      expect(attempts).toEqual({ n: 2 });
      expect(await verifyAuditLog(store)).toMatchObject({ ok: true });
      await store.close();
    } finally {
      await pair.stop();
    }
  });
});

describe('crash around the fence, with the old primary alive', () => {
  const fenced = `---
title: Failover
kind: failover
service: payments-db
---
## Fail over (15 minutes)
1. Fence \`action: db.fence\`
2. Promote \`action: db.promote\`
3. Point DNS at the new primary \`action: dns.switch\`
4. Write \`action: db.verify-writable\`
`;
  const cases = [
    { killAt: '0', what: 'between the fence and the promotion' },
    { killAt: 'a1', what: 'with the promotion started but not run' },
    { killAt: '1', what: 'between the promotion and the DNS switch' },
  ];
  for (const { killAt, what } of cases) {
    it(`resumes after kill -9 ${what}: the fence runs once, one promotion, the old primary still refuses writes`, async () => {
      const pair = await startPostgresPair();
      try {
        const dir = makeTempDir();
        mkdirSync(path.join(dir, 'runbooks'));
        writeFileSync(path.join(dir, 'runbooks', 'failover.md'), fenced);
        const config = path.join(dir, 'lifeboat.yml');
        writeFileSync(config, postgresConfig(pair.primary.url, pair.standby.url));
        const execLog = path.join(dir, 'executions.log');
        writeFileSync(execLog, '');

        const first = launch(config, execLog, killAt);
        await until(() => first.output().includes('BOUNDARY'), `the crash point (${killAt})`);
        first.child.kill('SIGKILL');
        await first.exited;
        const second = launch(config, execLog);
        expect(await second.exited).toBe(0);
        expect(second.output()).toContain('FINISHED succeeded');

        const executions = readFileSync(execLog, 'utf8').trim().split('\n');
        expect(executions.filter((line) => line.endsWith('db.fence'))).toHaveLength(1);
        expect(executions.filter((line) => line.endsWith('db.promote'))).toHaveLength(1);
        const store = openStore(path.join(dir, 'lifeboat.db'));
        const promotions = store.db
          .prepare(
            "SELECT count(*) AS n FROM step_events WHERE event = 'action.finished' AND step_index = 1",
          )
          .get();
        expect(promotions).toEqual({ n: 1 });
        expect(await verifyAuditLog(store)).toMatchObject({ ok: true });
        await store.close();
        expect(await sql(pair.standby.url, 'SELECT pg_is_in_recovery() AS r')).toEqual([
          { r: false },
        ]);
        const refused = await sql(pair.primary.url, 'CREATE TABLE after_the_fence (id int)').then(
          () => 'accepted',
          (error: { code?: string }) => error.code,
        );
        expect(refused).toBe('25006');
      } finally {
        await pair.stop();
      }
    });
  }
});
