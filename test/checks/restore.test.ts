// Restore tests against real things: a pg_dump of a real PostgreSQL, stored in s3rver, restored
// into a throwaway instance by pg_restore.

import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config.js';
import { restoreTest } from '../../src/checks/restore.js';
import { PG_BIN, startPostgresPair } from '../../src/providers/postgres/servers.js';
import { createS3BackupStore } from '../../src/providers/aws/s3.js';
import { sql } from '../support/pg-pair.js';
import { putObject, storeNow, useS3rver } from '../support/s3.js';
import { makeTempDir } from '../support/tmp.js';

const s3 = useS3rver(['restore-backups']);

describe('the restore test', () => {
  it('restores a real pg_dump into a throwaway PostgreSQL and compares row counts with the dump itself and with an older backup’s, never with the live primary; a corrupt dump or rotten bytes fail', async () => {
    const pair = await startPostgresPair();
    try {
      await sql(
        pair.primary.url,
        'CREATE TABLE payments (id serial PRIMARY KEY, amount int); CREATE TABLE accounts (id int)',
      );
      await sql(
        pair.primary.url,
        'INSERT INTO payments (amount) SELECT g FROM generate_series(1, 2500) g; INSERT INTO accounts VALUES (1), (2)',
      );
      const dump = path.join(makeTempDir(), 'payments.dump');
      await promisify(execFile)(path.join(PG_BIN, 'pg_dump'), [
        '-Fc',
        '-h',
        '127.0.0.1',
        '-p',
        String(pair.primary.port),
        '-U',
        'postgres',
        '-f',
        dump,
        'postgres',
      ]);
      const bytes = readFileSync(dump);
      await putObject(s3.client(), 'restore-backups', 'pg/2026-11-23.dump', bytes);

      const config = parseConfig(
        `services:
  payments-db:
    rto: 15m
    rpo: 1m
    database: { provider: postgres, primary: "${pair.primary.url}", replica: "${pair.standby.url}" }
    backups:
      provider: s3
      bucket: restore-backups
      prefix: pg/
      region: us-west-2
      endpoint: "${s3.endpoint()}"
      max_age: 6h
      restore_test: { expected_tables: [payments, accounts, ledger_entries], row_tolerance: 0.05 }
`,
        path.join(makeTempDir(), 'lifeboat.yml'),
      );
      const service = config.services['payments-db']!;
      const now = await storeNow(s3.client(), 'restore-backups');
      const store = createS3BackupStore(service.backups!, {
        client: s3.client(),
        retry: { attempts: 1 },
      });

      const missingTable = await restoreTest(service, store, {
        pick: 'newest',
        withinSeconds: null,
        now,
      });
      expect(missingTable).toMatchObject({
        ok: false,
        key: 'pg/2026-11-23.dump',
        bytes: bytes.length,
        tables: { payments: 2500, accounts: 2 },
      });
      expect(missingTable.summary).toContain('expected table ledger_entries is missing');

      service.backups!.restore_test.expected_tables = ['payments', 'accounts'];
      const good = await restoreTest(service, store, {
        pick: 'newest',
        withinSeconds: null,
        now,
      });
      expect(good).toMatchObject({ ok: true, state: 'ok', rowsCompared: true });
      // How fast a backup comes back is measured, so a backup-restore RTO is not a guess.
      expect(good.megabytesPerSecond).toBeGreaterThan(0);
      expect(good.downloadSeconds + good.restoreSeconds).toBeGreaterThan(0);
      expect(good.summary).toMatch(
        /^pg\/2026-11-23\.dump: \d+ bytes restored in \d+s \(download \d+s, [\d.]+ MB\/s with the download\); accounts \(2 rows\), payments \(2500 rows\); row counts match the dump; MD5 [0-9a-f]{32} matches the ETag$/,
      );

      // The live primary moves on; yesterday's backup is still good (it is never the yardstick).
      await sql(
        pair.primary.url,
        'INSERT INTO payments (amount) SELECT g FROM generate_series(1, 1000) g',
      );
      const afterWrites = await restoreTest(service, store, {
        pick: 'newest',
        withinSeconds: null,
        now,
      });
      expect(afterWrites.ok).toBe(true);

      // …and with the primary down, the restore test still compares: with the dump itself.
      const primaryDown = await restoreTest(
        {
          ...service,
          database: { ...service.database, primary: 'postgres://127.0.0.1:1/none' },
        } as typeof service,
        store,
        { pick: 'newest', withinSeconds: null, now },
      );
      expect(primaryDown).toMatchObject({ ok: true, rowsCompared: true });

      // A table that shrank since the restore test of an older backup is a failure.
      const shrunk = await restoreTest(service, store, {
        pick: 'newest',
        withinSeconds: null,
        now,
        previous: {
          key: 'pg/2026-11-22.dump',
          lastModified: new Date(Date.parse(good.lastModified!) - 86_400_000).toISOString(),
          tables: { payments: 5000, accounts: 2 },
        },
      });
      expect(shrunk.ok).toBe(false);
      expect(shrunk.summary).toContain(
        'payments has 2500 rows, 5000 in the older backup pg/2026-11-22.dump (more than 5% fewer)',
      );

      await putObject(
        s3.client(),
        'restore-backups',
        'pg/2026-11-24.dump',
        bytes.subarray(0, Math.floor(bytes.length / 2)),
      );
      const corrupt = await restoreTest(service, store, {
        pick: 'newest',
        withinSeconds: null,
        now,
      });
      expect(corrupt).toMatchObject({
        ok: false,
        key: 'pg/2026-11-24.dump',
        state: 'restore failed',
      });
      expect(corrupt.summary).toMatch(/^pg\/2026-11-24\.dump did not restore: pg_restore: error: /);

      // Bit rot on the store's disk: the bytes no longer match the ETag recorded at upload.
      await putObject(s3.client(), 'restore-backups', 'pg/2026-11-25.dump', bytes);
      const rotten = Buffer.from(bytes);
      const middle = Math.floor(rotten.length / 2);
      rotten[middle] = (rotten[middle] ?? 0) ^ 0xff;
      writeFileSync(s3.objectFile('restore-backups', 'pg/2026-11-25.dump'), rotten);
      const rot = await restoreTest(service, store, {
        pick: 'newest',
        withinSeconds: null,
        now: await storeNow(s3.client(), 'restore-backups'),
      });
      expect(rot).toMatchObject({
        ok: false,
        key: 'pg/2026-11-25.dump',
        state: 'checksum mismatch',
      });
      expect(rot.summary).toContain('checksum mismatch: the downloaded bytes hash to MD5');

      const random = await restoreTest(service, store, {
        pick: 'random',
        withinSeconds: 30 * 86_400,
        now,
        random: () => 0.99,
      });
      expect(random.key).toBe('pg/2026-11-23.dump');
    } finally {
      await pair.stop();
    }
  }, 180_000);
});
