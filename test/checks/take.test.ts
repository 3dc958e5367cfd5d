// Taking backups against real things: a pg_dump of a real PostgreSQL pair's writer streamed into
// s3rver in parts, read back, a manifest beside it; the backup check and a restore test take it
// from there; retention deletes only what lifeboat took; a corrupted object fails its restore test.

import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfig, type Config } from '../../src/config.js';
import { checkBackups } from '../../src/checks/backups.js';
import { restoreTest } from '../../src/checks/restore.js';
import { takeBackups } from '../../src/checks/take.js';
import { takeBackup } from '../../src/actions/backup/take.js';
import { createS3BackupStore } from '../../src/providers/aws/s3.js';
import { createPostgresProvider } from '../../src/providers/postgres/index.js';
import type { ServiceProviders } from '../../src/providers/types.js';
import { openStore } from '../../src/store/db.js';
import { storeFileOf, testClock } from '../support/engine.js';
import { sql, usePostgresPair } from '../support/pg-pair.js';
import { putObject, storeNow, useS3rver } from '../support/s3.js';
import { makeTempDir } from '../support/tmp.js';
import { cli } from '../support/cli.js';
import { makeEngine } from '../support/engine.js';
import { buildJobs } from '../../src/schedule/jobs.js';

const s3 = useS3rver(['taken-backups']);
const pair = usePostgresPair();

function configFor(extra = ''): Config {
  const { primary, standby } = pair.get();
  return parseConfig(
    `services:
  payments-db:
    rto: 15m
    rpo: 1m
    database: { provider: postgres, primary: "${primary.url}", replica: "${standby.url}" }
    backups:
      provider: s3
      bucket: taken-backups
      prefix: pg/
      region: us-west-2
      endpoint: "${s3.endpoint()}"
      max_age: 6h
      restore_test: { expected_tables: [payments, accounts] }
${extra}`,
    path.join(makeTempDir(), 'lifeboat.yml'),
  );
}

/** The providers of a service as a run builds them, talking to s3rver with the test's client. */
function providersOf(service: Config['services'][string]): ServiceProviders {
  return {
    database: createPostgresProvider(service.database as { primary: string; replica: string }),
    dns: null,
    backups: createS3BackupStore(service.backups!, { client: s3.client(), retry: { attempts: 1 } }),
  };
}

