// How an upload is read back, for what s3rver never answers: AWS's composite SHA-256 of a
// multipart upload, its MD5-of-MD5s ETag, a KMS-encrypted object's opaque ETag. Each answer is the
// one S3 documents for the case; a mismatch fails.

import { HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { readBackUpload } from '../../src/providers/aws/s3-upload.js';

const s3 = mockClient(S3Client);
afterEach(() => s3.reset());

const parts = [Buffer.alloc(6 * 1024 * 1024, 1), Buffer.alloc(1000, 2)];
const digest = (algorithm: string, data: Buffer) => createHash(algorithm).update(data).digest();
const whole = Buffer.concat(parts);
const sent = {
  bytes: whole.length,
  sha256: digest('sha256', whole),
  md5: digest('md5', whole),
  parts: parts.map((part) => ({ md5: digest('md5', part), sha256: digest('sha256', part) })),
};
const target = { client: new S3Client({ region: 'us-west-2' }), bucket: 'b', key: 'pg/x.dump' };
const compositeSha = `${digest('sha256', Buffer.concat(sent.parts.map((p) => p.sha256))).toString('base64')}-2`;
const multipartEtag = `"${digest('md5', Buffer.concat(sent.parts.map((p) => p.md5))).toString('hex')}-2"`;

describe('reading an upload back', () => {
  it("matches S3's composite SHA-256 of the parts, and a multipart MD5 ETag", async () => {
    s3.on(HeadObjectCommand).resolves({
      ContentLength: whole.length,
      ChecksumSHA256: compositeSha,
      ChecksumType: 'COMPOSITE',
      ETag: multipartEtag,
    });
    expect(await readBackUpload(target, sent)).toEqual({
      verified: true,
      detail: "S3's SHA-256 of the 2 parts read back and matches",
    });
    expect(s3.commandCalls(HeadObjectCommand)[0]!.args[0].input).toMatchObject({
      ChecksumMode: 'ENABLED',
    });
    s3.on(HeadObjectCommand).resolves({ ContentLength: whole.length, ETag: multipartEtag });
    expect(await readBackUpload(target, sent)).toEqual({
      verified: true,
      detail: 'size and MD5 ETag read back and match',
    });
  });

  it('fails when the size or a checksum differs, and says when nothing could be compared', async () => {
    s3.on(HeadObjectCommand).resolves({ ContentLength: whole.length - 1, ETag: multipartEtag });
    await expect(readBackUpload(target, sent)).rejects.toThrow(
      `uploaded ${whole.length} bytes, the store holds ${whole.length - 1}: the upload was cut short`,
    );
    s3.on(HeadObjectCommand).resolves({
      ContentLength: whole.length,
      ChecksumSHA256: `${Buffer.alloc(32).toString('base64')}-2`,
    });
    await expect(readBackUpload(target, sent)).rejects.toThrow(/the upload is corrupt/);
    s3.on(HeadObjectCommand).resolves({
      ContentLength: whole.length,
      ETag: '"0123456789abcdef0123456789abcdef-2"',
    });
    await expect(readBackUpload(target, sent)).rejects.toThrow(
      /the store's ETag \(0123456789abcdef0123456789abcdef-2\) is not the MD5 of the bytes sent/,
    );
    s3.on(HeadObjectCommand).resolves({
      ContentLength: whole.length,
      ETag: '"9f1c0e2a7b3d4e5f6a7b8c9d0e1f2a3b"',
      ServerSideEncryption: 'aws:kms',
    });
    expect(await readBackUpload(target, sent)).toEqual({
      verified: false,
      detail:
        'size read back and matches; checksum not read back: the store returned no SHA-256 and its ETag (9f1c0e2a7b3d4e5f6a7b8c9d0e1f2a3b) is not an MD5 of the bytes (KMS encryption)',
    });
  });
});
