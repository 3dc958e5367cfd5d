import { describe, expect, it } from 'vitest';
import { ProviderError } from '../../src/errors.js';
import { startPostgresPair } from '../../src/providers/postgres/servers.js';
import { lsnToBigInt } from '../../src/providers/postgres/connect.js';
import { createPostgresProvider } from '../../src/providers/postgres/index.js';
import { sql, usePostgresPair, waitFor } from '../support/pg-pair.js';

describe('PostgreSQL provider on a real primary and streaming standby', () => {
  const pairs = usePostgresPair();
  const provider = () =>
    createPostgresProvider({ primary: pairs.get().primary.url, replica: pairs.get().standby.url });

  it('measures no lag when the standby has replayed everything', async () => {
    const { primary } = pairs.get();
    await sql(
      primary.url,
      'CREATE TABLE IF NOT EXISTS payments (id serial PRIMARY KEY, amount int)',
    );
    await waitFor(
      async () => (await provider().measureLag()).lagBytes === 0,
      'the standby to catch up',
    );
    const lag = await provider().measureLag();
    expect(lag).toMatchObject({
      lagSeconds: 0,
      lagBytes: 0,
      source: 'primary',
      primaryReachable: true,
      targetIsReplica: true,
    });
  });

  it('measures real lag with replay paused, from the primary and then with the primary dead', async () => {
    const pair = await startPostgresPair();
    try {
      const db = createPostgresProvider({ primary: pair.primary.url, replica: pair.standby.url });
      await sql(pair.primary.url, 'CREATE TABLE payments (id serial PRIMARY KEY, amount int)');
      await sql(pair.primary.url, 'INSERT INTO payments (amount) VALUES (1)');
      await waitFor(async () => (await db.measureLag()).lagBytes === 0, 'the standby to catch up');
      await sql(pair.standby.url, 'SELECT pg_wal_replay_pause()');
      await sql(
        pair.primary.url,
        'INSERT INTO payments (amount) SELECT g FROM generate_series(1, 5000) g',
      );
      // Let the standby receive (but not replay) the new WAL, and the last replayed commit age.
      const [current] = await sql<{ lsn: string }>(
        pair.primary.url,
        'SELECT pg_current_wal_lsn()::text AS lsn',
      );
      await waitFor(async () => {
        const [row] = await sql<{ lsn: string | null }>(
          pair.standby.url,
          'SELECT pg_last_wal_receive_lsn()::text AS lsn',
        );
        return row?.lsn != null && lsnToBigInt(row.lsn) >= lsnToBigInt(current!.lsn);
      }, 'the standby to receive the WAL');
      await waitFor(
        async () => ((await db.measureLag()).lagSeconds ?? 0) >= 0.3,
        'the replay age to grow',
      );

      const withPrimary = await db.measureLag();
      expect(withPrimary.source).toBe('primary');
      expect(withPrimary.lagBytes).toBeGreaterThan(50_000);
      expect(withPrimary.lagSeconds).toBeGreaterThanOrEqual(0.3);

      await pair.killPrimary();
      const withoutPrimary = await db.measureLag();
      expect(withoutPrimary).toMatchObject({
        source: 'replica',
        primaryReachable: false,
        targetIsReplica: true,
      });
      expect(withoutPrimary.lagBytes).toBeGreaterThan(50_000);
      expect(withoutPrimary.lagSeconds).toBeGreaterThanOrEqual(withPrimary.lagSeconds!);
      expect(withoutPrimary.detail).toContain('does not answer');

      // Promotion replays what the standby received, even with replay paused: no committed row is lost.
      const promoted = await db.promote();
      expect(promoted.alreadyPrimary).toBe(false);
      const [count] = await sql<{ n: string }>(
        pair.standby.url,
        'SELECT count(*) AS n FROM payments',
      );
      expect(Number(count?.n)).toBe(5001);
    } finally {
      await pair.stop();
    }
  });

  it('refuses a write check on a standby that is still read-only', async () => {
    await expect(provider().verifyWritable('t-1')).rejects.toThrow(ProviderError);
    await expect(provider().verifyWritable('t-1')).rejects.toThrow(
      /replica 127\.0\.0\.1:\d+: .*read-only/,
    );
  });

  it('promotes the standby once the primary is killed; the standby then accepts writes; promoting again is success', async () => {
    const { primary, standby } = pairs.get();
    await pairs.get().killPrimary();
    const db = provider();
    expect(await db.isTargetPrimary()).toBe(false);
    const first = await db.promote();
    expect(first).toMatchObject({ alreadyPrimary: false });
    expect(await db.isTargetPrimary()).toBe(true);
    const again = await db.promote();
    expect(again.alreadyPrimary).toBe(true);
    const written = await db.verifyWritable('run-42');
    expect(written.detail).toContain('accepted a write');
    const rows = await sql<{ token: string }>(
      standby.url,
      'SELECT token FROM lifeboat.write_checks',
    );
    expect(rows.map((r) => r.token)).toEqual(['run-42']);
    expect((await db.measureLag()).targetIsReplica).toBe(false);
    expect(primary.url).not.toBe(standby.url);
  });

  it('gives up waiting on a promotion that does not finish, says it may yet finish, and a retry then finds it done', async () => {
    const pair = await startPostgresPair();
    const [startup] = await sql<{ pid: number }>(
      pair.standby.url,
      "SELECT pid FROM pg_stat_activity WHERE backend_type = 'startup'",
    );
    try {
      await pair.killPrimary();
      const db = createPostgresProvider(
        { primary: pair.primary.url, replica: pair.standby.url },
        { promote: 'replica', promoteTimeoutSeconds: 1 },
      );
      // The standby's startup process frozen: it cannot end recovery, as on a stuck disk.
      process.kill(startup!.pid, 'SIGSTOP');
      const error = await db.promote().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ProviderError);
      expect((error as Error).message).toMatch(
        /^replica .*: asked to promote, still in recovery after 1 s: the promotion may yet finish/,
      );
      process.kill(startup!.pid, 'SIGCONT');
      await waitFor(async () => await db.isTargetPrimary(), 'the promotion to finish');
      await expect(db.promote()).resolves.toMatchObject({ alreadyPrimary: true });
    } finally {
      try {
        process.kill(startup!.pid, 'SIGCONT');
      } catch {
        // already gone
      }
      await pair.stop();
    }
  });

  it('names the database when it cannot connect', async () => {
    const db = createPostgresProvider({
      primary: 'postgres://postgres@127.0.0.1:1/postgres',
      replica: 'postgres://postgres@127.0.0.1:2/postgres',
    });
    await expect(db.measureLag()).rejects.toThrow(/^replica 127\.0\.0\.1:2: cannot connect/);
  });
});
