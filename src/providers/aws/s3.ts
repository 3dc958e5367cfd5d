// Backups in S3 or any S3-compatible store: list what is under the prefix, newest first, and read
// one object's size and checksum. Checksums are only computed when S3 requires them
// (requestChecksumCalculation: WHEN_REQUIRED): with the SDK default, streamed uploads to
// S3-compatible stores keep the chunk framing inside the object.

import {
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { createWriteStream, statSync } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ProviderError } from '../../errors.js';
import { ANCHOR_PREFIX, type BackupObject, type BackupStore } from '../types.js';
import { withAwsRetry, type RetryOptions } from './retry.js';

export interface S3Backups {
  bucket: string;
  prefix: string;
  region: string;
  endpoint?: string;
}

/** s3rver's fixed key pair: local mode, tests and benchmarks talk to it with these. */
export const S3RVER_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

/** Without `credentials`, the SDK's default chain (AWS). */
export function createS3Client(
  backups: Pick<S3Backups, 'region' | 'endpoint'>,
  credentials?: { accessKeyId: string; secretAccessKey: string },
): S3Client {
  return new S3Client({
    region: backups.region,
    maxAttempts: 1,
    ...(credentials ? { credentials } : {}),
    ...(backups.endpoint ? { endpoint: backups.endpoint, forcePathStyle: true } : {}),
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

export function createS3BackupStore(
  backups: S3Backups,
  options: { client: S3Client; retry?: RetryOptions },
): BackupStore {
  const name = `s3://${backups.bucket}/${backups.prefix}`;
  return {
    name,
    async listBackups() {
      const objects: BackupObject[] = [];
      let token: string | undefined;
      do {
        const page = await withAwsRetry(
          name,
          () =>
            options.client.send(
              new ListObjectsV2Command({
                Bucket: backups.bucket,
                Prefix: backups.prefix || undefined,
                ContinuationToken: token,
              }),
            ),
          options.retry,
        );
        for (const object of page.Contents ?? []) {
          if (!object.Key || object.Key.endsWith('/') || object.Key.startsWith(ANCHOR_PREFIX))
            continue;
          objects.push({
            key: object.Key,
            size: object.Size ?? 0,
            lastModified: object.LastModified ?? new Date(0),
            etag: object.ETag ?? null,
            checksum: null,
          });
        }
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
      return objects.sort(
        (a, b) => b.lastModified.getTime() - a.lastModified.getTime() || b.key.localeCompare(a.key),
      );
    },
    async downloadBackup(key, file) {
      const object = await withAwsRetry(
        `s3://${backups.bucket}/${key}`,
        () => options.client.send(new GetObjectCommand({ Bucket: backups.bucket, Key: key })),
        options.retry,
      );
      if (!(object.Body instanceof Readable))
        throw new ProviderError(
          `s3://${backups.bucket}/${key}`,
          'GetObject returned no body',
          false,
        );
      await pipeline(object.Body, createWriteStream(file));
      return statSync(file).size;
    },
    async putAnchor(name, body) {
      const key = `${ANCHOR_PREFIX}${name}`;
      await withAwsRetry(
        `s3://${backups.bucket}/${key}`,
        () =>
          options.client.send(
            new PutObjectCommand({
              Bucket: backups.bucket,
              Key: key,
              Body: body,
              ContentType: 'application/json',
            }),
          ),
        options.retry,
      );
      return `s3://${backups.bucket}/${key}`;
    },
    async headBackup(key) {
      const head = await withAwsRetry(
        `s3://${backups.bucket}/${key}`,
        () =>
          options.client.send(
            new HeadObjectCommand({ Bucket: backups.bucket, Key: key, ChecksumMode: 'ENABLED' }),
          ),
        options.retry,
      );
      const checksum =
        head.ChecksumSHA256 ??
        head.ChecksumCRC64NVME ??
        head.ChecksumCRC32C ??
        head.ChecksumCRC32 ??
        head.ChecksumSHA1 ??
        null;
      return {
        key,
        size: head.ContentLength ?? 0,
        lastModified: head.LastModified ?? new Date(0),
        etag: head.ETag ?? null,
        checksum,
      };
    },
  };
}
