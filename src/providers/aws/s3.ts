// Backups in S3 or any S3-compatible store: list what is under the prefix, newest first, and read
// one object's size and checksum. Checksums are only computed when S3 requires them
// (requestChecksumCalculation: WHEN_REQUIRED): with the SDK default, streamed uploads to
// S3-compatible stores keep the chunk framing inside the object.

import type { GetObjectCommandOutput, S3Client } from '@aws-sdk/client-s3';
import { s3Sdk } from './sdk.js';
import { createHash, type Hash } from 'node:crypto';
import { createWriteStream, statSync } from 'node:fs';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ChecksumMismatch, ProviderError } from '../../errors.js';
import {
  ANCHOR_PREFIX,
  MANIFEST_SUFFIX,
  type BackupDownload,
  type BackupManifest,
  type BackupObject,
  type BackupStore,
} from '../types.js';
import { uploadStreamed } from './s3-upload.js';
import { namingCalls, withAwsRetry, type RetryOptions } from './retry.js';
import { streamHandler, type AwsTimeouts } from './timeouts.js';

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
  timeouts?: AwsTimeouts,
): S3Client {
  return namingCalls(
    new (s3Sdk().S3Client)({
      region: backups.region,
      maxAttempts: 1,
      requestHandler: streamHandler(timeouts),
      ...(credentials ? { credentials } : {}),
      // A replicated copy lives in another region: S3 answers a request sent to the wrong one with
      // a redirect, which the SDK follows only when asked.
      ...(backups.endpoint
        ? { endpoint: backups.endpoint, forcePathStyle: true }
        : { followRegionRedirects: true }),
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    }),
  );
}

