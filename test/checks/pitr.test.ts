// The point-in-time recovery check against a real pgBackRest repository: a full, a differential
// and an incremental backup with the WAL archived between them; then a segment removed from the
// archive (a gap), the policy outgrown (an old full), a chain missing its full, and archiving
// broken on the server. Every "now" is taken from what the repository holds, never today's date.

import { readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig, type Config } from '../../src/config.js';
import { assessChain, checkPitr, pitrPolicyOf } from '../../src/checks/pitr.js';
import { runRestoreTests } from '../../src/checks/restore.js';
import { openStore } from '../../src/store/db.js';
import { latestResults } from '../../src/checks/results.js';
import { storeFileOf } from '../support/engine.js';
import { readPgBackRest } from '../../src/providers/postgres/pgbackrest.js';
import {
  PGBACKREST_COMMAND,
  startPgBackRestRepo,
  type PgBackRestRepo,
} from '../support/pgbackrest.js';
import { sql, waitFor } from '../support/pg-pair.js';
import { makeTempDir } from '../support/tmp.js';

let repo: PgBackRestRepo | null = null;
beforeAll(async () => {
  repo = await startPgBackRestRepo();
  const write = (rows: number) =>
    sql(
      repo!.url,
      `INSERT INTO ledger (n) SELECT g FROM generate_series(1, ${rows}) g; SELECT pg_switch_wal()`,
    );
  await sql(repo.url, 'CREATE TABLE ledger (n int)');
  await write(1000);
  await repo.backup('full');
  await write(1000);
  await repo.backup('diff');
  await write(1000);
  await repo.backup('incr');
  await write(10);
  // Settled: the last segment switched out is in the archive before any test reads it.
  const [settled] = await sql<{ current: string }>(
    repo.url,
    'SELECT pg_walfile_name(pg_current_wal_lsn()) AS current',
  );
  await waitFor(
    async () =>
      (
        await sql<{ wal: string | null }>(
          repo!.url,
          'SELECT last_archived_wal AS wal FROM pg_stat_archiver',
        )
      )[0]!.wal! >= segmentBefore(settled!.current),
    'the archive to hold every finished segment',
  );
}, 120_000);

/** The segment before `name` on its timeline (16 MB segments). */
function segmentBefore(name: string): string {
  const number = parseInt(name.slice(8, 16), 16) * 256 + parseInt(name.slice(16), 16) - 1;
  const hex = (value: number) => value.toString(16).toUpperCase().padStart(8, '0');
  return `${name.slice(0, 8)}${hex(Math.floor(number / 256))}${hex(number % 256)}`;
}
afterAll(async () => {
  await repo?.stop();
});

function serviceOf(policy: string) {
  return configOf(policy).services['ledger-db']!;
}

function configOf(policy: string): Config {
  return parseConfig(
    `services:
  ledger-db:
    rto: 1h
    rpo: 15m
    database: { provider: postgres, primary: "${repo!.url}", replica: "postgres://postgres@127.0.0.1:1/postgres" }
    pitr:
      tool: pgbackrest
      stanza: ${repo!.stanza}
      config: ${repo!.config}
      command: ${JSON.stringify(PGBACKREST_COMMAND)}
      ${policy}
`,
    path.join(makeTempDir(), 'lifeboat.yml'),
  );
}

const POLICY =
  'max_full_age: 7d\n      max_diff_age: 1d\n      max_incr_age: 1h\n      max_wal_age: 15m';

