// Local mode's world under .lifeboat/: created once, reused on the next start, wiped by reset.

import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import {
  LOCAL_BUCKET,
  resetLocalEnvironment,
  startLocalEnvironment,
} from '../../src/local/environment.js';
import {
  createS3BackupStore,
  createS3Client,
  S3RVER_CREDENTIALS,
} from '../../src/providers/aws/s3.js';
import { sql, waitFor } from '../support/pg-pair.js';
import { makeTempDir } from '../support/tmp.js';

const runbooks = path.resolve(import.meta.dirname, '../../runbooks');

describe('the local environment', () => {
  it('creates a pair, a store with a real backup and a config; reuses them on the next start; reset wipes them', async () => {
    const parent = makeTempDir();
    chmodSync(parent, 0o755); // like a checkout: the postgres user may walk through it
    const dir = path.join(parent, '.lifeboat');
    const first = await startLocalEnvironment(dir, runbooks);
    let second: Awaited<ReturnType<typeof startLocalEnvironment>> | null = null;
    try {
      const config = loadConfig({ LIFEBOAT_CONFIG: first.configFile });
      expect(config.services['payments-db']?.database).toEqual({
        provider: 'postgres',
        primary: first.pair.primary.url,
        replica: first.pair.standby.url,
      });
      expect(config.approvals.approvers).toEqual(['U0ALICE', 'U0BOB']);
      expect(await sql(first.pair.primary.url, 'SELECT count(*)::int AS n FROM payments')).toEqual([
        { n: 100 },
      ]);
      await waitFor(
        async () =>
          (
            await sql<{ n: number }>(
              first.pair.standby.url,
              'SELECT count(*)::int AS n FROM payments',
            ).catch(() => [{ n: 0 }])
          )[0]!.n === 100,
        'the standby to have the rows',
      );

      const client = createS3Client(
        { region: 'us-west-2', endpoint: first.s3Endpoint },
        S3RVER_CREDENTIALS,
      );
      const backups = await createS3BackupStore(
        {
          bucket: LOCAL_BUCKET,
          prefix: 'postgres/',
          region: 'us-west-2',
          endpoint: first.s3Endpoint,
        },
        { client },
      ).listBackups();
      expect(backups).toHaveLength(1);
      expect(backups[0]!.size).toBeGreaterThan(1000);

      await sql(first.pair.primary.url, 'INSERT INTO payments (amount) VALUES (4242)');
      const ports = readFileSync(path.join(dir, 'state.json'), 'utf8');
      await first.stop();

      second = await startLocalEnvironment(dir, runbooks);
      expect(readFileSync(path.join(dir, 'state.json'), 'utf8')).toBe(ports);
      expect(second.pair.primary.url).toBe(first.pair.primary.url);
      expect(await sql(second.pair.primary.url, 'SELECT count(*)::int AS n FROM payments')).toEqual(
        [{ n: 101 }],
      );
      await second.stop();
      second = null;

      const busy = createServer();
      const s3Port = (JSON.parse(ports) as { ports: { s3: number } }).ports.s3;
      await new Promise<void>((resolve) => busy.listen(s3Port, '127.0.0.1', resolve));
      await expect(startLocalEnvironment(dir, runbooks)).rejects.toThrow(
        `port ${s3Port} (s3) is taken`,
      );
      await new Promise((resolve) => busy.close(resolve));

      writeFileSync(path.join(dir, 'state.json'), JSON.stringify({ version: 99, ports: {} }));
      await expect(startLocalEnvironment(dir, runbooks)).rejects.toThrow(
        /made by another version of lifeboat's local mode .*lifeboat local reset/,
      );

      await resetLocalEnvironment(dir);
      expect(existsSync(dir)).toBe(false);

      if (process.getuid?.() === 0) {
        // A checkout the postgres user cannot walk into (0700, like /root): the data goes to
        // /var/tmp, and reset removes it there too.
        const hidden = path.join(makeTempDir(), '.lifeboat');
        const elsewhere = await startLocalEnvironment(hidden, runbooks);
        await elsewhere.stop();
        expect(elsewhere.pgRoot).toMatch(/^\/var\/tmp\/lifeboat-pg-[0-9a-f]{12}$/);
        expect(existsSync(path.join(elsewhere.pgRoot, 'primary', 'PG_VERSION'))).toBe(true);
        await resetLocalEnvironment(hidden);
        expect(existsSync(elsewhere.pgRoot)).toBe(false);
      }
    } finally {
      await second?.stop();
      await first.stop();
    }
  }, 120_000);
});
