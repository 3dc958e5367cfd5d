// Local mode's world under .lifeboat/: created once, reused on the next start, wiped by reset.

import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import {
  LOCAL_BUCKET,
  killPrimary,
  rebuildOldPrimary,
  resetLocalEnvironment,
  startLocalEnvironment,
} from '../../src/local/environment.js';
import {
  createS3BackupStore,
  createS3Client,
  S3RVER_CREDENTIALS,
} from '../../src/providers/aws/s3.js';
import { holdPort } from '../support/ports.js';
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
        probe_timeout: '1s',
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

      const backups = await backupsIn(first.s3Endpoint, 'postgres/');
      expect(backups).toHaveLength(1);
      expect(backups[0]!.size).toBeGreaterThan(1000);

      // The second demo, recovered by backup and restore: its primary with rows and a backup of
      // them, and an empty DR server waiting for a restore.
      expect(config.services['ledger-db']).toMatchObject({
        strategy: 'backup-restore',
        runbooks: { failover: 'restore-from-backup' },
        database: { primary: first.ledger.primary.url, replica: first.ledger.dr.url },
      });
      expect(await sql(first.ledger.primary.url, 'SELECT count(*)::int AS n FROM entries')).toEqual(
        [{ n: 500 }],
      );
      expect(
        await sql(
          first.ledger.dr.url,
          "SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = 'public'",
        ),
      ).toEqual([{ n: 0 }]);
      const ledgerBackups = await backupsIn(first.s3Endpoint, 'ledger/');
      expect(ledgerBackups).toHaveLength(1);

      await sql(first.pair.primary.url, 'INSERT INTO payments (amount) VALUES (4242)');
      const ports = readFileSync(path.join(dir, 'state.json'), 'utf8');
      await first.stop();

      second = await startLocalEnvironment(dir, runbooks);
      expect(readFileSync(path.join(dir, 'state.json'), 'utf8')).toBe(ports);
      expect(second.pair.primary.url).toBe(first.pair.primary.url);
      expect(second.ledger.dr.url).toBe(first.ledger.dr.url);
      expect(await sql(second.pair.primary.url, 'SELECT count(*)::int AS n FROM payments')).toEqual(
        [{ n: 101 }],
      );
      await second.stop();
      second = null;

      // The S3 server's port is in no file the user keeps: when something took it, the S3 server
      // listens elsewhere, and state.json and the config written at start say where.
      const saved = (JSON.parse(ports) as { ports: { s3: number; primary: number } }).ports;
      const busy = await holdPort(saved.s3);
      const moved = await startLocalEnvironment(dir, runbooks);
      try {
        const now = JSON.parse(readFileSync(path.join(dir, 'state.json'), 'utf8')) as {
          ports: { s3: number };
        };
        expect(now.ports.s3).not.toBe(saved.s3);
        expect(moved.s3Endpoint).toBe(`http://127.0.0.1:${now.ports.s3}`);
        const config = loadConfig({ LIFEBOAT_CONFIG: moved.configFile });
        expect(JSON.stringify(config.services)).toContain(moved.s3Endpoint);
        expect(JSON.stringify(config.services)).not.toContain(first.s3Endpoint);
        // the backups made on the first start are there, through the new port
        const listed = await backupsIn(moved.s3Endpoint, 'postgres/');
        expect(listed).toHaveLength(1);
      } finally {
        await moved.stop();
        await new Promise((resolve) => busy.close(resolve));
      }

      // A PostgreSQL server's port is in the config: taken, the start is refused and names it.
      const squatter = await holdPort(saved.primary);
      await expect(startLocalEnvironment(dir, runbooks)).rejects.toThrow(
        `port ${saved.primary} (primary) is taken`,
      );
      await new Promise((resolve) => squatter.close(resolve));

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

  it('keeps a killed primary down across restarts until it is rebuilt as a standby', async () => {
    const parent = makeTempDir();
    chmodSync(parent, 0o755);
    const dir = path.join(parent, '.lifeboat');
    let environment = await startLocalEnvironment(dir, runbooks);
    try {
      const diedAt = new Date('2026-11-24T03:12:00Z');
      await killPrimary(environment, diedAt);
      await environment.stop();

      // A restart must not bring the old primary back beside a standby that may be promoted.
      environment = await startLocalEnvironment(dir, runbooks);
      expect(environment.primaryDownSince).toEqual(diedAt);
      await expect(sql(environment.pair.primary.url, 'SELECT 1')).rejects.toThrow();
      await sql(environment.pair.standby.url, 'SELECT pg_promote()');
      await waitFor(
        async () =>
          (
            await sql<{ standby: boolean }>(
              environment.pair.standby.url,
              'SELECT pg_is_in_recovery() AS standby',
            )
          )[0]?.standby === false,
        'the standby to be promoted',
      );

      await rebuildOldPrimary(environment);
      expect(environment.primaryDownSince).toBeNull();
      expect(
        await sql(environment.pair.primary.url, 'SELECT pg_is_in_recovery() AS standby'),
      ).toEqual([{ standby: true }]);
      await environment.stop();
      environment = await startLocalEnvironment(dir, runbooks);
      expect(environment.primaryDownSince).toBeNull();
      expect(
        await sql(environment.pair.primary.url, 'SELECT pg_is_in_recovery() AS standby'),
      ).toEqual([{ standby: true }]);
    } finally {
      await environment.stop();
    }
  }, 120_000);

  it('says what to do with an unreadable state.json, and starts afresh over a half-made first start', async () => {
    const parent = makeTempDir();
    chmodSync(parent, 0o755);
    const dir = path.join(parent, '.lifeboat');
    mkdirSync(dir);
    writeFileSync(path.join(dir, 'state.json'), '{"version": 1, "ports": {');
    await expect(startLocalEnvironment(dir, runbooks)).rejects.toThrow(
      /state\.json is unreadable .*lifeboat local reset/,
    );
    await resetLocalEnvironment(dir);
    expect(existsSync(dir)).toBe(false);

    // Ctrl-C during the first start: data folders but no state.json.
    mkdirSync(path.join(dir, 'pg', 'primary'), { recursive: true });
    writeFileSync(path.join(dir, 'pg', 'primary', 'PG_VERSION'), '15\n');
    const environment = await startLocalEnvironment(dir, runbooks);
    try {
      expect(
        await sql(environment.pair.primary.url, 'SELECT count(*)::int AS n FROM payments'),
      ).toEqual([{ n: 100 }]);
    } finally {
      await environment.stop();
    }
  }, 120_000);
});

/** The backups local mode's S3 server on `endpoint` holds under `prefix`. */
function backupsIn(endpoint: string, prefix: string) {
  const client = createS3Client({ region: 'us-west-2', endpoint }, S3RVER_CREDENTIALS);
  return createS3BackupStore(
    { bucket: LOCAL_BUCKET, prefix, region: 'us-west-2', endpoint },
    { client },
  ).listBackups();
}
