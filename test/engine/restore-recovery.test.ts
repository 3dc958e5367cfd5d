// The backup-and-restore strategy end to end on real things: a PostgreSQL primary backed up into
// s3rver by lifeboat, a standalone DR server, and the shipped recovery runbook walked by the
// engine — fence, a two-person-approved restore held by the RPO gate on the backup's age, writes
// verified on the restored server. A corrupted newest backup is passed over for the one before.

import { DeleteObjectCommand } from '@aws-sdk/client-s3';
import { readFileSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { takeBackup } from '../../src/actions/backup/take.js';
import { MANIFEST_SUFFIX } from '../../src/providers/types.js';
import { status } from '../../commands/status.js';
import { startThrowawayServer } from '../../src/providers/postgres/servers.js';
import { makeEngine, playThrough, testClock, type TestEngine } from '../support/engine.js';
import { sql, usePostgresPair } from '../support/pg-pair.js';
import { useS3rver } from '../support/s3.js';

const s3 = useS3rver(['ledger-backups', 'foreign-backups']);
const pair = usePostgresPair();
let dr: Awaited<ReturnType<typeof startThrowawayServer>> | null = null;
beforeAll(async () => {
  dr = await startThrowawayServer();
}, 60_000);
afterAll(async () => {
  await dr?.stop();
});

const runbook = readFileSync(
  path.resolve(import.meta.dirname, '../../runbooks/restore-from-backup.md'),
  'utf8',
);

function configYaml(rpo: string, bucket = 'ledger-backups'): string {
  return `approvals: { approvers: [U0ALICE, U0BOB], required: 1, expires_after: 15m }
services:
  payments-db:
    rto: 4h
    rpo: ${rpo}
    strategy: backup-restore
    runbooks: { failover: restore-from-backup }
    database: { provider: postgres, primary: "${pair.get().primary.url}", replica: "${dr!.server.url}" }
    backups: { provider: s3, bucket: ${bucket}, prefix: pg/, region: us-west-2, endpoint: "${s3.endpoint()}", credentials: s3rver, max_age: 1d }
`;
}

/** The disaster: U0ALICE starts the recovery runbook. */
async function startRecovery(t: TestEngine): Promise<string> {
  const { runId } = await t.engine.startRun({
    key: 'start',
    actor: { user: 'U0ALICE' },
    runbook: 'restore-from-backup',
    service: 'payments-db',
  });
  return runId;
}

describe('recovery from backup', () => {
  it('fences the old primary, restores the newest good backup into the DR server after two people agree, and records what was lost since the backup', async () => {
    const { primary } = pair.get();
    await sql(
      primary.url,
      `CREATE TABLE entries (id serial PRIMARY KEY, amount int);
       INSERT INTO entries (amount) SELECT g FROM generate_series(1, 500) g`,
    );
    const clock = testClock('2026-11-24T03:00:00.000Z');
    const t = await makeEngine({
      runbooks: { 'restore-from-backup': runbook },
      configYaml: configYaml('1h'),
      clock,
    });
    const service = t.config.services['payments-db']!;
    const providers = t.engine.providersFor(service, 'failover');
    // Both servers take writes while the DR server waits: /dr status does not call that TWO
    // PRIMARIES, and the backup is of the primary.
    const older = await takeBackup(service, providers, { clock });
    await sql(primary.url, 'INSERT INTO entries (amount) SELECT g FROM generate_series(1, 250) g');
    clock.advance(600_000);
    const newest = await takeBackup(service, providers, { clock });
    expect([older.tables, newest.tables]).toEqual([{ entries: 500 }, { entries: 750 }]);
    expect(newest.source).toBe(`primary 127.0.0.1:${primary.port}`);
    const { text } = (await status.run(['payments-db'], {
      config: t.config,
      store: t.store,
      user: 'U0ALICE',
      clock: t.clock,
      engine: t.engine,
    })) as { text: string; alarms: string[] };
    expect(text).toContain(
      `• replication: backup-restore: no replica — a recovery restores the newest backup into DR server 127.0.0.1:${dr!.server.port}, which answers and takes writes`,
    );

    // Bit rot in the newest backup: the restore passes it over for the one before.
    const file = s3.objectFile('ledger-backups', newest.key);
    const bytes = readFileSync(file);
    bytes[bytes.length >> 1] = (bytes[bytes.length >> 1] ?? 0) ^ 0xff;
    writeFileSync(file, bytes);

    clock.advance(1200_000); // the disaster, 20 minutes after the newest backup
    const runId = await startRecovery(t);
    const view = await playThrough(t, runId, (v) => v.current?.action === 'dns.switch');
    const steps = Object.fromEntries(view.steps.map((step) => [step.action ?? step.text, step]));
    expect(steps['db.fence']!.state).toBe('done');
    const restored = steps['db.restore']!;
    expect(restored.state).toBe('done');
    expect(restored.approvals.map((approval) => approval.status)).toEqual(['approved']);
    expect(restored.summary).toMatch(
      new RegExp(
        `^DR server 127\\.0\\.0\\.1:${dr!.server.port} holds ${older.key.replace(/\./g, '\\.')} \\(data as of 2026-11-24 03:00 UTC\\): \\d+ bytes, downloaded in \\d+s, restored in \\d+s, 1 tables \\(500 rows\\), as counted when the backup was taken; SHA-256 [0-9a-f]{64} matches the manifest written when lifeboat took it\\. Passed over: ${newest.key.replace(/\./g, '\\.')}: checksum mismatch: `,
      ),
    );
    expect(steps['db.verify-writable']!.state).toBe('done');
    expect(await sql(dr!.server.url, 'SELECT count(*)::int AS n FROM entries')).toEqual([
      { n: 500 },
    ]);
    // What the run loses is measured from the newest backup (before the restore knew it was bad):
    // a lower bound, said so.
    expect(view.run).toMatchObject({ rpoExposureSeconds: 1200, rpoExposureBound: 'lower-bound' });
    expect(view.run.rpoExposureDetail).toContain(
      `≥ 20m: everything written between the newest backup (${newest.key}`,
    );
    // The old primary was fenced: it refuses writes now, so only the DR server takes them.
    await expect(sql(primary.url, 'INSERT INTO entries (amount) VALUES (1)')).rejects.toThrow(
      /read-only transaction/,
    );
    await t.store.close();
  });

  it('restores a backup with no manifest (another tool wrote it) and says its data is from before the store’s date, not as of it', async () => {
    const clock = testClock('2026-11-26T03:00:00.000Z');
    const t = await makeEngine({
      runbooks: { 'restore-from-backup': runbook },
      // A bucket of its own: the backups the test before took are newer than this one.
      configYaml: configYaml('1h', 'foreign-backups'),
      clock,
    });
    const service = t.config.services['payments-db']!;
    const taken = await takeBackup(service, t.engine.providersFor(service, 'failover'), { clock });
    await s3.client().send(
      new DeleteObjectCommand({
        Bucket: 'foreign-backups',
        Key: `${taken.key}${MANIFEST_SUFFIX}`,
      }),
    );
    // The store dates it when its upload ended: 45 s after the dump began, here.
    const stored = new Date('2026-11-26T03:00:45.000Z');
    utimesSync(s3.objectFile('foreign-backups', taken.key), stored, stored);

    clock.advance(1200_000);
    const runId = await startRecovery(t);
    const view = await playThrough(t, runId, (v) => v.current?.action === 'dns.switch');
    const restored = view.steps.find((step) => step.action === 'db.restore')!;
    expect(restored.state).toBe('done');
    const said =
      'data from before 2026-11-26 03:00:45 UTC: stored then, and no manifest says when its dump began';
    expect(restored.summary).toContain(`holds ${taken.key} (${said})`);
    // What is lost is at least the time since the store's date; the dump's own length is unknown.
    expect(view.run).toMatchObject({ rpoExposureSeconds: 1155, rpoExposureBound: 'lower-bound' });
    expect(view.run.rpoExposureDetail).toContain(`(${taken.key}, ${said})`);
    await t.store.close();
  });

  it('holds the restore while the newest backup is older than the RPO allows, until a second person overrides it', async () => {
    const clock = testClock('2026-11-25T03:00:00.000Z');
    const t = await makeEngine({
      runbooks: { 'restore-from-backup': runbook },
      configYaml: configYaml('1m'),
      clock,
    });
    const runId = await startRecovery(t);
    const held = await playThrough(
      t,
      runId,
      (v) => v.current?.action === 'db.restore' && v.current.waitingOn === 'rpo-gate',
    );
    const step = held.current!;
    expect(step.state).not.toBe('done');
    expect(step.summary).toMatch(
      /^the newest backup, pg\/[\dT:.Z-]+\.dump, is [\dhms ]+ older than the impact, over the RPO of 1m\. Restoring it loses that much committed data\. Wait for a newer backup and retry, or override with a reason \(a second person must approve\)\.$/,
    );
    // Proceeding anyway is a decision two people make, with a reason the audit log keeps.
    await t.engine.overrideGate({
      key: 'override',
      actor: { user: 'U0ALICE' },
      runId,
      stepIndex: step.index,
      reason: 'the region is gone; a day of ledger entries is re-keyed from the bank statements',
    });
    await t.engine.idle();
    const override = (await t.engine.getRun(runId)).current!.approvals.find(
      (approval) => approval.gate === 'rpo-override' && approval.status === 'pending',
    )!;
    await t.engine.decideApproval({
      key: 'second',
      actor: { user: 'U0BOB' },
      approvalId: override.id,
      decision: 'approve',
    });
    const after = await playThrough(t, runId, (v) => v.current?.action === 'dns.switch');
    expect(after.steps.find((each) => each.action === 'db.restore')!.state).toBe('done');
    expect(after.run.rpoExposureBound).toBe('lower-bound');
    await t.store.close();
  });
});
