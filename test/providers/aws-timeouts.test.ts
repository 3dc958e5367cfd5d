// A region that accepts connections and never answers — the disaster lifeboat exists for — must
// not freeze a step: every AWS client lifeboat builds gives up (connect, request, or a silent
// stream), and the step hears which resource in which region did not answer, and that it may be
// retried. Against a real loopback server that accepts and stays silent, over the SDK's own HTTP.

import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config.js';
import { ProviderError } from '../../src/errors.js';
import { createServiceProviders } from '../../src/providers/index.js';

const SHORT = { connectMs: 200, requestMs: 300, streamIdleMs: 300 };

describe('AWS calls into a region that never answers', () => {
  let server: Server;
  const sockets: Socket[] = [];
  const saved = { ...process.env };

  beforeAll(async () => {
    server = createServer((socket) => sockets.push(socket)); // accepts, reads, never writes
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    Object.assign(process.env, {
      AWS_ENDPOINT_URL: `http://127.0.0.1:${port}`,
      AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
      AWS_SECRET_ACCESS_KEY: 'secret',
    });
  });
  afterAll(async () => {
    process.env = saved;
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
  });

  const service = parseConfig(
    `services:
  orders-db:
    rto: 30m
    rpo: 5m
    database:
      provider: aws-rds
      primary: { id: production-primary, region: us-east-1 }
      replica: { id: production-dr, region: us-west-2 }
      fence: { mode: security-group, fence_security_group_ids: [sg-0fe0ce] }
    backups: { provider: s3, bucket: orders-backups, prefix: pg/, region: us-west-2, max_age: 6h }
`,
    '/x/lifeboat.yml',
  ).services['orders-db']!;

  it('gives up on RDS and says which instance in which region did not answer', async () => {
    const providers = createServiceProviders(service, 'failover', { awsTimeouts: SHORT });
    const failure = await providers.database!.preflight().then(
      () => null,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(ProviderError);
    expect((failure as Error).message).toMatch(
      /^RDS production-dr \(us-west-2\): DescribeDBInstances did not answer in time — the region may be down or cut off; the step can be retried: TimeoutError: .* \(after 6 attempts\)$/,
    );
    expect(sockets.length).toBeGreaterThanOrEqual(6); // each attempt reached the silent region
  }, 20_000);

  it('gives up on S3 when the stream stays silent', async () => {
    const providers = createServiceProviders(service, 'restore-test', { awsTimeouts: SHORT });
    await expect(providers.backups!.listBackups()).rejects.toThrow(
      /s3:\/\/orders-backups\/pg\/: ListObjectsV2 did not answer in time .*TimeoutError/,
    );
  }, 20_000);
});