describe('taking backups', () => {
  it('dumps the writer in parts into the bucket, reads it back, writes a manifest with the rows counted in the dump’s snapshot; the backup check and a restore test prove it; a flipped byte fails the restore test', async () => {
    const { primary } = pair.get();
    await sql(
      primary.url,
      `CREATE TABLE payments (id serial PRIMARY KEY, note text);
       CREATE TABLE accounts (id int);
       INSERT INTO payments (note) SELECT md5(g::text) || md5((g * 7)::text) FROM generate_series(1, 6000) g;
       INSERT INTO accounts VALUES (1), (2), (3)`,
    );
    const config = configFor();
    const service = config.services['payments-db']!;
    const providers = providersOf(service);
    const clock = testClock('2026-11-24T03:00:00.000Z');
    const progress: string[] = [];
    // Parts of 64 KiB (S3's 5 MiB minimum is for AWS; s3rver takes any) so the dump is multipart.
    const taken = await takeBackup(service, providers, {
      clock,
      partBytes: 64 * 1024,
      onProgress: (text) => progress.push(text),
    });
    expect(taken).toMatchObject({
      key: 'pg/2026-11-24T03-00-00.000Z.dump',
      where: 's3://taken-backups/pg/2026-11-24T03-00-00.000Z.dump',
      source: `primary 127.0.0.1:${primary.port}`,
      tables: { payments: 6000, accounts: 3 },
      readBack: { verified: true, detail: 'size and MD5 ETag read back and match' },
    });
    expect(taken.parts).toBeGreaterThan(1);
    expect(taken.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(progress[0]).toBe(
      `dumping primary 127.0.0.1:${primary.port} into s3://taken-backups/pg/…`,
    );
    expect(progress.at(-1)).toMatch(/^[\d.]+ MB of primary 127\.0\.0\.1:\d+ uploaded$/);

    const manifest = await providers.backups!.readManifest(taken.key);
    expect(manifest).toMatchObject({
      format: 'lifeboat-backup/1',
      service: 'payments-db',
      tool: 'pg_dump -Fc',
      bytes: taken.bytes,
      sha256: taken.sha256,
      tables: { payments: 6000, accounts: 3 },
    });
    // The manifest is never counted as a backup.
    expect((await providers.backups!.listBackups()).map((backup) => backup.key)).toEqual([
      taken.key,
    ]);

    const db = openStore(storeFileOf(config));
    const now = await storeNow(s3.client(), 'taken-backups');
    const [checked] = await checkBackups(config, db, () => providers, now);
    expect(checked).toMatchObject({ ok: true });
    expect(checked!.summary).toContain(`newest ${taken.key}: ${taken.bytes} bytes`);

    const restored = await restoreTest(service, providers.backups!, {
      pick: 'newest',
      withinSeconds: null,
      now,
    });
    expect(restored).toMatchObject({ ok: true, state: 'ok', rowsCompared: true });
    expect(restored.summary).toContain(
      'row counts match the dump and those counted when the backup was taken',
    );
    expect(restored.summary).toContain(
      `SHA-256 ${taken.sha256} matches the manifest written when lifeboat took it`,
    );

    // Bit rot on the store's disk: the restore test names the manifest's checksum.
    const file = s3.objectFile('taken-backups', taken.key);
    const bytes = readFileSync(file);
    bytes[bytes.length >> 1] = (bytes[bytes.length >> 1] ?? 0) ^ 0xff;
    writeFileSync(file, bytes);
    const rotten = await restoreTest(service, providers.backups!, {
      pick: 'newest',
      withinSeconds: null,
      now,
    });
    expect(rotten).toMatchObject({ ok: false, state: 'checksum mismatch' });
    expect(rotten.summary).toContain(
      `are not what lifeboat uploaded on 2026-11-24 03:00 (${taken.bytes}, SHA-256 ${taken.sha256}). The backup is corrupt.`,
    );
    await db.close();
  });

  it('keeps what retention says and deletes only backups lifeboat took, each deletion in the audit log before it is made', async () => {
    const config = configFor('      retention: { keep_last: 2 }\n');
    const service = config.services['payments-db']!;
    const providers = providersOf;
    const store = providers(service).backups!;
    for (const backup of await store.listBackups()) await store.deleteBackup(backup.key);
    // A backup some other tool wrote, older than all: retention never touches it.
    await putObject(s3.client(), 'taken-backups', 'pg/0000-nightly-by-cron.dump', 'x'.repeat(100));
    const db = openStore(storeFileOf(config));
    const clock = testClock('2026-11-25T00:00:00.000Z');
    const rounds = [];
    for (let round = 0; round < 3; round++) {
      rounds.push(
        await takeBackups(config, db, providers, { clock, actor: 'cli:alice', only: null }),
      );
      clock.advance(3600_000);
    }
    expect(rounds.map(([result]) => [result!.ok, result!.deleted])).toEqual([
      [true, []],
      [true, []],
      [true, ['pg/2026-11-25T00-00-00.000Z.dump']],
    ]);
    expect(rounds[2]![0]!.summary).toMatch(
      /; retention: 1 deleted, 3 kept \(1 not taken by lifeboat, never deleted\)$/,
    );
    expect((await store.listBackups()).map((backup) => backup.key).sort()).toEqual([
      'pg/0000-nightly-by-cron.dump',
      'pg/2026-11-25T01-00-00.000Z.dump',
      'pg/2026-11-25T02-00-00.000Z.dump',
    ]);
    expect(await store.readManifest('pg/2026-11-25T00-00-00.000Z.dump')).toBeNull();
    const audit = await db.all<{ action: string; details: string }>(
      "SELECT action, details FROM audit_log WHERE subject = 'service:payments-db' ORDER BY seq",
    );
    expect(audit.map((event) => event.action)).toEqual([
      'backup.taken',
      'backup.taken',
      'backup.taken',
      'backup.deleted',
    ]);
    expect(JSON.parse(audit[3]!.details)).toEqual({
      key: 'pg/2026-11-25T00-00-00.000Z.dump',
      why: 'retention',
    });
    const stored = await db.all<{ ok: number; details: string }>(
      "SELECT ok, details FROM check_results WHERE check_name = 'backup-take' ORDER BY id",
    );
    expect(stored).toHaveLength(3);
    expect(JSON.parse(stored[2]!.details)).toMatchObject({
      state: 'ok',
      key: 'pg/2026-11-25T02-00-00.000Z.dump',
      deleted: ['pg/2026-11-25T00-00-00.000Z.dump'],
    });

    await db.close();
  });

  it('`lifeboat backup take` and the scheduled backup-take job take one; the job alerts the channel once when a backup cannot be taken (TWO PRIMARIES)', async () => {
    const { primary, standby } = pair.get();
    const dir = makeTempDir();
    const yaml = `slack: { channel: C0DR }
approvals: { approvers: [U0ALICE, U0BOB] }
cli: { users: { alice: U0ALICE } }
schedules:
  - { name: nightly-backup, cron: "0 2 * * *", check: backup-take }
services:
  payments-db:
    rto: 15m
    rpo: 1m
    database: { provider: postgres, primary: "${primary.url}", replica: "${standby.url}" }
    backups: { provider: s3, bucket: taken-backups, prefix: cli/, region: us-west-2, endpoint: "${s3.endpoint()}", credentials: s3rver, max_age: 6h }
  orders-db:
    rto: 15m
    rpo: 1m
    database: { provider: aws-rds, primary: { id: orders-1, region: us-east-1 }, replica: { id: orders-2, region: us-west-2 }, fence: { mode: stop } }
    backups: { provider: s3, bucket: taken-backups, prefix: rds/, region: us-west-2, endpoint: "${s3.endpoint()}", credentials: s3rver, max_age: 1d }
`;
    writeFileSync(path.join(dir, 'lifeboat.yml'), yaml);
    const env = { LIFEBOAT_CONFIG: path.join(dir, 'lifeboat.yml') };
    const at = () => new Date('2026-11-26T02:00:00Z');

    const taken = await cli(['backup', 'take', 'payments-db'], env, at);
    expect(taken.stdout).toMatch(
      /^ok {4}payments-db: s3:\/\/taken-backups\/cli\/2026-11-26T02-00-00\.000Z\.dump: \d+ bytes of primary 127\.0\.0\.1:\d+ in \d+s, 2 tables \(6003 rows\) counted; SHA-256 [0-9a-f]{16}…; size and MD5 ETag read back and match\n$/,
    );
    expect(taken.stderr).toContain('  … payments-db: dumping primary 127.0.0.1:');
    expect(taken.code).toBe(0);

    const refused = await cli(['backup', 'take', 'orders-db'], env, at);
    expect(refused).toMatchObject({ code: 1, stdout: '' });
    expect(refused.stderr).toBe(
      'lifeboat: orders-db is on RDS: add snapshots: (max_age, copy_to) to it in lifeboat.yml to have lifeboat take RDS snapshots and copy them to the DR region\n',
    );
    expect((await cli(['backup', 'take', 'ledger-db'], env, at)).stderr).toBe(
      'lifeboat: no service "ledger-db" (known: payments-db, orders-db)\n',
    );

    const t = await makeEngine({ runbooks: {}, configYaml: yaml });
    const job = buildJobs(t.config).find((candidate) => candidate.name === 'nightly-backup')!;
    const posts: string[] = [];
    const context = () => ({
      config: t.config,
      engine: t.engine,
      notifier: {
        post: (notice: { text: string }) => Promise.resolve(void posts.push(notice.text)),
      },
      now: t.clock(),
    });
    // The job takes what it can: the RDS service is not lifeboat's to dump, so it is not tried.
    expect(await job.run(context())).toBe('payments-db: taken');
    expect(posts).toEqual([]);

    // Both accept writes: which one holds the data is the question, and no backup is taken.
    await sql(standby.url, 'SELECT pg_promote(true, 30)');
    t.clock.advance(86_400_000);
    expect(await job.run(context())).toBe('payments-db: FAILED');
    t.clock.advance(3600_000);
    expect(await job.run(context())).toBe('payments-db: FAILED');
    expect(posts).toHaveLength(1); // said once, not at every run
    expect(posts[0]).toMatch(
      /^:x: \*failing\* backup of \*payments-db\*: payments-db: not taking a backup: TWO PRIMARIES \(both primary 127\.0\.0\.1:\d+ and replica 127\.0\.0\.1:\d+ accept writes\) — which one holds the data must be settled first$/,
    );
    const [failed] = await t.store.all<{ action: string; actor: string }>(
      'SELECT action, actor FROM audit_log ORDER BY seq DESC LIMIT 1',
    );
    expect(failed).toEqual({ action: 'backup.failed', actor: 'system' });
    await t.store.close();
  });
});
