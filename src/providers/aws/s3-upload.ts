// A backup streamed into S3: one PutObject when it fits in a part, else a multipart upload of
// fixed-size parts, each sent with its own SHA-256 so S3 checks every part on arrival. The whole
// object's SHA-256 and MD5, and each part's, are computed on the way; afterwards the object's size
// and checksum are read back and compared — an upload that does not match is deleted, never left
// to pass as the newest backup.

import type { S3Client } from '@aws-sdk/client-s3';
import { createHash } from 'node:crypto';
import { ChecksumMismatch, ProviderError } from '../../errors.js';
import type { BackupUpload } from '../types.js';
import { withAwsRetry, type RetryOptions } from './retry.js';
import { s3Sdk } from './sdk.js';

/** S3's smallest part but the last is 5 MiB; 8 MiB keeps a 100 GB dump under its 10,000 parts. */
export const DEFAULT_PART_BYTES = 8 * 1024 * 1024;
const MIN_PART_BYTES = 5 * 1024 * 1024;

interface Target {
  client: S3Client;
  bucket: string;
  key: string;
  retry?: RetryOptions;
}

interface SentPart {
  PartNumber: number;
  ETag: string | undefined;
  ChecksumSHA256: string;
  md5: Buffer;
  sha256: Buffer;
}

export async function uploadStreamed(
  target: Target,
  body: AsyncIterable<Uint8Array>,
  options: { partBytes?: number; minPartBytes?: number; onProgress?: (bytes: number) => void } = {},
): Promise<BackupUpload> {
  const partBytes = Math.max(
    options.partBytes ?? DEFAULT_PART_BYTES,
    options.minPartBytes ?? MIN_PART_BYTES,
  );
  const where = `s3://${target.bucket}/${target.key}`;
  const sha256 = createHash('sha256');
  const md5 = createHash('md5');
  let bytes = 0;
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let uploadId: string | undefined;
  const parts: SentPart[] = [];
  const send = <T>(command: () => Promise<T>) => withAwsRetry(where, command, target.retry);

  const sendPart = async (data: Buffer) => {
    uploadId ??= (
      await send(() =>
        target.client.send(
          new (s3Sdk().CreateMultipartUploadCommand)({
            Bucket: target.bucket,
            Key: target.key,
            ContentType: 'application/octet-stream',
            ChecksumAlgorithm: 'SHA256',
          }),
        ),
      )
    ).UploadId;
    if (!uploadId)
      throw new ProviderError(where, 'CreateMultipartUpload returned no upload id', false);
    const part = {
      PartNumber: parts.length + 1,
      md5: createHash('md5').update(data).digest(),
      sha256: createHash('sha256').update(data).digest(),
    };
    const checksum = part.sha256.toString('base64');
    const sent = await send(() =>
      target.client.send(
        new (s3Sdk().UploadPartCommand)({
          Bucket: target.bucket,
          Key: target.key,
          UploadId: uploadId,
          PartNumber: part.PartNumber,
          Body: data,
          ContentLength: data.length,
          ChecksumSHA256: checksum,
        }),
      ),
    );
    parts.push({ ...part, ETag: sent.ETag, ChecksumSHA256: checksum });
  };

  try {
    for await (const chunk of body) {
      const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk);
      sha256.update(buffer);
      md5.update(buffer);
      bytes += buffer.length;
      pending.push(buffer);
      pendingBytes += buffer.length;
      while (pendingBytes >= partBytes) {
        const all = Buffer.concat(pending);
        await sendPart(all.subarray(0, partBytes));
        pending = [all.subarray(partBytes)];
        pendingBytes = all.length - partBytes;
        options.onProgress?.(bytes);
      }
    }
    const rest = Buffer.concat(pending);
    if (uploadId === undefined) {
      // Small enough for one request: the store keeps the whole object's SHA-256.
      await send(() =>
        target.client.send(
          new (s3Sdk().PutObjectCommand)({
            Bucket: target.bucket,
            Key: target.key,
            Body: rest,
            ContentLength: rest.length,
            ContentType: 'application/octet-stream',
            ChecksumSHA256: createHash('sha256').update(rest).digest('base64'),
          }),
        ),
      );
    } else {
      if (rest.length > 0) await sendPart(rest);
      await send(() =>
        target.client.send(
          new (s3Sdk().CompleteMultipartUploadCommand)({
            Bucket: target.bucket,
            Key: target.key,
            UploadId: uploadId,
            MultipartUpload: {
              Parts: parts.map(({ PartNumber, ETag, ChecksumSHA256 }) => ({
                PartNumber,
                ETag,
                ChecksumSHA256,
              })),
            },
          }),
        ),
      );
    }
  } catch (error) {
    if (uploadId !== undefined)
      await target.client
        .send(
          new (s3Sdk().AbortMultipartUploadCommand)({
            Bucket: target.bucket,
            Key: target.key,
            UploadId: uploadId,
          }),
        )
        .catch(() => undefined); // the bucket's lifecycle rule cleans what this cannot
    throw error;
  }
  options.onProgress?.(bytes);
  const sent = {
    bytes,
    sha256: sha256.digest(),
    md5: md5.digest(),
    parts,
  };
  let readBack: BackupUpload['readBack'];
  try {
    readBack = await readBackUpload(target, sent);
  } catch (error) {
    // Never leave bytes that do not match what was sent to pass as the newest backup.
    await target.client
      .send(new (s3Sdk().DeleteObjectCommand)({ Bucket: target.bucket, Key: target.key }))
      .catch(() => undefined);
    throw error;
  }
  return { bytes, sha256: sent.sha256.toString('hex'), parts: Math.max(parts.length, 1), readBack };
}

