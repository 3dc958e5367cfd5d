// `lifeboat store backup` and `store restore`: the team's whole memory copied while lifeboat runs,
// proven before it is trusted, and put back without losing the store it replaces.

import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildJobs } from '../../src/schedule/jobs.js';
import type { Notice } from '../../src/schedule/notifier.js';
import { openStore } from '../../src/store/db.js';
import { cli } from '../support/cli.js';
import {
  makeEngine,
  testClock,
  type TestEngine,
  storeFileOf,
  sqliteStoreOf,
} from '../support/engine.js';

const drill = `---
title: Drill
kind: drill
---
## Work
1. Look at the dashboards
2. Decide
`;

const configYaml = `approvals:
  approvers: [U0ALICE, U0BOB]
services:
  payments-db:
    rto: 15m
    rpo: 1m
    database: { provider: postgres, primary: "postgres://postgres@127.0.0.1:1/postgres", replica: "postgres://postgres@127.0.0.1:2/postgres" }
`;

/** An engine on a store with one drill in flight, and the config file the CLI reads. */
async function withRunInFlight(): Promise<{
  t: TestEngine;
  env: Record<string, string>;
  runId: string;
}> {
  const t = await makeEngine({ runbooks: { drill }, configYaml, store: 'sqlite' });
  writeFileSync(path.join(t.dir, 'lifeboat.yml'), configYaml);
  const { runId } = await t.engine.startRun({
    key: 'k1',
    actor: { user: 'U0ALICE' },
    runbook: 'drill',
  });
  await t.engine.completeStep({ key: 'k2', actor: { user: 'U0ALICE' }, runId, stepIndex: 0 });
  return { t, env: { LIFEBOAT_CONFIG: path.join(t.dir, 'lifeboat.yml') }, runId };
}

const countRuns = (file: string): number => {
  const store = openStore(file);
  try {
    return (store.db.prepare('SELECT count(*) AS n FROM runs').get() as { n: number }).n;
  } finally {
    store.db.close();
  }
};

describe('lifeboat store backup', () => {
  it('copies the store while it is open, and proves the copy before naming it', async () => {
    const { t, env, runId } = await withRunInFlight();
    const copy = path.join(t.dir, 'copies', 'lifeboat-2026-11-24.db');
    const backedUp = await cli(['store', 'backup', copy], env);
    expect(backedUp.stderr).toBe('');
    expect(backedUp.code).toBe(0);
    expect(backedUp.stdout).toMatch(
      new RegExp(
        `^store backed up to ${copy}: schema version \\d+, 1 runs, \\d+ audit events, chain intact \\(head [0-9a-f]{64}\\)\\n$`,
      ),
    );
    // The copy is a working store with the run as it stood: the engine kept it open all along.
    const copied = openStore(copy);
    expect(copied.db.prepare('SELECT id, current_step FROM runs').get()).toEqual({
      id: runId,
      current_step: 1,
    });
    await copied.close();

    const again = await cli(['store', 'backup', copy], env);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('exists already: give the backup a new file name');
    await t.store.close();
  });

  it('refuses to make a backup of a store whose audit chain is broken, and leaves no file', async () => {
    const { t, env } = await withRunInFlight();
    sqliteStoreOf(t).db.exec('DROP TRIGGER IF EXISTS audit_log_no_update');
    sqliteStoreOf(t).db.prepare("UPDATE audit_log SET actor = 'U0MALLORY' WHERE seq = 1").run();
    const copy = path.join(t.dir, 'copy.db');
    const refused = await cli(['store', 'backup', copy], env);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/its audit log is broken at event #1: /);
    expect(readdirSync(t.dir).filter((name) => name.startsWith('copy.db'))).toEqual([]);
    await t.store.close();
  });
});

