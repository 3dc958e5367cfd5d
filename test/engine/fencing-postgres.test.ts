// Fencing on a real PostgreSQL primary and streaming standby: a live primary is never left writable
// beside a promoted standby, a planned switchover loses nothing (proved by LSNs), two primaries and
// a missing replica are found and said out loud.

import { describe, expect, it } from 'vitest';
import { checkServicesReplication } from '../../src/checks/lag.js';
import { jobOf } from '../support/jobs.js';
import type { Notice } from '../../src/schedule/notifier.js';
import {
  rebuildOldPrimaryAsStandby,
  startPostgresPair,
  startServer,
  stopServer,
  type PostgresPair,
} from '../../src/providers/postgres/servers.js';
import { currentProtection, unprotectedAfter } from '../../src/store/protection.js';
import { verifyAuditLog } from '../../src/store/audit.js';
import { makeEngine, playThrough, postgresConfig, type TestEngine } from '../support/engine.js';
import { acceptsWrite, keepWriting, sql, waitFor, watchForTwoWriters } from '../support/pg-pair.js';

const header = (kind: string) => `---\ntitle: ${kind}\nkind: ${kind}\nservice: payments-db\n---\n`;
const unfencedFailover = `${header('failover')}## Fail over (15 minutes)\n1. Promote \`action: db.promote\`\n2. Write \`action: db.verify-writable\`\n`;
const fencedFailover = `${header('failover')}## Fail over (15 minutes)\n1. Fence the old primary \`action: db.fence\`\n2. Promote \`action: db.promote\`\n3. Write \`action: db.verify-writable\`\n`;
const switchover = `${header('switchover')}## Switch over (5 minutes)\n1. Fence \`action: db.fence\`\n2. Catch up \`action: db.catch-up 10s\`\n3. Promote \`action: db.promote\`\n4. Write \`action: db.verify-writable\`\n`;
const slowSwitchover = switchover.replace('db.catch-up 10s', 'db.catch-up 1s');
const failback = `${header('failback')}## Prepare (10 minutes)\n1. Rebuild \`action: db.rebuild-replica\`\n2. Verify the replica \`action: db.verify-replica\`\n## Switch back (15 minutes)\n1. Fence \`action: db.fence\`\n2. Promote \`action: db.promote\`\n3. Write \`action: db.verify-writable\`\n`;
const bareFailback = `${header('failback')}## Switch back (15 minutes)\n1. Fence \`action: db.fence\`\n2. Promote \`action: db.promote\`\n`;

async function withPair(use: (pair: PostgresPair) => Promise<void>): Promise<void> {
  const pair = await startPostgresPair();
  try {
    await sql(pair.primary.url, 'CREATE TABLE payments (id serial PRIMARY KEY, amount int)');
    await sql(
      pair.primary.url,
      'INSERT INTO payments (amount) SELECT 1 FROM generate_series(1, 50)',
    );
    await use(pair);
  } finally {
    await pair.stop();
  }
}

function engineFor(pair: PostgresPair, runbooks: Record<string, string>): Promise<TestEngine> {
  return makeEngine({
    runbooks,
    configYaml: `slack: { channel: C0DROPS }\n${postgresConfig(pair.primary.url, pair.standby.url)}`,
  });
}

async function start(t: TestEngine, runbook: string): Promise<string> {
  return (await t.engine.startRun({ key: `start-${runbook}`, actor: { user: 'U0ALICE' }, runbook }))
    .runId;
}

async function writeRefusal(url: string): Promise<string> {
  const error = await sql(url, 'INSERT INTO payments (amount) VALUES (1)').then(
    () => null,
    (e: { code?: string; message: string }) => e,
  );
  return error ? `${error.code}: ${error.message}` : 'accepted';
}

