// A real S3-compatible server (s3rver) on loopback for a test file, and a client configured the
// way S3-compatible endpoints need (path style, checksums only when required).

import {
  DeleteObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import path from 'node:path';
import S3rver from 's3rver';
import { afterAll, beforeAll } from 'vitest';
import { createS3Client, S3RVER_CREDENTIALS } from '../../src/providers/aws/s3.js';
import { makeTempDirFor } from './tmp.js';

export function useS3rver(buckets: string[]): {
  endpoint(): string;
  client(): S3Client;
  /** Where s3rver keeps an object's bytes on disk (to corrupt one, as bit rot would). */
  objectFile(bucket: string, key: string): string;
} {
  let server: S3rver | null = null;
  let endpoint = '';
  let client: S3Client | null = null;
  const directory = makeTempDirFor('s3rver-');
  beforeAll(async () => {
    server = new S3rver({
      address: '127.0.0.1',
      port: 0,
      silent: true,
      directory,
      configureBuckets: buckets.map((name) => ({ name })),
    });
    const address = await server.run();
    endpoint = `http://127.0.0.1:${address.port}`;
    client = createS3Client({ region: 'us-west-2', endpoint }, S3RVER_CREDENTIALS);
  });
  afterAll(async () => {
    client?.destroy();
    await server?.close();
  });
  return {
    objectFile: (bucket, key) => path.join(directory, bucket, `${key}._S3rver_object`),
    endpoint: () => endpoint,
    client: () => {
      if (!client) throw new Error('s3rver is not running');
      return client;
    },
  };
}

/**
 * The time as the store keeps it: s3rver stamps objects with the file system's real clock, so a
 * test that judges backup ages sets its clock from here, never from `new Date()` (which a test
 * run shifted a year ahead would move, and the objects not).
 */
export async function storeNow(client: S3Client, bucket: string): Promise<Date> {
  const Key = `clock-probe-${Math.random().toString(36).slice(2)}`;
  await client.send(new PutObjectCommand({ Bucket: bucket, Key, Body: '' }));
  const head = await client.send(new HeadObjectCommand({ Bucket: bucket, Key }));
  await client.send(new DeleteObjectCommand({ Bucket: bucket, Key }));
  return head.LastModified ?? new Date(0);
}

export async function putObject(
  client: S3Client,
  bucket: string,
  key: string,
  body: Buffer | string,
): Promise<void> {
  await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
}
