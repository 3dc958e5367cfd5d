// Cross-region replication of the newest backup, as S3 reports it per object (HeadObject's
// ReplicationStatus) — a sequence moto does not produce, so the SDK is mocked at the client.

import {
  GetBucketLocationCommand,
  GetBucketReplicationCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  S3Client,
  type ReplicationStatus,
} from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { assessNewestBackup } from '../../src/actions/backup/verify.js';
import { createS3BackupStore } from '../../src/providers/aws/s3.js';

const s3 = mockClient(S3Client);
afterEach(() => s3.reset());

const now = new Date('2026-11-24T12:00:00Z');
const limits = { maxAgeSeconds: 86_400, rpoSeconds: 60 };

function bucket(region: string, status: ReplicationStatus | undefined, writtenMinutesAgo: number) {
  const lastModified = new Date(now.getTime() - writtenMinutesAgo * 60_000);
  s3.on(ListObjectsV2Command).resolves({
    Contents: [{ Key: 'postgres/orders-0001.dump', Size: 1000, LastModified: lastModified }],
  });
  s3.on(HeadObjectCommand).resolves({
    ContentLength: 1000,
    LastModified: lastModified,
    ETag: '"abc"',
    ReplicationStatus: status,
  });
  s3.on(GetBucketReplicationCommand).resolves({
    ReplicationConfiguration: {
      Role: 'arn:aws:iam::111122223333:role/replication',
      Rules: [
        {
          Status: 'Enabled',
          Filter: { Prefix: 'postgres/' },
          Destination: { Bucket: 'arn:aws:s3:::orders-backups-dr' },
        },
      ],
    },
  });
  s3.on(GetBucketLocationCommand).resolves({
    LocationConstraint: region === 'us-east-1' ? undefined : (region as never),
  });
  return createS3BackupStore(
    { bucket: 'orders-backups', prefix: 'postgres/', region, credentials: 'aws' } as never,
    { client: new S3Client({ region }), retry: { attempts: 1 } },
  );
}

describe('backups beside the primary, and their replication', () => {
  it("passes backups in the primary's region once S3 has replicated the newest one elsewhere", async () => {
    const assessment = await assessNewestBackup(
      bucket('us-east-1', 'COMPLETED', 10),
      limits,
      now,
      'us-east-1',
    );
    expect(assessment.ok).toBe(true);
    // The copy itself is read where the bucket's replication rule puts it.
    expect(assessment.placement).toEqual([
      'replicated to s3://orders-backups-dr/postgres/orders-0001.dump, the same 1000 bytes',
    ]);
    expect(s3.commandCalls(HeadObjectCommand).map((call) => call.args[0].input.Bucket)).toContain(
      'orders-backups-dr',
    );
  });

  it('fails a replication S3 calls COMPLETED whose copy is missing or of another size', async () => {
    const store = bucket('us-east-1', 'COMPLETED', 10);
    s3.on(HeadObjectCommand, { Bucket: 'orders-backups-dr' }).rejects(
      Object.assign(new Error('Not Found'), {
        name: 'NotFound',
        $metadata: { httpStatusCode: 404 },
      }),
    );
    const missing = await assessNewestBackup(store, limits, now, 'us-east-1');
    expect(missing.ok).toBe(false);
    expect(missing.problems).toContain(
      'S3 says postgres/orders-0001.dump is replicated (COMPLETED), but s3://orders-backups-dr/postgres/orders-0001.dump does not exist',
    );

    s3.on(HeadObjectCommand, { Bucket: 'orders-backups-dr' }).resolves({ ContentLength: 10 });
    const short = await assessNewestBackup(store, limits, now, 'us-east-1');
    expect(short.problems).toContain(
      'the copy s3://orders-backups-dr/postgres/orders-0001.dump holds 10 bytes, the backup 1000',
    );
  });

  it('fails them while it is not replicated: none at all, FAILED, or PENDING for over an hour', async () => {
    const cases: Array<[ReplicationStatus | undefined, number, string]> = [
      [undefined, 10, 'backups are in us-east-1 with the primary: a regional disaster takes both'],
      [
        'FAILED',
        10,
        'S3 could not replicate postgres/orders-0001.dump to the other region (FAILED)',
      ],
      [
        'PENDING',
        90,
        'postgres/orders-0001.dump is still not replicated to the other region 1h 30m after it was written (PENDING)',
      ],
    ];
    for (const [status, minutes, problem] of cases) {
      const assessment = await assessNewestBackup(
        bucket('us-east-1', status, minutes),
        limits,
        now,
        'us-east-1',
      );
      expect(assessment.ok).toBe(false);
      expect(assessment.problems.join('; ')).toContain(problem);
    }
  });

  it('lets a fresh replication be PENDING for a while', async () => {
    const assessment = await assessNewestBackup(
      bucket('us-west-2', 'PENDING', 5),
      limits,
      now,
      'us-east-1',
    );
    expect(assessment).toMatchObject({
      ok: true,
      placement: ['in us-west-2, away from the primary (us-east-1)'],
    });
  });
});