/**
 * The object as the store now describes it, against what was sent: its length, then its SHA-256
 * (whole, or S3's composite of the parts' SHA-256s), else its ETag (a plain MD5, or the MD5 of
 * the parts' MD5s for a multipart upload). Throws on a mismatch; says so when nothing compares.
 */
export async function readBackUpload(
  target: Target,
  sent: {
    bytes: number;
    sha256: Buffer;
    md5: Buffer;
    parts: readonly { md5: Buffer; sha256: Buffer }[];
  },
): Promise<BackupUpload['readBack']> {
  const where = `s3://${target.bucket}/${target.key}`;
  const head = await withAwsRetry(
    where,
    () =>
      target.client.send(
        new (s3Sdk().HeadObjectCommand)({
          Bucket: target.bucket,
          Key: target.key,
          ChecksumMode: 'ENABLED',
        }),
      ),
    target.retry,
  );
  if (head.ContentLength !== sent.bytes)
    throw new ChecksumMismatch(
      where,
      `uploaded ${sent.bytes} bytes, the store holds ${head.ContentLength ?? 'an unknown number of'}: the upload was cut short`,
    );
  const count = sent.parts.length;
  if (head.ChecksumSHA256) {
    const [stored, suffix] = head.ChecksumSHA256.split('-');
    const composite = suffix !== undefined || head.ChecksumType === 'COMPOSITE';
    const expected = composite
      ? createHash('sha256')
          .update(Buffer.concat(sent.parts.map((part) => part.sha256)))
          .digest('base64')
      : sent.sha256.toString('base64');
    if (stored !== expected)
      throw new ChecksumMismatch(
        where,
        `the store's SHA-256 (${head.ChecksumSHA256}) is not that of the bytes sent (${expected}): the upload is corrupt`,
      );
    return {
      verified: true,
      detail: composite
        ? `S3's SHA-256 of the ${count} parts read back and matches`
        : 'SHA-256 read back from the store and matches',
    };
  }
  const etag = head.ETag?.replace(/"/g, '') ?? '';
  const plain = /^[0-9a-f]{32}$/i.test(etag);
  const multipart = /^[0-9a-f]{32}-\d+$/i.test(etag);
  const encrypted =
    head.ServerSideEncryption === 'aws:kms' || head.ServerSideEncryption === 'aws:kms:dsse';
  if ((plain || multipart) && !encrypted) {
    const expected = plain
      ? sent.md5.toString('hex')
      : `${createHash('md5')
          .update(Buffer.concat(sent.parts.map((part) => part.md5)))
          .digest('hex')}-${count}`;
    if (etag.toLowerCase() !== expected)
      throw new ChecksumMismatch(
        where,
        `the store's ETag (${etag}) is not the MD5 of the bytes sent (${expected}): the upload is corrupt`,
      );
    return { verified: true, detail: `size and MD5 ETag read back and match` };
  }
  return {
    verified: false,
    detail: `size read back and matches; checksum not read back: the store returned no SHA-256 and its ETag (${etag || 'none'}) is not an MD5${encrypted ? ' of the bytes (KMS encryption)' : ''}`,
  };
}
