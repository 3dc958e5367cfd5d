// Restore-test figures: lifeboat's restore test of a ~200 MB pg_dump (download from S3 — s3rver on
// loopback — to disk, throwaway PostgreSQL, pg_restore, sanity counts, drop) against a bare
// `pg_restore` of the same file into an identical fresh instance, in the same run.
//
//   npx tsx bench/restore.ts [megabytes]

import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import S3rver from 's3rver';
import pg from 'pg';
import { parseConfig } from '../src/config.js';
import { restoreTest } from '../src/checks/restore.js';
import { PG_BIN, startPostgresPair, startThrowawayServer } from '../src/local/postgres-pair.js';
import {
  createS3BackupStore,
  createS3Client,
  S3RVER_CREDENTIALS,
} from '../src/providers/aws/s3.js';
import { PutObjectCommand } from '@aws-sdk/client-s3';

const MEGABYTES = Number(process.argv[2] ?? 200);
const run = promisify(execFile);

const pair = await startPostgresPair();
const dir = mkdtempSync(path.join(tmpdir(), 'lifeboat-bench-restore-'));
const s3dir = mkdtempSync(path.join(tmpdir(), 'lifeboat-bench-s3-'));
const s3 = new S3rver({
  address: '127.0.0.1',
  port: 0,
  silent: true,
  directory: s3dir,
  configureBuckets: [{ name: 'bench' }],
});
try {
  const client = new pg.Client({ connectionString: pair.primary.url });
  await client.connect();
  // Rows of ~1 KB of incompressible-ish text, until the dump is about the size asked for.
  await client.query('CREATE TABLE payments (id bigserial PRIMARY KEY, amount int, memo text)');
  const rows = MEGABYTES * 1000;
  await client.query(
    `INSERT INTO payments (amount, memo) SELECT s.i, (SELECT string_agg(md5(random()::text || s.i || t.j), '') FROM generate_series(1, 30) AS t(j)) FROM generate_series(1, $1) AS s(i)`,
    [rows],
  );
  await client.end();
  const dump = path.join(dir, 'payments.dump');
  await run(path.join(PG_BIN, 'pg_dump'), [
    '-Fc',
    '-Z',
    '0',
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
  const bytes = statSync(dump).size;

  const address = await s3.run();
  const endpoint = `http://127.0.0.1:${address.port}`;
  const s3client = createS3Client({ region: 'us-west-2', endpoint }, S3RVER_CREDENTIALS);
  await s3client.send(
    new PutObjectCommand({ Bucket: 'bench', Key: 'pg/bench.dump', Body: readFileSync(dump) }),
  );

  const config = parseConfig(
    `services:\n  payments-db:\n    rto: 15m\n    rpo: 1m\n    database: { provider: postgres, primary: "${pair.primary.url}", replica: "${pair.standby.url}" }\n    backups: { provider: s3, bucket: bench, prefix: pg/, region: us-west-2, endpoint: "${endpoint}", max_age: 6h, restore_test: { expected_tables: [payments] } }\n`,
    path.join(dir, 'lifeboat.yml'),
  );
  const service = config.services['payments-db']!;
  const store = createS3BackupStore(service.backups!, { client: s3client });

  const bareStart = Date.now();
  const bare = await startThrowawayServer();
  const restoreStart = Date.now();
  await run(path.join(PG_BIN, 'pg_restore'), [
    '--exit-on-error',
    '--no-owner',
    '-h',
    '127.0.0.1',
    '-p',
    String(bare.server.port),
    '-U',
    'postgres',
    '-d',
    'postgres',
    dump,
  ]);
  const bareRestoreMs = Date.now() - restoreStart;
  await bare.stop();
  const bareTotalMs = Date.now() - bareStart;

  const oursStart = Date.now();
  const report = await restoreTest(service, store, {
    pick: 'newest',
    withinSeconds: null,
    now: new Date(),
  });
  const oursMs = Date.now() - oursStart;
  if (!report.ok) throw new Error(report.summary);

  console.log(`restore test of a ${(bytes / 1e6).toFixed(0)} MB pg_dump (${rows} rows)`);
  console.log(
    `  lifeboat restore test (S3 download + instance + pg_restore + counts + drop)  ${(oursMs / 1000).toFixed(1)} s (pg_restore itself ${report.restoreSeconds.toFixed(1)} s)`,
  );
  console.log(
    `  bare: instance + pg_restore of the local file + drop                          ${(bareTotalMs / 1000).toFixed(1)} s (pg_restore itself ${(bareRestoreMs / 1000).toFixed(1)} s)`,
  );
  console.log(
    `  ratio ${(oursMs / bareTotalMs).toFixed(2)}x end to end; pg_restore alone ${((report.restoreSeconds * 1000) / bareRestoreMs).toFixed(2)}x`,
  );
} finally {
  await s3.close().catch(() => undefined);
  await pair.stop();
  rmSync(dir, { recursive: true, force: true });
  rmSync(s3dir, { recursive: true, force: true });
}