describe('fencing before promotion', () => {
  it('refuses to promote while the old primary still accepts writes, and says so', async () => {
    await withPair(async (pair) => {
      const t = await engineFor(pair, { failover: unfencedFailover });
      const runId = await start(t, 'failover');
      await t.engine.idle();
      const view = await t.engine.getRun(runId);
      expect(view.current).toMatchObject({ waitingOn: 'fence-gate', state: 'active' });
      expect(view.current!.summary).toMatch(
        /^payments-db's primary 127\.0\.0\.1:\d+ still accepts writes: fence it first/,
      );
      expect(view.current!.approvals).toEqual([]); // nobody is asked to approve a refused step
      expect(await sql(pair.standby.url, 'SELECT pg_is_in_recovery() AS r')).toEqual([{ r: true }]);
      const blocked = await t.store.get(
        "SELECT count(*) AS n FROM audit_log WHERE action = 'gate.fence-blocked'",
      );
      expect(blocked).toEqual({ n: 1 });
    });
  });

  it('does not fence a primary whose standby does not answer: nothing could take the writes', async () => {
    await withPair(async (pair) => {
      const t = await makeEngine({
        runbooks: { failover: fencedFailover },
        configYaml: postgresConfig(pair.primary.url, 'postgres://postgres@127.0.0.1:1/postgres'),
      });
      const runId = await start(t, 'failover');
      const view = await playThrough(t, runId);
      expect(view.current).toMatchObject({ action: 'db.fence', waitingOn: 'failure' });
      expect(view.current!.summary).toMatch(
        /^primary 127\.0\.0\.1:\d+: not fenced: the replica to promote cannot take over \(replica 127\.0\.0\.1:1 does not answer: .*\) — fencing now would leave no database accepting writes/,
      );
      expect(await writeRefusal(pair.primary.url)).toBe('accepted');
    });
  });

  it('fences first: the old primary refuses writes (25006), the standby is promoted, and never do both accept writes', async () => {
    await withPair(async (pair) => {
      const t = await engineFor(pair, { failover: fencedFailover });
      const app = keepWriting(pair.primary.url, 'payments');
      await waitFor(
        async () => (await acceptsWrite(pair.primary.url)) === true,
        'a writable primary',
      );
      const watcher = watchForTwoWriters([pair.primary.url, pair.standby.url]);
      const runId = await start(t, 'failover');
      const view = await playThrough(t, runId);
      const watched = await watcher.stop();
      const committed = await app.stop();

      expect(view.run.status).toBe('succeeded');
      expect(watched.rounds).toBeGreaterThan(5);
      expect(watched.bothWritable).toBe(0);
      expect(await writeRefusal(pair.primary.url)).toBe(
        '25006: cannot execute INSERT in a read-only transaction',
      );
      expect(await writeRefusal(pair.standby.url)).toBe('accepted');
      expect(view.steps[0]!.summary).toMatch(
        /fenced: read-only \(a write was refused: .*SQLSTATE 25006\)\), \d+ client session\(s\) ended, final WAL position \d+\/[0-9A-F]+$/,
      );
      expect(view.steps[0]!.result).toMatchObject({
        verification: expect.stringContaining('fenced read-only'),
      });
      // Every write the application was told had committed is on the promoted database.
      const [promoted] = await sql<{ n: number }>(
        pair.standby.url,
        `SELECT count(*)::int AS n FROM payments WHERE id = ANY($1::int[])`,
        [committed],
      );
      expect(promoted!.n).toBe(committed.length);
      expect(view.run.rpoExposureBound).toBe('exact');
      expect(view.run.rpoExposureDetail).toMatch(/the primary was fenced at/);
      expect(await currentProtection(t.store, 'payments-db')).toMatchObject({
        state: 'unprotected',
        writer: 'replica',
        runId,
      });
      const [check] = await checkServicesReplication(
        t.config,
        t.store,
        t.engine.providersFor.bind(t.engine),
        t.clock(),
      );
      expect(check).toMatchObject({ ok: false, state: 'UNPROTECTED' });
      expect(check!.summary).toMatch(/^UNPROTECTED — no replica since 2026-11-24 \d\d:\d\d UTC/);
      expect(await verifyAuditLog(t.store)).toMatchObject({ ok: true });
    });
  });

  it('promotes unfenced only on an override a second person approves; the two primaries are then found, alerted once, and block the next failover', async () => {
    await withPair(async (pair) => {
      const t = await engineFor(pair, { failover: unfencedFailover });
      const watcher = watchForTwoWriters([pair.primary.url, pair.standby.url]);
      const runId = await start(t, 'failover');
      await t.engine.idle();
      await t.engine.overrideGate({
        key: 'override',
        actor: { user: 'U0ALICE' },
        runId,
        stepIndex: 0,
        reason: 'the primary is partitioned from every client; we accept the risk',
      });
      const override = (await t.engine.getRun(runId)).current!.approvals.find(
        (a) => a.gate === 'fence-override',
      )!;
      await expect(
        t.engine.decideApproval({
          key: 'self',
          actor: { user: 'U0ALICE' },
          approvalId: override.id,
          decision: 'approve',
        }),
      ).rejects.toThrow(/two-person rule/);
      await t.engine.decideApproval({
        key: 'carol',
        actor: { user: 'U0CAROL' },
        approvalId: override.id,
        decision: 'approve',
      });
      const view = await playThrough(t, runId);
      expect(view.run.status).toBe('succeeded');
      await waitFor(async () => (await watcher.stop()).bothWritable > 0, 'the watcher to see it');
      expect(view.run.rpoExposureBound).toBe('lower-bound');
      expect(view.run.rpoExposureDetail).toMatch(/^≥ .* the primary still accepted writes/);

      const posts: Notice[] = [];
      const lagJob = jobOf(t.config, 'lag');
      for (let minute = 0; minute < 3; minute++) {
        t.clock.advance(60_000);
        await lagJob.run({
          config: t.config,
          engine: t.engine,
          notifier: { post: (notice) => Promise.resolve(void posts.push(notice)) },
          now: t.clock(),
        });
      }
      expect(posts).toHaveLength(1);
      expect(posts[0]!.text).toMatch(
        /^:rotating_light: \*TWO PRIMARIES\* replication of \*payments-db\*: TWO PRIMARIES since .*: both primary 127\.0\.0\.1:\d+ and replica 127\.0\.0\.1:\d+ accept writes/,
      );
      await expect(
        t.engine.startRun({ key: 'again', actor: { user: 'U0ALICE' }, runbook: 'failover' }),
      ).rejects.toThrow(
        /payments-db has TWO PRIMARIES since .*: lifeboat cannot tell which one holds the data/,
      );
    });
  });
});