export function createS3BackupStore(
  backups: S3Backups,
  options: { client: S3Client; retry?: RetryOptions },
): BackupStore {
  const name = `s3://${backups.bucket}/${backups.prefix}`;
  const store: BackupStore = {
    name,
    async listBackups() {
      const objects: BackupObject[] = [];
      let token: string | undefined;
      do {
        const page = await withAwsRetry(
          name,
          () =>
            options.client.send(
              new (s3Sdk().ListObjectsV2Command)({
                Bucket: backups.bucket,
                Prefix: backups.prefix || undefined,
                ContinuationToken: token,
              }),
            ),
          options.retry,
        );
        for (const object of page.Contents ?? []) {
          if (
            !object.Key ||
            object.Key.endsWith('/') ||
            object.Key.startsWith(ANCHOR_PREFIX) ||
            object.Key.endsWith(MANIFEST_SUFFIX)
          )
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
      const where = `s3://${backups.bucket}/${key}`;
      const object = await withAwsRetry(
        where,
        () =>
          options.client.send(
            new (s3Sdk().GetObjectCommand)({
              Bucket: backups.bucket,
              Key: key,
              ChecksumMode: 'ENABLED',
            }),
          ),
        options.retry,
      );
      if (!(object.Body instanceof Readable))
        throw new ProviderError(where, 'GetObject returned no body', false);
      const md5 = createHash('md5');
      const sha256 = createHash('sha256');
      const hashing = new Transform({
        transform(chunk: Buffer, _encoding, done) {
          md5.update(chunk);
          sha256.update(chunk);
          done(null, chunk);
        },
      });
      const manifest = await store.readManifest(key);
      await pipeline(object.Body, hashing, createWriteStream(file));
      const bytes = statSync(file).size;
      if (manifest) {
        // lifeboat took it: the SHA-256 it computed while uploading covers multipart and KMS too.
        const actual = sha256.copy().digest('hex');
        if (bytes !== manifest.bytes || actual !== manifest.sha256)
          throw new ChecksumMismatch(
            where,
            `the downloaded bytes (${bytes}, SHA-256 ${actual}) are not what lifeboat uploaded on ${manifest.finishedAt.slice(0, 16).replace('T', ' ')} (${manifest.bytes}, SHA-256 ${manifest.sha256}). The backup is corrupt.`,
          );
        checkIntegrity(where, object, bytes, md5, sha256); // the store's own record must agree too
        return {
          bytes,
          manifest,
          integrity: {
            verified: true,
            method: 'sha256',
            detail: `SHA-256 ${actual} matches the manifest written when lifeboat took it`,
          },
        };
      }
      return {
        bytes,
        manifest: null,
        integrity: checkIntegrity(where, object, bytes, md5, sha256),
      };
    },
    uploadBackup(key, body, uploadOptions) {
      return uploadStreamed(
        { client: options.client, bucket: backups.bucket, key, retry: options.retry },
        body,
        uploadOptions,
      );
    },
    async readManifest(key) {
      const where = `s3://${backups.bucket}/${key}${MANIFEST_SUFFIX}`;
      const object = await withAwsRetry(
        where,
        () =>
          options.client
            .send(
              new (s3Sdk().GetObjectCommand)({
                Bucket: backups.bucket,
                Key: `${key}${MANIFEST_SUFFIX}`,
              }),
            )
            .catch((error: unknown) => {
              if ((error as { name?: string }).name === 'NoSuchKey') return null;
              throw error;
            }),
        options.retry,
      );
      if (!object?.Body) return null;
      const text = await object.Body.transformToString();
      try {
        const manifest = JSON.parse(text) as BackupManifest;
        if (manifest.format !== 'lifeboat-backup/1' || typeof manifest.sha256 !== 'string')
          throw new Error(`format ${String(manifest.format)}`);
        return manifest;
      } catch (error) {
        throw new ProviderError(
          where,
          `the backup's manifest is unreadable (${(error as Error).message}): it was edited or cut short`,
          false,
        );
      }
    },
    async writeManifest(manifest) {
      const key = `${manifest.key}${MANIFEST_SUFFIX}`;
      const body = JSON.stringify(manifest, null, 2);
      await withAwsRetry(
        `s3://${backups.bucket}/${key}`,
        () =>
          options.client.send(
            new (s3Sdk().PutObjectCommand)({
              Bucket: backups.bucket,
              Key: key,
              Body: body,
              ContentType: 'application/json',
              ChecksumSHA256: createHash('sha256').update(body).digest('base64'),
            }),
          ),
        options.retry,
      );
    },
    async deleteBackup(key) {
      for (const each of [key, `${key}${MANIFEST_SUFFIX}`])
        await withAwsRetry(
          `s3://${backups.bucket}/${each}`,
          () =>
            options.client.send(
              new (s3Sdk().DeleteObjectCommand)({ Bucket: backups.bucket, Key: each }),
            ),
          options.retry,
        );
    },
    async putAnchor(name, body) {
      const key = `${ANCHOR_PREFIX}${name}`;
      await withAwsRetry(
        `s3://${backups.bucket}/${key}`,
        () =>
          options.client.send(
            new (s3Sdk().PutObjectCommand)({
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
            new (s3Sdk().HeadObjectCommand)({
              Bucket: backups.bucket,
              Key: key,
              ChecksumMode: 'ENABLED',
            }),
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
        replication: head.ReplicationStatus ?? null,
      };
    },
    async replicaOf(key) {
      const where = `s3://${backups.bucket}`;
      const config = await withAwsRetry(
        where,
        () =>
          options.client
            .send(new (s3Sdk().GetBucketReplicationCommand)({ Bucket: backups.bucket }))
            .catch((error: unknown) => {
              // A bucket that does not replicate says so with this error.
              if ((error as { name?: string }).name === 'ReplicationConfigurationNotFoundError')
                return null;
              throw error;
            }),
        options.retry,
      );
      const rule = config?.ReplicationConfiguration?.Rules?.find(
        (candidate) =>
          candidate.Status === 'Enabled' &&
          key.startsWith(
            candidate.Filter?.Prefix ?? candidate.Filter?.And?.Prefix ?? candidate.Prefix ?? '',
          ),
      );
      const bucket = rule?.Destination?.Bucket?.replace(/^arn:[^:]+:s3:::/, '');
      if (!bucket) return null;
      const head = await withAwsRetry(
        `s3://${bucket}/${key}`,
        () =>
          options.client
            .send(new (s3Sdk().HeadObjectCommand)({ Bucket: bucket, Key: key }))
            .catch((error: unknown) => {
              if ((error as { name?: string }).name === 'NotFound') return null;
              throw error;
            }),
        options.retry,
      );
      return {
        bucket,
        copy: head
          ? {
              key,
              size: head.ContentLength ?? 0,
              lastModified: head.LastModified ?? new Date(0),
              etag: head.ETag ?? null,
              checksum: null,
              replication: head.ReplicationStatus ?? null,
            }
          : null,
      };
    },
    async region() {
      if (backups.endpoint) return null; // an S3-compatible store: no AWS region to compare
      const output = await withAwsRetry(
        `s3://${backups.bucket}`,
        () =>
          options.client.send(new (s3Sdk().GetBucketLocationCommand)({ Bucket: backups.bucket })),
        options.retry,
      );
      // S3 answers nothing for us-east-1, and "EU" for the oldest eu-west-1 buckets.
      const constraint = output.LocationConstraint as string | undefined;
      return !constraint ? 'us-east-1' : constraint === 'EU' ? 'eu-west-1' : constraint;
    },
  };
  return store;
}

/**
 * The downloaded bytes against the store's own record: length, then the full-object SHA-256 when
 * the store keeps one, else the ETag when it is a plain MD5 (single-part upload, not SSE-KMS).
 */
export function checkIntegrity(
  where: string,
  object: Pick<
    GetObjectCommandOutput,
    'ContentLength' | 'ChecksumSHA256' | 'ChecksumType' | 'ETag' | 'ServerSideEncryption'
  >,
  bytes: number,
  md5: Hash,
  sha256: Hash,
): BackupDownload['integrity'] {
  if (object.ContentLength !== undefined && object.ContentLength !== bytes)
    throw new ProviderError(
      where,
      `downloaded ${bytes} bytes, the store says the object has ${object.ContentLength}: the download is incomplete`,
      false,
    );
  if (
    object.ChecksumSHA256 &&
    object.ChecksumType !== 'COMPOSITE' &&
    !object.ChecksumSHA256.includes('-')
  ) {
    const actual = sha256.digest('base64');
    if (actual !== object.ChecksumSHA256)
      throw new ChecksumMismatch(
        where,
        `the downloaded bytes hash to SHA-256 ${actual}, the store recorded ${object.ChecksumSHA256}. The backup is corrupt (or was replaced without its checksum).`,
      );
    return {
      verified: true,
      method: 'sha256',
      detail: `SHA-256 ${actual} matches the store's checksum`,
    };
  }
  const etag = object.ETag?.replace(/"/g, '') ?? '';
  if (
    /^[0-9a-f]{32}$/i.test(etag) &&
    object.ServerSideEncryption !== 'aws:kms' &&
    object.ServerSideEncryption !== 'aws:kms:dsse'
  ) {
    const actual = md5.digest('hex');
    if (actual !== etag.toLowerCase())
      throw new ChecksumMismatch(
        where,
        `the downloaded bytes hash to MD5 ${actual}, the store's ETag says ${etag}. The backup is corrupt.`,
      );
    return { verified: true, method: 'md5-etag', detail: `MD5 ${actual} matches the ETag` };
  }
  return {
    verified: false,
    method: null,
    detail: `integrity not checked: the store keeps no full-object SHA-256 for it and its ETag (${etag || 'none'}) is not a plain MD5 (multipart upload or KMS encryption); upload backups with a SHA-256 checksum to have them checked`,
  };
}
