// The point-in-time recovery check of a service whose backups WAL-G keeps. Debian packages no
// wal-g: its two commands are answered by test/support/fake-walg.ts from output in the shape WAL-G
// documents (backup-list --detail --json, wal-verify integrity timeline --json), through the same
// argument-array command path a real wal-g takes.

import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config.js';
import { assessChain, checkPitr, pitrPolicyOf } from '../../src/checks/pitr.js';
import { parseWalG } from '../../src/providers/postgres/walg.js';
import { readFileSync } from 'node:fs';
import { runRestoreTests } from '../../src/checks/restore.js';
import { openStore } from '../../src/store/db.js';
import { storeFileOf } from '../support/engine.js';
import { makeTempDir } from '../support/tmp.js';
import { nodeTsArgs } from '../support/node-ts.js';

const fixtures = path.resolve(import.meta.dirname, '../fixtures/walg');
const fake = nodeTsArgs('test/support/fake-walg.ts');

function configWith(folder: string) {
  return parseConfig(
    `services:
  ledger-db:
    rto: 1h
    rpo: 15m
    database: { provider: postgres, primary: "postgres://postgres@127.0.0.1:1/postgres", replica: "postgres://postgres@127.0.0.1:2/postgres" }
    pitr:
      tool: wal-g
      command: ${JSON.stringify([process.execPath, ...fake])}
      config: ${JSON.stringify(path.join(fixtures, folder))}
      max_full_age: 7d
      max_incr_age: 1d
      max_wal_age: 15m
`,
    path.join(makeTempDir(), 'lifeboat.yml'),
  );
}

const now = new Date('2026-11-24T12:00:00Z');

describe('the point-in-time recovery check (WAL-G)', () => {
  it('passes a base backup with its chain of deltas and WAL that wal-verify finds whole, saying what it could not see', async () => {
    const result = await checkPitr(configWith('healthy').services['ledger-db']!, now);
    expect(result).toMatchObject({ check: 'pitr', ok: true, state: 'ok, not all checked' });
    expect(result.summary).toBe(
      "WAL-G: full base_000000010000000A00000010 2d 9h 49m old; incremental base_000000010000000A00000070_D_000000010000000A00000040 9h 57m 4s old; WAL continuous (wal-verify integrity OK); the newest archived WAL's age and the archiver not checked: WAL-G does not report the age and the writer did not answer (primary: cannot connect: connect ECONNREFUSED 127.0.0.1:1; replica: cannot connect: connect ECONNREFUSED 127.0.0.1:2)",
    );
  });

  it('fails deltas whose base is gone, lost WAL and a newer timeline in storage; says when wal-g itself fails', async () => {
    const broken = await checkPitr(configWith('broken').services['ledger-db']!, now);
    expect(broken.ok).toBe(false);
    expect(broken.state).toBe(
      'no full backup, broken chain, broken chain, WAL gap, newer timeline in storage',
    );
    expect(broken.summary).toContain(
      'incremental backup base_000000010000000A00000040_D_000000010000000A00000010 needs base_000000010000000A00000010, which is not in the repository: it cannot be restored',
    );
    expect(broken.summary).toContain(
      'WAL gap: 000000010000000A00000052–000000010000000A00000054 (3 segments) lost from the archive — a point-in-time recovery stops before 000000010000000A00000052',
    );
    expect(broken.summary).toContain(
      'storage holds WAL of timeline 2, the cluster is on 1: another server promoted and archived here (split brain?)',
    );

    const failing = await checkPitr(configWith('fail').services['ledger-db']!, now);
    expect(failing).toMatchObject({ ok: false, state: 'repository unreadable' });
    expect(failing.summary).toMatch(
      /^WAL-G: .*fake-walg\.ts (backup-list --detail --json|wal-verify integrity timeline --json) --config=.*fail failed: ERROR: .* failed to list s3 folder: AccessDenied$/,
    );
  });

  it("takes the newest archived WAL's age from the writer's archiver when it answers", () => {
    const chain = parseWalG(
      JSON.parse(readFileSync(path.join(fixtures, 'healthy/backup-list.json'), 'utf8')) as never,
      JSON.parse(readFileSync(path.join(fixtures, 'healthy/wal-verify.json'), 'utf8')) as never,
    );
    const policy = pitrPolicyOf(configWith('healthy').services['ledger-db']!.pitr!);
    const archiver = (minutesAgo: number) => ({
      lastArchivedWal: '000000010000000A0000007C',
      lastArchivedAt: new Date(now.getTime() - minutesAgo * 60_000),
      lastFailedWal: null,
      lastFailedAt: null,
    });
    expect(assessChain(chain, policy, now, archiver(5)).facts).toContain(
      'point-in-time recovery up to 5m ago',
    );
    expect(assessChain(chain, policy, now, archiver(120)).problems).toEqual([
      'newest archived WAL 000000010000000A0000007C is 2h old, older than max_wal_age 15m: a point-in-time recovery reaches only to 2026-11-24 10:00 UTC (set archive_timeout to bound this on a quiet database)',
    ]);
  });

  it('says a WAL-G restore test was not run, and why, instead of passing it', async () => {
    const config = configWith('healthy');
    const store = openStore(storeFileOf(config));
    const [report] = await runRestoreTests(
      config,
      store,
      () => ({ database: null, dns: null, backups: null }),
      { pick: 'newest', withinSeconds: null, now },
    );
    expect(report).toMatchObject({ ok: false, state: 'not checked' });
    expect(report!.summary).toMatch(/^not checked: lifeboat restores pgBackRest chain members/);
    await store.close();
  });
});
