// The whole failover through the engine, on a real PostgreSQL primary and streaming standby.

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { startPostgresPair } from '../../src/providers/postgres/servers.js';
import { lsnToBigInt } from '../../src/providers/postgres/connect.js';
import { verifyAuditLog } from '../../src/store/audit.js';
import { makeEngine, playThrough, postgresConfig } from '../support/engine.js';
import { sql, waitFor } from '../support/pg-pair.js';

const root = path.resolve(import.meta.dirname, '../..');
const shippedFailover = readFileSync(path.join(root, 'runbooks/failover.md'), 'utf8');

describe('failover of PostgreSQL through the engine', () => {
  it('kills the primary, promotes the standby behind a second person, and the standby accepts writes', async () => {
    const pair = await startPostgresPair();
    try {
      await sql(pair.primary.url, 'CREATE TABLE payments (id serial PRIMARY KEY, amount int)');
      await sql(
        pair.primary.url,
        'INSERT INTO payments (amount) SELECT g FROM generate_series(1, 100) g',
      );
      const [current] = await sql<{ lsn: string }>(
        pair.primary.url,
        'SELECT pg_current_wal_lsn()::text AS lsn',
      );
      await waitFor(async () => {
        const [row] = await sql<{ lsn: string }>(
          pair.standby.url,
          'SELECT pg_last_wal_replay_lsn()::text AS lsn',
        );
        return lsnToBigInt(row!.lsn) >= lsnToBigInt(current!.lsn);
      }, 'the standby to replay the rows');
      await pair.killPrimary();

      const t = await makeEngine({
        runbooks: { failover: shippedFailover },
        configYaml: postgresConfig(pair.primary.url, pair.standby.url),
      });
      const impactAt = new Date(t.clock().getTime() - 5 * 60_000);
      const { runId } = await t.engine.startRun({
        key: 'slash',
        actor: { user: 'U0ALICE' },
        runbook: 'failover',
        impactAt,
      });
      await playThrough(t, runId);

      const view = await t.engine.getRun(runId);
      expect(view.run.status).toBe('succeeded');
      const promote = view.steps.find((s) => s.action === 'db.promote')!;
      expect(promote).toMatchObject({
        state: 'done',
        summary: expect.stringContaining('promoted with pg_promote'),
      });
      expect(promote.approvals[0]).toMatchObject({
        status: 'approved',
        votes: [expect.objectContaining({ approver: 'U0BOB' })],
      });
      expect(view.steps.find((s) => s.action === 'db.verify-writable')).toMatchObject({
        state: 'done',
        summary: expect.stringContaining('accepted a write'),
      });
      expect(view.steps.find((s) => s.action === 'dns.switch')).toMatchObject({
        state: 'skipped',
        summary: 'Service payments-db has no dns: in lifeboat.yml, so this step is skipped.',
      });
      expect(view.run.rpoExposureSeconds).toBe(0);
      expect(view.run.rtoSeconds).toBeGreaterThan(5 * 60);

      const rows = await sql<{ n: string }>(
        pair.standby.url,
        'INSERT INTO payments (amount) VALUES (101) RETURNING (SELECT count(*) FROM payments) AS n',
      );
      expect(Number(rows[0]!.n)).toBe(100);
      expect(await sql(pair.standby.url, 'SELECT count(*)::int AS n FROM payments')).toEqual([
        { n: 101 },
      ]);

      const granted = await t.store.all(
        "SELECT actor FROM audit_log WHERE action = 'approval.granted'",
      );
      expect(granted).toEqual([{ actor: 'U0BOB' }, { actor: 'U0BOB' }]); // the fence, the promotion
      const fence = view.steps.find((s) => s.action === 'db.fence')!;
      expect(fence.summary).toMatch(
        /^primary 127\.0\.0\.1:\d+ does not answer, so it could not be fenced/,
      );
      expect(view.run.rpoExposureBound).toBe('lower-bound');
      expect(view.run.rpoExposureDetail).toMatch(
        /^≥ 0 bytes — primary unreachable, measured on the replica/,
      );
      expect(await verifyAuditLog(t.store)).toMatchObject({ ok: true });
    } finally {
      await pair.stop();
    }
  });

  it('blocks promotion when lag is over the RPO, and proceeds on an override approved by a second person', async () => {
    const pair = await startPostgresPair();
    try {
      await sql(pair.primary.url, 'CREATE TABLE payments (id serial PRIMARY KEY, amount int)');
      await sql(pair.primary.url, 'INSERT INTO payments (amount) VALUES (0)');
      await waitFor(
        async () =>
          (
            await sql<{ n: number }>(
              pair.standby.url,
              'SELECT count(*)::int AS n FROM payments',
            ).catch(() => [{ n: 0 }])
          )[0]!.n === 1,
        'the first row on the standby',
      );
      await sql(pair.standby.url, 'SELECT pg_wal_replay_pause()');
      await sql(
        pair.primary.url,
        'INSERT INTO payments (amount) SELECT g FROM generate_series(1, 1000) g',
      );
      const runbook = `---\ntitle: Failover\nkind: failover\nservice: payments-db\n---\n## Go (15 minutes)\n1. Fence \`action: db.fence\`\n2. Promote \`action: db.promote\`\n3. Write \`action: db.verify-writable\`\n`;
      const t = await makeEngine({
        runbooks: { failover: runbook },
        configYaml: postgresConfig(pair.primary.url, pair.standby.url).replace(
          'rpo: 1m',
          'rpo: 1s',
        ),
      });
      const { runId } = await t.engine.startRun({
        key: 'slash',
        actor: { user: 'U0ALICE' },
        runbook: 'failover',
      });
      await t.engine.idle();
      await waitFor(
        async () =>
          ((
            await sql<{ s: number | null }>(
              pair.standby.url,
              'SELECT EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp())::float8 AS s',
            )
          )[0]!.s ?? 0) > 1.2,
        'lag over the RPO',
      );
      for (const step of [0, 1]) {
        const approval = (await t.engine.getRun(runId)).steps[step]!.approvals[0]!;
        await t.engine.decideApproval({
          key: `a${step}`,
          actor: { user: 'U0BOB' },
          approvalId: approval.id,
          decision: 'approve',
        });
        await t.engine.idle();
      }

      const blocked = await t.engine.getRun(runId);
      expect(blocked.run.status).toBe('waiting');
      expect(blocked.current).toMatchObject({ waitingOn: 'rpo-gate', state: 'active' });
      expect(blocked.current!.summary).toMatch(
        /replication lag \d+\.\d s \(\d+ bytes\) — OVER the RPO \(1s\)/,
      );
      expect(blocked.steps[0]).toMatchObject({ state: 'done' });
      expect(blocked.steps[0]!.summary).toMatch(/fenced: read-only .*final WAL position/);
      expect(await sql(pair.standby.url, 'SELECT pg_is_in_recovery() AS r')).toEqual([{ r: true }]);

      await expect(
        t.engine.overrideGate({
          key: 'o0',
          actor: { user: 'U0ALICE' },
          runId,
          stepIndex: 1,
          reason: '',
        }),
      ).rejects.toThrow('an override needs a reason');
      await t.engine.overrideGate({
        key: 'o1',
        actor: { user: 'U0ALICE' },
        runId,
        stepIndex: 1,
        reason: 'the region is gone; waiting loses more',
      });
      const override = (await t.engine.getRun(runId)).steps[1]!.approvals.find(
        (a) => a.gate === 'rpo-override',
      )!;
      await expect(
        t.engine.decideApproval({
          key: 'o2',
          actor: { user: 'U0ALICE' },
          approvalId: override.id,
          decision: 'approve',
        }),
      ).rejects.toThrow(/two-person rule/);
      await t.engine.decideApproval({
        key: 'o3',
        actor: { user: 'U0CAROL' },
        approvalId: override.id,
        decision: 'approve',
      });
      await t.engine.idle();

      const done = await t.engine.getRun(runId);
      expect(done.run.status).toBe('succeeded');
      expect(done.run.rpoExposureSeconds).toBeGreaterThan(1);
      // The primary was fenced first: what the replica lacked is all that was lost, exactly.
      expect(done.run.rpoExposureBound).toBe('exact');
      expect(done.run.rpoExposureBytes).toBeGreaterThan(0);
      expect(done.run.rpoExposureDetail).toMatch(/the primary was fenced at \d+\/[0-9A-F]+/);
      expect(await sql(pair.standby.url, 'SELECT count(*)::int AS n FROM payments')).toEqual([
        { n: 1001 },
      ]);
    } finally {
      await pair.stop();
    }
  });
});
