// backup.verify against real objects in s3rver: fresh, stale, shrunken, missing; downloads
// checked against the store's checksum.

import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { assessBackups } from '../../src/actions/backup/verify.js';
import { ProviderError } from '../../src/errors.js';
import { checkIntegrity, createS3BackupStore } from '../../src/providers/aws/s3.js';
import { makeEngine, testClock } from '../support/engine.js';
import { putObject, storeNow, useS3rver } from '../support/s3.js';
import { makeTempDir } from '../support/tmp.js';

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

  it('checks downloaded bytes against the store: MD5 ETag verified, bit rot refused', async () => {
    const client = s3.client();
    const bucket = 'company-backups-dr';
    const body = Buffer.alloc(64 * 1024, 7);
    await putObject(client, bucket, 'dl/good.dump', body);
    await putObject(client, bucket, 'dl/rotten.dump', body);
    const store = createS3BackupStore(
      { bucket, prefix: 'dl/', region: 'us-west-2', endpoint: s3.endpoint() },
      { client, retry: { attempts: 1 } },
    );
    const dir = makeTempDir();

    const good = await store.downloadBackup('dl/good.dump', path.join(dir, 'good'));
    expect(good.bytes).toBe(body.length);
    expect(good.integrity).toMatchObject({ verified: true, method: 'md5-etag' });
    expect(readFileSync(path.join(dir, 'good')).equals(body)).toBe(true);

    // Bit rot: one byte flips on the store's disk; its recorded ETag still says the old MD5.
    const rotten = Buffer.from(body);
    rotten[1000] = 8;
    writeFileSync(s3.objectFile(bucket, 'dl/rotten.dump'), rotten);
    const refused = await store
      .downloadBackup('dl/rotten.dump', path.join(dir, 'rotten'))
      .catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(ProviderError);
    expect((refused as Error).message).toMatch(
      /^s3:\/\/company-backups-dr\/dl\/rotten\.dump: checksum mismatch: the downloaded bytes hash to MD5 [0-9a-f]{32}, the store's ETag says [0-9a-f]{32}/,
    );
  });

  it('says which integrity check applies: full-object SHA-256 first, a plain MD5 ETag next, a multipart or KMS ETag is "not checked"', () => {
    const body = Buffer.from('a backup');
    const hashes = () =>
      [createHash('md5').update(body), createHash('sha256').update(body)] as const;
    const md5 = createHash('md5').update(body).digest('hex');
    const sha = createHash('sha256').update(body).digest('base64');
    expect(
      checkIntegrity('s3://b/k', { ChecksumSHA256: sha, ETag: '"x-2"' }, 8, ...hashes()),
    ).toMatchObject({
      verified: true,
      method: 'sha256',
    });
    expect(() =>
      checkIntegrity('s3://b/k', { ChecksumSHA256: 'AAAA', ETag: `"${md5}"` }, 8, ...hashes()),
    ).toThrow(/checksum mismatch: the downloaded bytes hash to SHA-256/);
    expect(checkIntegrity('s3://b/k', { ETag: `"${md5}"` }, 8, ...hashes()).method).toBe(
      'md5-etag',
    );
    const multipart = checkIntegrity('s3://b/k', { ETag: `"${md5}-3"` }, 8, ...hashes());
    expect(multipart).toMatchObject({ verified: false, method: null });
    expect(multipart.detail).toContain(
      `integrity not checked: the store keeps no full-object SHA-256 for it and its ETag (${md5}-3) is not a plain MD5`,
    );
    expect(
      checkIntegrity(
        's3://b/k',
        { ETag: `"${md5}"`, ServerSideEncryption: 'aws:kms' },
        8,
        ...hashes(),
      ).verified,
    ).toBe(false);
    expect(() =>
      checkIntegrity('s3://b/k', { ContentLength: 9, ETag: `"${md5}"` }, 8, ...hashes()),
    ).toThrow('downloaded 8 bytes, the store says the object has 9: the download is incomplete');
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
    await putObject(client, 'company-backups-dr', 'drill/2026-11-23.dump', Buffer.alloc(10_000, 1));
    await putObject(client, 'company-backups-dr', 'drill/2026-11-24.dump', Buffer.alloc(9_000, 1));
    // The store's own time, read after the uploads (its times have whole seconds): the newest
    // backup is never younger than the clock says, whichever second the uploads fell in.
    const clock = testClock((await storeNow(client, 'company-backups-dr')).toISOString());
    const t = await makeEngine({
      runbooks: { drill: runbook },
      configYaml,
      providersFor,
      clock,
    });
    const good = await t.engine.startRun({
      key: 'k1',
      actor: { user: 'U0ALICE' },
      runbook: 'drill',
    });
    await t.engine.idle();
    const passed = await t.engine.getRun(good.runId);
    expect(passed.run.status).toBe('succeeded');
    expect(passed.steps[0]!.summary).toMatch(
      /^newest backup drill\/2026-11-24\.dump: 9000 bytes, \d+s old; .*the store keeps no checksum/,
    );

    clock.advance(7 * HOUR * 1000);
    const stale = await t.engine.startRun({
      key: 'k-stale',
      actor: { user: 'U0ALICE' },
      runbook: 'drill',
    });
    await t.engine.idle();
    expect((await t.engine.getRun(stale.runId)).current?.summary).toMatch(
      /^s3:\/\/company-backups-dr\/drill\/: newest backup is 7h( \d+s)? old, older than max_age 6h$/,
    );
    await t.engine.abortRun({
      key: 'abort-stale',
      actor: { user: 'U0ALICE' },
      runId: stale.runId,
      reason: 'seen',
    });
    await putObject(client, 'company-backups-dr', 'drill/2026-11-25.dump', Buffer.alloc(100, 1));
    clock.set((await storeNow(client, 'company-backups-dr')).toISOString());
    const bad = await t.engine.startRun({
      key: 'k2',
      actor: { user: 'U0ALICE' },
      runbook: 'drill',
    });
    await t.engine.idle();
    const failed = await t.engine.getRun(bad.runId);
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
