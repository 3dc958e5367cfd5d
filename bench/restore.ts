// Restore-test figures: lifeboat's restore test of a pg_dump (download from S3 — s3rver on
// loopback — to disk with its MD5 checked, throwaway PostgreSQL, pg_restore, row counts against
// the dump's own data, drop) against a bare `pg_restore` with the same flags of the same local file
// into an identical fresh instance. The two sides alternate, after a warm-up of each, for ROUNDS
// rounds; min / median / max of each side and the ratio of the medians.
//
//   npm run bench            (or: npx tsx bench/restore.ts [megabytes] [rounds]; default 50 MB, 5)

import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import S3rver from 's3rver';
import pg from 'pg';
import { parseConfig } from '../src/config.js';
import { pgRestoreArgs, restoreTest } from '../src/checks/restore.js';
import {
  localServerArgs,
  PG_BIN,
  startPostgresPair,
  startThrowawayServer,
} from '../src/providers/postgres/servers.js';
import {
  createS3BackupStore,
  createS3Client,
  S3RVER_CREDENTIALS,
} from '../src/providers/aws/s3.js';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { formatRatio, formatSummary } from './stats.js';

const MEGABYTES = Number(process.argv[2] ?? 50);
const ROUNDS = Number(process.argv[3] ?? 5);
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
    ...localServerArgs(pair.primary.port),
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

  const bareSide = async (): Promise<number> => {
    const started = Date.now();
    const bare = await startThrowawayServer();
    try {
      await run(path.join(PG_BIN, 'pg_restore'), pgRestoreArgs(dump, bare.server.port));
    } finally {
      await bare.stop();
    }
    return Date.now() - started;
  };
  const oursSide = async (): Promise<number> => {
    const started = Date.now();
    const report = await restoreTest(service, store, {
      pick: 'newest',
      withinSeconds: null,
      now: new Date(),
    });
    if (!report.ok || !report.rowsCompared) throw new Error(report.summary);
    return Date.now() - started;
  };
  await oursSide(); // warm-up: page cache, binaries
  await bareSide();
  const ours: number[] = [];
  const bareTimes: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    ours.push(await oursSide());
    bareTimes.push(await bareSide());
  }
  console.log(
    `restore test of a ${(bytes / 1e6).toFixed(0)} MB pg_dump (${rows} rows), ${ROUNDS} rounds each side, alternating`,
  );
  console.log(formatSummary('lifeboat: S3 + MD5 + instance + restore + counts + drop', ours));
  console.log(formatSummary('bare: instance + pg_restore of the local file + drop', bareTimes));
  console.log(formatRatio(ours, bareTimes));
} finally {
  await s3.close().catch(() => undefined);
  await pair.stop();
  rmSync(dir, { recursive: true, force: true });
  rmSync(s3dir, { recursive: true, force: true });
}