describe('planned switchover', () => {
  it('loses nothing: every write committed before the fence is on the promoted node, exposure 0 bytes by LSN', async () => {
    await withPair(async (pair) => {
      const t = await engineFor(pair, { switchover });
      const app = keepWriting(pair.primary.url, 'payments');
      await waitFor(
        async () =>
          (
            await sql<{ n: number }>(pair.primary.url, 'SELECT count(*)::int AS n FROM payments')
          )[0]!.n > 100,
        'the application writing',
      );
      const runId = await start(t, 'switchover');
      const view = await playThrough(t, runId);
      const committed = await app.stop();

      expect(view.run.status).toBe('succeeded');
      expect(view.run.kind).toBe('switchover');
      const [promoted] = await sql<{ n: number; max: number }>(
        pair.standby.url,
        'SELECT count(*)::int AS n, max(id) AS max FROM payments',
      );
      const [before] = await sql<{ n: number }>(
        pair.standby.url,
        'SELECT count(*)::int AS n FROM payments WHERE id = ANY($1::int[])',
        [committed],
      );
      expect(before!.n).toBe(committed.length);
      expect(promoted!.max).toBeGreaterThanOrEqual(Math.max(...committed));
      const catchUp = view.steps[1]!;
      expect(catchUp.summary).toMatch(
        /at or past the fenced primary's final position \d+\/[0-9A-F]+ \(0 bytes behind/,
      );
      expect(view.run).toMatchObject({
        rpoExposureBytes: 0,
        rpoExposureSeconds: 0,
        rpoExposureBound: 'exact',
      });
      expect(view.run.rpoExposureDetail).toMatch(/^0 bytes — the primary was fenced at /);
      expect(await writeRefusal(pair.primary.url)).toMatch(/^25006/);
    });
  });

  it('stops before promotion when the replica cannot catch up, and lifts the fence on request', async () => {
    await withPair(async (pair) => {
      const t = await engineFor(pair, { switchover: slowSwitchover });
      await sql(pair.standby.url, 'SELECT pg_wal_replay_pause()');
      await sql(
        pair.primary.url,
        'INSERT INTO payments (amount) SELECT 2 FROM generate_series(1, 500)',
      );
      const runId = await start(t, 'switchover');
      const view = await playThrough(t, runId);
      expect(view.current).toMatchObject({ index: 1, waitingOn: 'failure' });
      expect(view.current!.summary).toMatch(/bytes behind\) after 1 s: it did not catch up/);
      expect(view.steps[2]!.state).toBe('pending');
      expect(await writeRefusal(pair.primary.url)).toMatch(/^25006/);

      const notices: string[] = [];
      t.engine.on((event) => void (event.type === 'notify' && notices.push(event.text)));
      await t.engine.abortRun({
        key: 'stop',
        actor: { user: 'U0ALICE' },
        runId,
        reason: 'replica stuck; try again tonight',
        unfence: true,
      });
      await t.engine.idle();
      expect(await writeRefusal(pair.primary.url)).toBe('accepted');
      expect(await sql(pair.standby.url, 'SELECT pg_is_in_recovery() AS r')).toEqual([{ r: true }]);
      expect(notices).toEqual([
        expect.stringMatching(/^:unlock: primary 127\.0\.0\.1:\d+ unfenced/),
      ]);
      const lifted = await t.store.all("SELECT actor FROM audit_log WHERE action = 'fence.lifted'");
      expect(lifted).toEqual([{ actor: 'U0ALICE' }]);
    });
  });
});