describe('lifeboat store restore', () => {
  it('puts a proven copy in place and keeps the store it replaced', async () => {
    const { t, env } = await withRunInFlight();
    const copy = path.join(t.dir, 'copy.db');
    expect((await cli(['store', 'backup', copy], env)).code).toBe(0);
    await t.engine.startRun({ key: 'k3', actor: { user: 'U0BOB' }, runbook: 'drill' });
    await t.engine.idle();
    await t.store.close(); // lifeboat is stopped before a restore

    const restored = await cli(['store', 'restore', copy], env);
    expect(restored.stderr).toBe('');
    expect(restored.code).toBe(0);
    const [said, kept] = restored.stdout.trim().split('\n');
    expect(said).toMatch(
      new RegExp(
        `^store ${storeFileOf(t.config)} restored from ${copy}: schema version \\d+, 1 runs`,
      ),
    );
    expect(kept).toBe(
      `the store it replaced is kept at ${storeFileOf(t.config)}.replaced-20261124T120000Z`,
    );
    expect(countRuns(storeFileOf(t.config))).toBe(1);
    expect(countRuns(`${storeFileOf(t.config)}.replaced-20261124T120000Z`)).toBe(2);
    expect((await cli(['audit', 'verify'], env)).code).toBe(0);
  });

  it('refuses a file that is not a lifeboat store, and leaves the store untouched', async () => {
    const { t, env } = await withRunInFlight();
    await t.store.close();
    const notAStore = path.join(t.dir, 'notes.db');
    writeFileSync(notAStore, 'not sqlite at all');
    const refused = await cli(['store', 'restore', notAStore], env);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('is not a SQLite database');
    const itself = await cli(['store', 'restore', storeFileOf(t.config)], env);
    expect(itself.stderr).toContain(
      'is the store itself: restore from a copy made by lifeboat store backup',
    );
    const missing = await cli(['store', 'restore', path.join(t.dir, 'nowhere.db')], env);
    expect(missing.stderr).toContain('does not exist');
    expect(countRuns(storeFileOf(t.config))).toBe(1);
    expect(readdirSync(t.dir).some((name) => name.includes('.replaced-'))).toBe(false);
    expect(existsSync(`${storeFileOf(t.config)}.partial`)).toBe(false);
  });
});

describe('the scheduled store backup', () => {
  it('writes a proven copy named by its time into to:, keeps the newest keep: copies, and says when it fails', async () => {
    const schedules = `slack: { channel: C0DR }
schedules:
  - { name: store-copy, cron: "0 * * * *", check: store-backup, to: ./copies, keep: 2 }
`;
    const t = await makeEngine({
      runbooks: { drill },
      configYaml: configYaml + schedules,
      store: 'sqlite',
    });
    await t.engine.startRun({ key: 'k1', actor: { user: 'U0ALICE' }, runbook: 'drill' });
    const [job] = buildJobs(t.config).filter((j) => j.name === 'store-copy');
    const posts: Notice[] = [];
    const notifier = { post: (notice: Notice) => Promise.resolve(void posts.push(notice)) };
    const clock = testClock('2026-11-24T03:00:00.000Z');
    const said: string[] = [];
    for (let hour = 0; hour < 3; hour += 1) {
      said.push(await job!.run({ config: t.config, engine: t.engine, notifier, now: clock() }));
      clock.advance(3600_000);
    }
    const folder = path.join(t.dir, 'copies');
    expect(said[0]).toBe(
      `backed up to ${folder}/lifeboat-20261124T030000Z.db: 1 runs, ${said[0]!.match(/(\d+) audit events/)![1]} audit events, chain intact; 0 older copies removed`,
    );
    expect(said[2]).toMatch(/; 1 older copy removed$/);
    expect(readdirSync(folder).sort()).toEqual([
      'lifeboat-20261124T040000Z.db',
      'lifeboat-20261124T050000Z.db',
    ]);
    expect(countRuns(path.join(folder, 'lifeboat-20261124T050000Z.db'))).toBe(1);
    expect(posts).toEqual([]); // quiet while it works

    // A copy that cannot be proven is not kept, and the job fails (the scheduler posts why).
    sqliteStoreOf(t).db.exec('DROP TRIGGER IF EXISTS audit_log_no_update');
    sqliteStoreOf(t).db.prepare("UPDATE audit_log SET actor = 'U0MALLORY' WHERE seq = 1").run();
    await expect(
      job!.run({ config: t.config, engine: t.engine, notifier, now: clock() }),
    ).rejects.toThrow(/its audit log is broken at event #1/);
    expect(readdirSync(folder)).toHaveLength(2);
    await t.store.close();
  });

  it('needs a folder to write to', async () => {
    await expect(
      makeEngine({
        runbooks: { drill },
        configYaml: `${configYaml}slack: { channel: C0DR }\nschedules:\n  - { name: store-copy, cron: "0 * * * *", check: store-backup }\n`,
      }),
    ).rejects.toThrow(
      /schedules\[0\]\.to: is required \(a store-backup needs to: the folder for the copies/,
    );
  });
});
