// backup.verify against real objects in s3rver: fresh, stale, shrunken, missing.

import { describe, expect, it } from 'vitest';
import { assessBackups } from '../../src/actions/backup/verify.js';
import { ProviderError } from '../../src/errors.js';
import { createS3BackupStore } from '../../src/providers/aws/s3.js';
import { makeEngine, testClock } from '../support/engine.js';
import { putObject, storeNow, useS3rver } from '../support/s3.js';

const s3 = useS3rver(['company-backups-dr']);
const HOUR = 3600;

describe('backups in an S3-compatible store', () => {
  it('lists backups under the prefix, newest first, with real sizes', async () => {
    const client = s3.client();
    await putObject(client, 'company-backups-dr', 'list/2026-11-23.dump', Buffer.alloc(2048, 1));
    await putObject(client, 'company-backups-dr', 'list/2026-11-24.dump', Buffer.alloc(4096, 2));
    await putObject(client, 'company-backups-dr', 'other/ignored.dump', 'x');
    const store = createS3BackupStore(
      {
        bucket: 'company-backups-dr',
        prefix: 'list/',
        region: 'us-west-2',
        endpoint: s3.endpoint(),
      },
      { client },
    );
    const backups = await store.listBackups();
    expect(backups.map((b) => [b.key, b.size])).toEqual([
      ['list/2026-11-24.dump', 4096],
      ['list/2026-11-23.dump', 2048],
    ]);
    const head = await store.headBackup('list/2026-11-24.dump');
    expect(head).toMatchObject({ size: 4096, checksum: null });
    expect(head.etag).toMatch(/^"[0-9a-f]{32}"$/);
  });

  it('judges fresh, stale, shrunken and empty backups', () => {
    const now = new Date('2026-11-24T12:00:00Z');
    const at = (hoursAgo: number) => new Date(now.getTime() - hoursAgo * HOUR * 1000);
    const backup = (key: string, size: number, hoursAgo: number) => ({
      key,
      size,
      lastModified: at(hoursAgo),
      etag: null,
      checksum: null,
    });
    const limits = { maxAgeSeconds: 6 * HOUR, rpoSeconds: 60 };
    expect(assessBackups([backup('b2', 1000, 1), backup('b1', 900, 7)], limits, now).ok).toBe(true);
    expect(assessBackups([backup('b2', 1000, 7)], limits, now).problems).toEqual([
      'newest backup is 7h old, older than max_age 6h',
    ]);
    expect(
      assessBackups([backup('b2', 400, 1), backup('b1', 1000, 7)], limits, now).problems,
    ).toEqual(['newest backup is 400 bytes, less than half of the previous one (1000 bytes)']);
    expect(assessBackups([backup('b2', 0, 1)], limits, now).problems).toEqual([
      'newest backup is empty (0 bytes)',
    ]);
    expect(assessBackups([], limits, now).problems).toEqual(['no backups found']);
  });

  it('runs backup.verify in a drill: passes on a fresh backup, stops the step on a stale or shrunken one', async () => {
    const client = s3.client();
    const configYaml = `services:
  payments-db:
    rto: 15m
    rpo: 1m
    database: { provider: postgres, primary: "postgres://127.0.0.1:1/postgres", replica: "postgres://127.0.0.1:2/postgres" }
    backups: { provider: s3, bucket: company-backups-dr, prefix: drill/, region: us-west-2, endpoint: "${s3.endpoint()}", max_age: 6h }
`;
    const runbook =
      '---\nkind: drill\nservice: payments-db\n---\n## Check (5 minutes)\n1. Check the backup `action: backup.verify`\n';
    const providersFor = () => ({
      database: null,
      dns: null,
      backups: createS3BackupStore(
        {
          bucket: 'company-backups-dr',
          prefix: 'drill/',
          region: 'us-west-2',
          endpoint: s3.endpoint(),
        },
        { client },
      ),
    });
    const clock = testClock((await storeNow(client, 'company-backups-dr')).toISOString());
    await putObject(client, 'company-backups-dr', 'drill/2026-11-23.dump', Buffer.alloc(10_000, 1));
    await putObject(client, 'company-backups-dr', 'drill/2026-11-24.dump', Buffer.alloc(9_000, 1));
    const t = makeEngine({
      runbooks: { drill: runbook },
      configYaml,
      providersFor,
      clock,
    });
    const good = t.engine.startRun({ key: 'k1', actor: { user: 'U0ALICE' }, runbook: 'drill' });
    await t.engine.idle();
    const passed = t.engine.getRun(good.runId);
    expect(passed.run.status).toBe('succeeded');
    expect(passed.steps[0]!.summary).toMatch(
      /^newest backup drill\/2026-11-24\.dump: 9000 bytes, \d+s old; .*the store keeps no checksum/,
    );

    clock.advance(7 * HOUR * 1000);
    const stale = t.engine.startRun({
      key: 'k-stale',
      actor: { user: 'U0ALICE' },
      runbook: 'drill',
    });
    await t.engine.idle();
    expect(t.engine.getRun(stale.runId).current?.summary).toMatch(
      /^s3:\/\/company-backups-dr\/drill\/: newest backup is 7h( \d+s)? old, older than max_age 6h$/,
    );
    t.engine.abortRun({
      key: 'abort-stale',
      actor: { user: 'U0ALICE' },
      runId: stale.runId,
      reason: 'seen',
    });
    clock.set((await storeNow(client, 'company-backups-dr')).toISOString());

    await putObject(client, 'company-backups-dr', 'drill/2026-11-25.dump', Buffer.alloc(100, 1));
    const bad = t.engine.startRun({ key: 'k2', actor: { user: 'U0ALICE' }, runbook: 'drill' });
    await t.engine.idle();
    const failed = t.engine.getRun(bad.runId);
    expect(failed.run.status).toBe('waiting');
    expect(failed.current).toMatchObject({
      waitingOn: 'failure',
      summary:
        's3://company-backups-dr/drill/: newest backup is 100 bytes, less than half of the previous one (9000 bytes)',
    });
  });

  it('names the bucket when the store does not answer', async () => {
    const broken = createS3BackupStore(
      { bucket: 'nope', prefix: 'x/', region: 'us-west-2' },
      { client: s3.client(), retry: { attempts: 1 } },
    );
    await expect(broken.listBackups()).rejects.toThrow(ProviderError);
    await expect(broken.listBackups()).rejects.toThrow(/^s3:\/\/nope\/x\/: NoSuchBucket/);
    expect(broken.name).toBe('s3://nope/x/');
  });
});
