import { copyFileSync, mkdirSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { startPostgresPair } from '../src/providers/postgres/servers.js';
import { cli } from './support/cli.js';
import { postgresConfig } from './support/engine.js';
import { sql } from './support/pg-pair.js';
import { makeTempDir } from './support/tmp.js';

function workspace(configYaml: string): Record<string, string> {
  const dir = makeTempDir();
  mkdirSync(path.join(dir, 'runbooks'));
  writeFileSync(path.join(dir, 'lifeboat.yml'), configYaml);
  return { LIFEBOAT_CONFIG: path.join(dir, 'lifeboat.yml') };
}

describe('lifeboat check', () => {
  it('measures replication lag now, from the primary and then from the replica alone', async () => {
    const pair = await startPostgresPair();
    try {
      const env = workspace(postgresConfig(pair.primary.url, pair.standby.url));
      const healthy = await cli(['check', 'lag'], env);
      expect(healthy.code).toBe(0);
      expect((await cli(['status'], env)).code).toBe(0);
      expect(healthy.stdout).toMatch(
        /^ok {4}payments-db: replica 127\.0\.0\.1:\d+ streams from primary 127\.0\.0\.1:\d+, 0 bytes behind: within the RPO \(1m\)\n$/,
      );
      await pair.killPrimary();
      const disaster = await cli(['check', 'lag', '--service', 'payments-db'], env);
      expect(disaster.code).toBe(1);
      expect(disaster.stdout).toMatch(/^FAIL {2}payments-db: NO WRITER since /);
      expect(disaster.stdout).toContain('measured on the replica: the primary does not answer');
    } finally {
      await pair.stop();
    }
  });

  it('exits 1 on TWO PRIMARIES, naming both, in check lag and in status', async () => {
    const pair = await startPostgresPair();
    try {
      const env = workspace(postgresConfig(pair.primary.url, pair.standby.url));
      await sql(pair.standby.url, 'SELECT pg_promote(true, 30)'); // someone promoted it by hand
      const check = await cli(['check', 'lag'], env);
      expect(check.code).toBe(1);
      expect(check.stdout).toMatch(
        /^FAIL {2}payments-db: TWO PRIMARIES since .*: both primary 127\.0\.0\.1:\d+ and replica 127\.0\.0\.1:\d+ accept writes\. Fence one of them now\./,
      );
      const status = await cli(['status'], env);
      expect(status.code).toBe(1);
      expect(status.stdout).toContain('• replication: TWO PRIMARIES since');
    } finally {
      await pair.stop();
    }
  });

  it('exits 1 naming the service whose check fails, and refuses an unknown check or service', async () => {
    const env = workspace(
      postgresConfig(
        'postgres://postgres@127.0.0.1:1/postgres',
        'postgres://postgres@127.0.0.1:2/postgres',
      ),
    );
    const failing = await cli(['check', 'lag'], env);
    expect(failing.code).toBe(1);
    expect(failing.stdout).toMatch(
      /^FAIL {2}payments-db: NO WRITER since [^:]+:\d\d UTC: primary 127\.0\.0\.1:1 does not answer: cannot connect.*; replica 127\.0\.0\.1:2 does not answer: cannot connect/,
    );
    expect((await cli(['check', 'latency'], env)).stderr).toContain(
      'unknown check "latency": use config, backups, restore or lag',
    );
    expect((await cli(['check', 'lag', '--service', 'orders'], env)).stderr).toContain(
      'no service "orders" (known: payments-db)',
    );
    const status = await cli(['status'], env);
    expect(status.code).toBe(1); // neither database answers: no writer
    expect(status.stdout).toContain('• replication: NO WRITER since');
    expect(status.stdout).toContain('payments-db — RTO 15m, RPO 1m');
    expect(status.stdout).toContain('• last failover: never');
    const nothing = await cli(['check', 'backups'], env);
    expect(nothing).toMatchObject({
      code: 1,
      stdout:
        'not checked: no service has backups: in lifeboat.yml, so there is nothing to check\n',
    });
    expect(
      (await cli(['check', 'restore', '--pick', 'random', '--within', '30x'], env)).stderr,
    ).toBe(
      'lifeboat: --within "30x" is not a duration: use a number and a unit, like 30d, 12h or 90m\n',
    );
    expect((await cli(['check', 'restore', '--within', '30d'], env)).stderr).toBe(
      'lifeboat: --within only applies to --pick random (the window to pick a backup from)\n',
    );
  });

  it('check config runs the startup checks without serving: the example config passes, a broken runbook fails', async () => {
    const root = path.resolve(import.meta.dirname, '..');
    const copy = makeTempDir(); // the store it opens goes here, not into the checkout
    copyFileSync(path.join(root, 'lifeboat.example.yml'), path.join(copy, 'lifeboat.yml'));
    symlinkSync(path.join(root, 'runbooks'), path.join(copy, 'runbooks'));
    const example = await cli(['check', 'config'], {
      LIFEBOAT_CONFIG: path.join(copy, 'lifeboat.yml'),
    });
    expect(example.code).toBe(0);
    expect(example.stdout).toMatch(/^ok {4}config {6}.*lifeboat\.yml$/m);
    // It reads the store, never creates one.
    expect(example.stdout).toMatch(/^ok {4}store {7}.*\(none yet: the first start creates it\)$/m);
    expect(readdirSync(copy).filter((name) => name.endsWith('.db'))).toEqual([]);
    expect(example.stdout).toMatch(/^ok {4}runbooks {4}9 in /m);

    const env = workspace(
      postgresConfig('postgres://a@127.0.0.1:1/x', 'postgres://a@127.0.0.1:2/x'),
    );
    const runbooks = path.join(path.dirname(env.LIFEBOAT_CONFIG!), 'runbooks');
    writeFileSync(
      path.join(runbooks, 'broken.md'),
      '---\ntitle: Broken\nkind: sometimes\n---\n# B\n',
    );
    const broken = await cli(['check', 'config'], env);
    expect(broken.code).toBe(1);
    expect(broken.stdout).toMatch(/^FAIL {2}.*broken\.md:3: /m);
  });

  it('check config judges runbook reviews by the clock it is given, not the machine’s', async () => {
    const env = workspace(
      postgresConfig('postgres://a@127.0.0.1:1/x', 'postgres://a@127.0.0.1:2/x'),
    );
    writeFileSync(
      path.join(path.dirname(env.LIFEBOAT_CONFIG!), 'runbooks', 'failover.md'),
      '---\ntitle: Failover\nkind: failover\nservice: payments-db\nreviewed: 2026-11-01\n---\n## Go\n1. Promote `action: db.promote`\n',
    );
    const fresh = await cli(['check', 'config'], env, () => new Date('2026-11-24T12:00:00Z'));
    expect(fresh.stdout).toMatch(/^ok {4}runbooks {4}1 in \S+$/m);
    const later = await cli(['check', 'config'], env, () => new Date('2027-06-01T12:00:00Z'));
    expect(later.stdout).toMatch(
      /^ok {4}runbooks {4}1 in \S+ \(not reviewed for 180 days: failover\)$/m,
    );
  });
});