describe('the point-in-time recovery check (pgBackRest)', () => {
  it('passes a whole chain with continuous WAL, naming each backup and how far a recovery reaches', async () => {
    const service = serviceOf(POLICY);
    const chain = await readPgBackRest({
      command: PGBACKREST_COMMAND,
      stanza: repo!.stanza,
      config: repo!.config,
    });
    expect(chain.backups.map((backup) => backup.type)).toEqual(['full', 'diff', 'incr']);
    expect(chain.backups[2]!.references).toEqual([
      chain.backups[0]!.label,
      chain.backups[1]!.label,
    ]);
    const newestWal = chain.segments!.at(-1)!;
    const now = new Date(newestWal.storedAt.getTime() + 60_000);
    const result = await checkPitr(service, now);
    expect(result).toMatchObject({ check: 'pitr', ok: true, state: 'ok' });
    expect(result.summary).toMatch(
      new RegExp(
        `^pgbackrest stanza demo: full ${chain.backups[0]!.label} [\\dms ]+ old; differential ${chain.backups[1]!.label} [\\dms ]+ old; incremental ${chain.backups[2]!.label} [\\dms ]+ old; WAL continuous from ${chain.backups[0]!.walStart} to ${newestWal.name}; point-in-time recovery up to 1m ago$`,
      ),
    );
  });

  it('restores a chosen member of the chain — the differential, then the newest incremental — each to its own point, and counts what it holds', async () => {
    const chain = await readPgBackRest({
      command: PGBACKREST_COMMAND,
      stanza: repo!.stanza,
      config: repo!.config,
    });
    const config = configOf(POLICY);
    const store = openStore(storeFileOf(config));
    const run = (set: string | null) =>
      runRestoreTests(config, store, () => ({ database: null, dns: null, backups: null }), {
        pick: 'newest',
        withinSeconds: null,
        now: new Date(0),
        set,
      });
    const [diff] = await run(chain.backups[1]!.label);
    expect(diff).toMatchObject({
      ok: true,
      key: chain.backups[1]!.label,
      tables: { ledger: 2000 },
      state: 'ok, not all checked',
    });
    expect(diff!.summary).toMatch(
      new RegExp(
        `^pgbackrest demo ${chain.backups[1]!.label}: restored to its consistent point in \\d+s; ledger \\(2000 rows\\); pgBackRest checked each file's checksum; row counts NOT compared \\(nothing recorded to compare with\\)$`,
      ),
    );
    const [newest] = await run(null);
    expect(newest).toMatchObject({
      ok: true,
      key: chain.backups[2]!.label,
      tables: { ledger: 3000 },
    });
    const [unknown] = await run('20200101-000000F');
    expect(unknown).toMatchObject({ ok: false, state: 'restore failed' });
    expect(unknown!.summary).toContain('has no backup 20200101-000000F (it has ');
    // Each is a stored restore result, as /dr status and the alerts read them.
    const [latest] = await latestResults(store, 'restore', ['ledger-db']);
    expect(latest).toMatchObject({ ok: false, state: 'restore failed' });
    await store.close();
  });

  it('fails a full older than the policy, an incremental whose full is gone, and a WAL hole, saying what each costs', async () => {
    const chain = await readPgBackRest({
      command: PGBACKREST_COMMAND,
      stanza: repo!.stanza,
      config: repo!.config,
    });
    const policy = pitrPolicyOf(serviceOf(POLICY).pitr!);
    const [full, diff, incr] = chain.backups;
    const lastWal = chain.segments!.at(-1)!;
    // Eight days on: every backup is old, and the archive stopped when the server did.
    const later = new Date(full!.stoppedAt.getTime() + 8 * 86_400_000);
    const old = assessChain(chain, policy, later, { unknown: 'not asked' });
    expect(old.problems[0]).toMatch(
      new RegExp(
        `^newest full backup ${full!.label} is 8d( \\d+s)? old, older than max_full_age 7d$`,
      ),
    );
    expect(old.problems[1]).toMatch(
      new RegExp(
        `^newest differential backup ${diff!.label} is [\\ddhms ]+ old, older than max_diff_age 1d$`,
      ),
    );
    expect(old.problems[2]).toMatch(/^newest incremental backup .* older than max_incr_age 1h$/);
    expect(old.problems.at(-1)).toMatch(
      new RegExp(
        `^newest archived WAL ${lastWal.name} is .* old, older than max_wal_age 15m: a point-in-time recovery reaches only to`,
      ),
    );
    // The full expired by hand, its dependants left: neither can be restored.
    const orphaned = assessChain(
      { ...chain, backups: [diff!, incr!] },
      { ...policy, maxFullAgeSeconds: Infinity },
      new Date(lastWal.storedAt.getTime() + 1000),
      { unknown: 'not asked' },
    );
    expect(orphaned.problems).toEqual([
      `no full backup in stanza demo`,
      `differential backup ${diff!.label} needs ${full!.label}, which is not in the repository: it cannot be restored`,
      `incremental backup ${incr!.label} needs ${full!.label}, which is not in the repository: it cannot be restored`,
    ]);

    // A segment the full needs, deleted from the repository: PITR stops before it.
    const victim = chain.segments!.find((segment) => segment.name > full!.walStop!)!;
    const folder = path.join(repo!.root, 'repo/archive/demo/15-1', victim.name.slice(0, 16));
    rmSync(
      path.join(
        folder,
        readdirSync(folder).find((file) => file.startsWith(`${victim.name}-`))!,
      ),
    );
    const gap = await checkPitr(serviceOf(POLICY), new Date(lastWal.storedAt.getTime() + 1000));
    expect(gap).toMatchObject({ ok: false, state: 'WAL gap' });
    expect(gap.summary).toContain(
      `WAL gap: ${victim.name} missing from the archive — a point-in-time recovery from ${full!.label} stops before ${victim.name}`,
    );
  });

  it("fails at once when the writer's archive_command fails, from the server's own archiver", async () => {
    await sql(repo!.url, "ALTER SYSTEM SET archive_command = 'false'");
    await sql(repo!.url, 'SELECT pg_reload_conf()');
    await sql(repo!.url, 'INSERT INTO ledger (n) VALUES (1); SELECT pg_switch_wal()');
    await waitFor(
      async () =>
        Number(
          (await sql(repo!.url, 'SELECT failed_count FROM pg_stat_archiver'))[0]!.failed_count,
        ) > 0,
      'the archiver to fail',
    );
    const chain = await readPgBackRest({
      command: PGBACKREST_COMMAND,
      stanza: repo!.stanza,
      config: repo!.config,
    });
    const result = await checkPitr(
      serviceOf(POLICY.replace('max_wal_age: 15m', 'max_wal_age: 3650d')),
      new Date(chain.segments!.at(-1)!.storedAt.getTime() + 1000),
    );
    expect(result.ok).toBe(false);
    expect(result.state).toContain('archiving failing');
    expect(result.summary).toMatch(
      /the writer cannot archive WAL: [0-9A-F]{24} failed at .* UTC and nothing was archived since \(see its log for archive_command\)/,
    );
  });
});