describe('the UNPROTECTED alarm', () => {
  it('is posted when it starts, again every alerts.unprotected_repeat, and its end once', async () => {
    await withPair(async (pair) => {
      const t = await makeEngine({
        runbooks: {},
        configYaml: `slack: { channel: C0DROPS }\nalerts: { unprotected_repeat: 4h }\n${postgresConfig(pair.primary.url, pair.standby.url)}`,
      });
      const posts: Notice[] = [];
      const lagJob = jobOf(t.config, 'lag');
      const tick = async (advanceMs: number) => {
        t.clock.advance(advanceMs);
        await lagJob.run({
          config: t.config,
          engine: t.engine,
          notifier: { post: (notice) => Promise.resolve(void posts.push(notice)) },
          now: t.clock(),
        });
      };
      await tick(0);
      expect(posts).toEqual([]); // protected: nothing to say
      await stopServer(pair.standby);
      await tick(60_000);
      await tick(3_600_000);
      await tick(2 * 3_600_000);
      expect(posts.map((p) => p.text)).toEqual([
        expect.stringMatching(
          /^:warning: \*UNPROTECTED\* replication of \*payments-db\*: UNPROTECTED — no replica since 2026-11-24 03:01 UTC: no replica follows primary/,
        ),
      ]);
      await tick(2 * 3_600_000); // four hours since it was posted
      expect(posts).toHaveLength(2);
      expect(posts[1]!.text).toMatch(
        /^:warning: \*UNPROTECTED\* \(reminder\) replication of \*payments-db\*: UNPROTECTED — no replica since 2026-11-24 03:01 UTC \(5h\)/,
      );
      await startServer(pair.standby);
      await waitFor(
        async () =>
          (
            await checkServicesReplication(
              t.config,
              t.store,
              t.engine.providersFor.bind(t.engine),
              t.clock(),
            )
          )[0]!.ok,
        'the standby streaming again',
      );
      await tick(60_000);
      expect(posts).toHaveLength(3);
      expect(posts[2]!.text).toMatch(
        /^:white_check_mark: \*recovered\* replication of \*payments-db\*/,
      );
    });
  });
});

describe('protection after a failover', () => {
  it('is UNPROTECTED until a rebuilt standby is verified; the failback then leaves exactly one writable node', async () => {
    await withPair(async (pair) => {
      const t = await engineFor(pair, {
        failover: fencedFailover,
        failback,
        'bare-failback': bareFailback,
      });
      const failoverRun = await start(t, 'failover');
      expect((await playThrough(t, failoverRun)).run.status).toBe('succeeded');
      expect((await currentProtection(t.store, 'payments-db'))?.state).toBe('unprotected');
      await expect(
        t.engine.startRun({
          key: 'bare',
          actor: { user: 'U0ALICE' },
          runbook: 'bare-failback',
        }),
      ).rejects.toThrow(
        /payments-db is UNPROTECTED since .*: no replica follows the writer, so a failback has nothing safe to promote/,
      );

      const failbackRun = await start(t, 'failback');
      await t.engine.idle();
      const rebuild = (await t.engine.getRun(failbackRun)).current!;
      // Changing infrastructure by hand is still two-person: approval first, then Done.
      expect(rebuild).toMatchObject({ action: 'db.rebuild-replica', waitingOn: 'approval' });
      await expect(
        t.engine.completeStep({
          key: 'early',
          actor: { user: 'U0ALICE' },
          runId: failbackRun,
          stepIndex: 0,
        }),
      ).rejects.toThrow("step 1 needs a second person's approval before it is done");
      expect(String(rebuild.result.instructions)).toContain('pg_basebackup -h 127.0.0.1');
      await t.engine.decideApproval({
        key: 'bob-rebuild',
        actor: { user: 'U0BOB' },
        approvalId: rebuild.approvals[0]!.id,
        decision: 'approve',
      });
      await t.engine.idle();
      await rebuildOldPrimaryAsStandby(pair); // what the person does, following the commands
      t.clock.advance(3_600_000);
      const view = await playThrough(t, failbackRun);
      expect(view.run.status).toBe('succeeded');
      expect(view.steps[1]!.summary).toMatch(
        /^primary 127\.0\.0\.1:\d+ streams from replica 127\.0\.0\.1:\d+, \d+ bytes behind: within the RPO \(1m\)/,
      );

      const unprotected = await unprotectedAfter(t.store, failoverRun, t.clock());
      expect(unprotected).toMatchObject({ ongoing: false });
      expect(unprotected!.seconds).toBeGreaterThanOrEqual(3600);
      const writable = await Promise.all([
        acceptsWrite(pair.primary.url),
        acceptsWrite(pair.standby.url),
      ]);
      expect(writable).toEqual([true, false]);
      expect(await currentProtection(t.store, 'payments-db')).toMatchObject({
        state: 'unprotected',
        writer: 'primary',
        runId: failbackRun,
      });
    });
  });
});
