// The store on a real PostgreSQL: created and migrated once however many instances start
// together; two engines on one store give one effect per command and count each approval once;
// the audit chain stays one chain; scheduled slots fire once; and when the store's own primary
// dies and its standby is promoted mid-run, lifeboat finds the new primary and finishes the run.

import { mkdirSync, writeFileSync } from 'node:fs';
import pg from 'pg';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig, type Config } from '../../src/config.js';
import { Engine } from '../../src/engine/engine.js';
import { createServiceProviders } from '../../src/providers/index.js';
import { startThrowawayServer } from '../../src/providers/postgres/servers.js';
import { resolveRunbookByName } from '../../src/runbook/library.js';
import { Scheduler } from '../../src/schedule/scheduler.js';
import type { Job } from '../../src/schedule/jobs.js';
import {
  auditHead,
  GENESIS_HASH,
  quickWalk,
  recordAuditEvents,
  verifyAuditLog,
} from '../../src/store/audit.js';
import { LATEST_SCHEMA, type Store } from '../../src/store/db.js';
import { openStoreAt } from '../../src/store/open.js';
import { getRunbookSnapshot, insertRun } from '../../src/store/runs.js';
import type { Runbook } from '../../src/runbook/model.js';
import { MIGRATIONS } from '../../src/store/migrations.js';
import { POSTGRES_MIGRATIONS } from '../../src/store/postgres-schema.js';
import { makeEngine, testClock, type TestClock } from '../support/engine.js';
import { cli } from '../support/cli.js';
import { sql, usePostgresPair, waitFor } from '../support/pg-pair.js';
import { awkwardEvents } from '../support/awkward-text.js';
import { verifyAuditLogParallel } from '../../src/store/audit-verify-parallel.js';
import { makeTempDir } from '../support/tmp.js';

const drill = `---
title: Quarterly drill
kind: drill
---
## Phase 1: Work (10 minutes)
1. Look at the dashboards
2. Cut the old region's network by hand \`approval: two-person\`
3. Decide
`;

const configYaml = (store: string) => `store: ${store}
approvals:
  approvers: [U0ALICE, U0BOB, U0CAROL]
  required: 2
services: {}
`;

interface Instance {
  engine: Engine;
  store: Store;
  config: Config;
}

/** One lifeboat instance on the store `url` names: its own connections, the same runbooks. */
async function instance(storeSetting: string, clock: TestClock, dir: string): Promise<Instance> {
  const runbooks = path.join(dir, 'runbooks');
  mkdirSync(runbooks, { recursive: true });
  writeFileSync(path.join(runbooks, 'drill.md'), drill);
  const config = parseConfig(configYaml(storeSetting), path.join(dir, 'lifeboat.yml'));
  const store = await openStoreAt(config.store, { clock });
  const engine = new Engine({
    store,
    config,
    clock,
    loadRunbook: (name) => resolveRunbookByName(name, runbooks),
    providersFor: (service, kind, promote) => createServiceProviders(service, kind, { promote }),
    sleep: () => Promise.resolve(),
  });
  return { engine, store, config };
}

describe('the PostgreSQL store', () => {
  let server: Awaited<ReturnType<typeof startThrowawayServer>>;
  let schemas = 0;
  /** A store setting for a schema of its own on the throwaway server. */
  const freshStore = () =>
    `{ url: "${server.server.url}", schema: lifeboat_${process.pid}_${++schemas} }`;

  beforeAll(async () => {
    server = await startThrowawayServer();
  }, 120_000);
  afterAll(async () => {
    await server?.stop();
  });

  it('is created and migrated once when instances start together, at the version SQLite stores reach', async () => {
    expect(POSTGRES_MIGRATIONS.at(-1)!.version).toBe(MIGRATIONS.at(-1)!.version);
    const setting = freshStore();
    const config = parseConfig(configYaml(setting), path.join(makeTempDir(), 'lifeboat.yml'));
    const stores = await Promise.all(
      Array.from({ length: 4 }, () => openStoreAt(config.store, { clock: testClock() })),
    );
    expect(stores.map((store) => store.version)).toEqual([1, 2, 3, 4].map(() => LATEST_SCHEMA));
    // The baseline (13) and each migration after it, once.
    expect(await stores[0]!.all('SELECT version FROM schema_migrations ORDER BY version')).toEqual(
      POSTGRES_MIGRATIONS.map((migration) => ({ version: migration.version })),
    );
    await Promise.all(stores.map((store) => store.close()));
  });

  it('refuses a store written by a newer lifeboat and leaves it untouched', async () => {
    const setting = freshStore();
    const config = parseConfig(configYaml(setting), path.join(makeTempDir(), 'lifeboat.yml'));
    const first = await openStoreAt(config.store);
    await first.run(
      "INSERT INTO schema_migrations (version, name, applied_at) VALUES (99, 'from the future', 'x')",
    );
    await first.close();
    await expect(openStoreAt(config.store)).rejects.toThrow(
      new RegExp(
        `was written by a newer lifeboat \\(schema version 99; this lifeboat knows up to ${LATEST_SCHEMA}\\)`,
      ),
    );
    const look = await openStoreAt(config.store, { inspectOnly: true });
    expect(look!.version).toBe(99);
    expect(await look!.all('SELECT version FROM schema_migrations ORDER BY version')).toEqual([
      ...POSTGRES_MIGRATIONS.map((migration) => ({ version: migration.version })),
      { version: 99 },
    ]);
    await look!.close();
  });

  it('keeps one copy of each runbook snapshot when version 15 moves them out of the runs', async () => {
    const schema = `lifeboat_${process.pid}_${++schemas}`;
    const snapshot = { name: 'drill', file: 'runbooks/drill.md' };
    const client = new pg.Client({ connectionString: server.server.url });
    await client.connect();
    try {
      // A store as lifeboat left it at version 14: two runs of one runbook, one of an edit of it.
      await client.query(`CREATE SCHEMA ${schema}; SET search_path TO ${schema}`);
      await client.query(
        'CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)',
      );
      for (const migration of POSTGRES_MIGRATIONS.filter((m) => m.version <= 14)) {
        await client.query(migration.sql);
        await client.query("INSERT INTO schema_migrations VALUES ($1, $2, 'then')", [
          migration.version,
          migration.name,
        ]);
      }
      for (const [id, body] of [
        ['r-1', JSON.stringify(snapshot)],
        ['r-2', JSON.stringify({ ...snapshot, edited: true })],
        ['r-3', JSON.stringify(snapshot)],
      ])
        await client.query(
          `INSERT INTO runs (id, runbook, runbook_file, runbook_snapshot, kind, status, started_by, started_at, impact_at)
           VALUES ($1, 'drill', 'runbooks/drill.md', $2, 'drill', 'succeeded', 'U0ALICE', '2026-11-01T10:00:00Z', '2026-11-01T10:00:00Z')`,
          [id, body],
        );
    } finally {
      await client.end();
    }
    const config = parseConfig(
      configYaml(`{ url: "${server.server.url}", schema: ${schema} }`),
      path.join(makeTempDir(), 'lifeboat.yml'),
    );
    const store = await openStoreAt(config.store);
    expect(store.version).toBe(LATEST_SCHEMA);
    expect(await store.get('SELECT count(*) AS n FROM runbook_snapshots')).toEqual({ n: 2 });
    expect(await getRunbookSnapshot(store, 'r-1')).toEqual(snapshot);
    expect(await getRunbookSnapshot(store, 'r-2')).toEqual({ ...snapshot, edited: true });
    expect(await getRunbookSnapshot(store, 'r-3')).toEqual(snapshot);
    // The same text hashes alike in both dialects: a run started now shares the migrated copy.
    await insertRun(store, {
      id: 'r-4',
      runbook: snapshot as unknown as Runbook,
      service: null,
      kind: 'drill',
      startedBy: 'U0ALICE',
      startedAt: new Date('2026-11-02T10:00:00Z'),
      impactAt: new Date('2026-11-02T10:00:00Z'),
      idempotencyKey: null,
    });
    expect(await store.get('SELECT count(*) AS n FROM runbook_snapshots')).toEqual({ n: 2 });
    await expect(store.run("UPDATE runbook_snapshots SET body = '{}'")).rejects.toThrow(
      /append-only/,
    );
    await store.close();
  });

  it('gives one effect per command and counts each approval once with two instances on it', async () => {
    const setting = freshStore();
    const clock = testClock();
    const dir = makeTempDir();
    const [a, b] = [await instance(setting, clock, dir), await instance(setting, clock, dir)];
    // The same /dr command delivered to both instances at once (a Slack retry): one run.
    const start = { key: 'slash-1', actor: { user: 'U0ALICE' }, runbook: 'drill' };
    const [fromA, fromB] = await Promise.all([a.engine.startRun(start), b.engine.startRun(start)]);
    expect(fromA.runId).toBe(fromB.runId);
    expect([fromA.replayed, fromB.replayed].sort()).toEqual([false, true]);
    expect(await a.store.all('SELECT id FROM runs')).toHaveLength(1);
    const runId = fromA.runId;
    await Promise.all([a.engine.idle(), b.engine.idle()]);
    // Done clicked twice, once on each instance.
    const done = { key: 'done-0', actor: { user: 'U0ALICE' }, runId, stepIndex: 0 };
    await Promise.all([a.engine.completeStep(done), b.engine.completeStep(done)]);
    await Promise.all([a.engine.idle(), b.engine.idle()]);
    await waitFor(
      async () => (await b.engine.getRun(runId)).current?.waitingOn === 'approval',
      'the approval request',
    );
    const approval = (await b.engine.getRun(runId)).current!.approvals[0]!;
    // Bob's click reaches both instances; Carol approves on the other: two approvals, not three.
    const bob = {
      key: 'bob',
      actor: { user: 'U0BOB' },
      approvalId: approval.id,
      decision: 'approve' as const,
    };
    await Promise.all([
      a.engine.decideApproval(bob),
      b.engine.decideApproval(bob),
      b.engine.decideApproval({ ...bob, key: 'carol', actor: { user: 'U0CAROL' } }),
    ]);
    await Promise.all([a.engine.idle(), b.engine.idle()]);
    const votes = (await a.engine.getRun(runId)).steps[1]!.approvals[0]!.votes;
    expect(votes.map((vote) => vote.approver).sort()).toEqual(['U0BOB', 'U0CAROL']);
    for (const step of [1, 2])
      await a.engine.completeStep({
        key: `d${step}`,
        actor: { user: 'U0ALICE' },
        runId,
        stepIndex: step,
      });
    await Promise.all([a.engine.idle(), b.engine.idle()]);
    expect((await b.engine.getRun(runId)).run.status).toBe('succeeded');
    expect(await a.store.all("SELECT count(*) AS n FROM step_events WHERE event = 'done'")).toEqual(
      [{ n: 3 }],
    );
    expect(await verifyAuditLog(b.store)).toMatchObject({ ok: true });
    await Promise.all([a.store.close(), b.store.close()]);
  });

  it('keeps the audit log one chain when instances append at the same time', async () => {
    const setting = freshStore();
    const config = parseConfig(configYaml(setting), path.join(makeTempDir(), 'lifeboat.yml'));
    const stores = await Promise.all([openStoreAt(config.store), openStoreAt(config.store)]);
    await Promise.all(
      stores.flatMap((store, who) =>
        Array.from({ length: 50 }, (_, i) =>
          recordAuditEvents(store, [
            { actor: `U0${who}`, action: 'step.done', subject: 'r-1', details: { i } },
            { actor: `U0${who}`, action: 'note.added', subject: 'r-1', details: { i } },
          ]),
        ),
      ),
    );
    expect(await verifyAuditLog(stores[1])).toEqual(
      expect.objectContaining({ ok: true, count: 200 }),
    );
    // Append-only there too.
    await expect(
      stores[0].run("UPDATE audit_log SET actor = 'U0MALLORY' WHERE seq = 4"),
    ).rejects.toThrow('audit_log is append-only');
    await Promise.all(stores.map((store) => store.close()));
  });

  it('verifies the chain in worker threads and on one, whatever characters the events hold, and names an edit and a deletion', async () => {
    // Every character comes back from the server as it was hashed, or the walk stops short.
    const config = parseConfig(configYaml(freshStore()), path.join(makeTempDir(), 'lifeboat.yml'));
    const store = await openStoreAt(config.store);
    const events = awkwardEvents({ withNul: false });
    await recordAuditEvents(store, events);
    const head = await auditHead(store);
    expect(head.seq).toBe(events.length);
    expect(await quickWalk(store, { seq: 0, hash: GENESIS_HASH })).toEqual(head);
    expect(await verifyAuditLog(store)).toEqual({
      ok: true,
      count: events.length,
      headHash: head.hash,
    });
    // `lifeboat audit verify`: worker threads, each over its own connection, a range each.
    const fellBack: string[] = [];
    const parallel = () =>
      verifyAuditLogParallel(store, config.store, {
        workers: 3,
        parallelFrom: 1,
        onOneThread: (why) => fellBack.push(why),
      });
    expect(await parallel()).toEqual(await verifyAuditLog(store));

    // Someone with the database's owner, past the append-only trigger.
    await store.run('ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only');
    await store.run("UPDATE audit_log SET subject = 'r-forged' WHERE seq = 3");
    expect(await quickWalk(store, { seq: 0, hash: GENESIS_HASH })).toMatchObject({
      seq: 2,
    });
    const edited = {
      ok: false,
      count: 2,
      brokenAt: 3,
      reason: 'event #3 was edited: its content no longer matches its hash',
    };
    expect(await verifyAuditLog(store)).toEqual(edited);
    expect(await parallel()).toEqual(edited);
    // Put back, then the first event of the second worker's range (22–42) deleted.
    await store.run('UPDATE audit_log SET subject = ? WHERE seq = 3', events[2]!.subject);
    expect(await parallel()).toMatchObject({ ok: true, count: events.length });
    await store.run('DELETE FROM audit_log WHERE seq = 22');
    const deleted = await verifyAuditLog(store);
    expect(deleted).toMatchObject({ ok: false, brokenAt: 22 });
    expect(await parallel()).toEqual(deleted);
    expect(fellBack).toEqual([]);
    await store.close();
  });

  it('takes in a SQLite store whole with lifeboat store migrate, and the team carries on there', async () => {
    const t = await makeEngine({ runbooks: { drill }, configYaml: configYaml('./lifeboat.db') });
    writeFileSync(path.join(t.dir, 'lifeboat.yml'), configYaml('./lifeboat.db'));
    const env = { LIFEBOAT_CONFIG: path.join(t.dir, 'lifeboat.yml') };
    const { runId } = await t.engine.startRun({
      key: 'k',
      actor: { user: 'U0ALICE' },
      runbook: 'drill',
    });
    await t.engine.completeStep({ key: 'd0', actor: { user: 'U0ALICE' }, runId, stepIndex: 0 });
    await t.engine.idle();
    const approval = (await t.engine.getRun(runId)).current!.approvals[0]!;
    for (const user of ['U0BOB', 'U0CAROL'])
      await t.engine.decideApproval({
        key: user,
        actor: { user },
        approvalId: approval.id,
        decision: 'approve',
      });
    await t.engine.addNote({
      key: 'n',
      actor: { user: 'U0ALICE' },
      runId,
      text: 'network cut at 03:14',
    });
    await t.engine.idle();
    const original = await verifyAuditLog(t.store);
    await t.store.close();

    const schema = `lifeboat_${process.pid}_${++schemas}`;
    const moved = await cli(
      ['store', 'migrate', '--to', server.server.url, '--schema', schema],
      env,
    );
    expect(moved.stderr).toBe('');
    expect(moved.stdout).toMatch(
      new RegExp(
        `copied .*lifeboat.db to ${server.server.url.replace(/[.?]/g, '\\$&')}: 1 runs, 3 steps, 1 approvals, 0 check results, ${original.count} audit events — chain verified in PostgreSQL, head ${original.ok ? original.headHash : ''}`,
      ),
    );
    expect(moved.stdout).toContain(
      `next: in lifeboat.yml, store: { url: "${server.server.url}", schema: ${schema} }`,
    );
    expect(moved.code).toBe(0);
    // The tables copied are analyzed: the first queries are planned on what they hold (without
    // ANALYZE PostgreSQL would count them as empty, reltuples 0 or -1, until autovacuum comes).
    const counted = await sql<{ relname: string; reltuples: number }>(
      server.server.url,
      `SELECT relname, reltuples FROM pg_class JOIN pg_namespace ON pg_namespace.oid = relnamespace
       WHERE nspname = $1 AND relname IN ('runs', 'run_steps', 'audit_log') ORDER BY relname`,
      [schema],
    );
    expect(counted).toEqual([
      { relname: 'audit_log', reltuples: original.count },
      { relname: 'run_steps', reltuples: 3 },
      { relname: 'runs', reltuples: 1 },
    ]);
    // Into a store that already holds runs: refused, nothing touched.
    const again = await cli(
      ['store', 'migrate', '--to', server.server.url, '--schema', schema],
      env,
    );
    expect(again.code).toBe(1);
    expect(again.stderr).toContain(
      'already holds runs or audit events: lifeboat copies a store only into an empty one',
    );

    // The instance on PostgreSQL takes the run up where it was: the same approval, note and chain.
    const there = await instance(
      `{ url: "${server.server.url}", schema: ${schema} }`,
      t.clock,
      t.dir,
    );
    const view = await there.engine.getRun(runId);
    expect(view.current?.index).toBe(1);
    expect(view.steps[1]!.approvals[0]!.votes.map((vote) => vote.approver)).toEqual([
      'U0BOB',
      'U0CAROL',
    ]);
    for (const step of [1, 2])
      await there.engine.completeStep({
        key: `d${step}`,
        actor: { user: 'U0ALICE' },
        runId,
        stepIndex: step,
      });
    await there.engine.idle();
    expect((await there.engine.getRun(runId)).run.status).toBe('succeeded');
    const note = await there.engine.addNote({
      key: 'n2',
      actor: { user: 'U0ALICE' },
      runId,
      text: 'done',
    });
    expect(note.message).toBe('note added');
    expect(await verifyAuditLog(there.store)).toMatchObject({ ok: true });
    await there.store.close();
  });

  it('is what lifeboat check config inspects: its schema and audit chain, or why it cannot be opened', async () => {
    const dir = makeTempDir();
    const schema = `lifeboat_${process.pid}_${++schemas}`;
    const write = (store: string) =>
      writeFileSync(path.join(dir, 'lifeboat.yml'), configYaml(store));
    const env = { LIFEBOAT_CONFIG: path.join(dir, 'lifeboat.yml') };
    mkdirSync(path.join(dir, 'runbooks'), { recursive: true });
    write(`{ url: "${server.server.url}", schema: ${schema} }`);
    const before = await cli(['check', 'config'], env);
    expect(before.stdout).toContain(
      `store       ${server.server.url} (none yet: the first start creates it)`,
    );
    const one = await instance(
      `{ url: "${server.server.url}", schema: ${schema} }`,
      testClock(),
      dir,
    );
    await one.engine.startRun({ key: 'k', actor: { user: 'U0ALICE' }, runbook: 'drill' });
    await one.engine.idle();
    await one.store.close();
    const after = await cli(['check', 'config'], env);
    expect(after.stdout).toMatch(
      new RegExp(
        `store {7}postgres://\\S+ \\(schema ${LATEST_SCHEMA}, \\d+ audit events, all checked\\)`,
      ),
    );
    expect(after.code).toBe(0);
    write('"postgres://lifeboat:hunter2@127.0.0.1:1/ops"');
    const down = await cli(['check', 'config'], env);
    expect(down.stdout).toContain(
      'FAIL  postgres://lifeboat:***@127.0.0.1:1/ops: cannot open the store: connect ECONNREFUSED 127.0.0.1:1',
    );
    expect(down.stdout).not.toMatch(/ok {4}store/);
    expect(down.stdout).not.toContain('hunter2');
    expect(down.code).toBe(1);
  });

  it('fires a scheduled job once per slot across instances', async () => {
    const setting = freshStore();
    const config = parseConfig(configYaml(setting), path.join(makeTempDir(), 'lifeboat.yml'));
    const stores = await Promise.all([openStoreAt(config.store), openStoreAt(config.store)]);
    let runs = 0;
    const job: Job = {
      name: 'nightly',
      cron: '0 3 * * *',
      timezone: 'UTC',
      catchesUp: false,
      run: () => {
        runs += 1;
        return Promise.resolve('ran');
      },
    };
    const schedulers = stores.map(
      (db) =>
        new Scheduler({
          db,
          jobs: [job],
          clock: () => new Date('2026-11-24T03:00:00Z'),
          context: () => ({}) as never,
        }),
    );
    const slot = new Date('2026-11-24T03:00:00Z');
    const outcomes = await Promise.all(schedulers.map((scheduler) => scheduler.fire(job, slot)));
    expect(outcomes.filter((outcome) => outcome === 'ran')).toHaveLength(1);
    expect(runs).toBe(1);
    await Promise.all(stores.map((store) => store.close()));
  });
});

describe("the PostgreSQL store's own failover", () => {
  const pair = usePostgresPair();

  it('finds the promoted standby when the primary dies mid-run, and finishes the run', async () => {
    const { primary, standby } = pair.get();
    const hostOf = (url: string) => /@([^/]+)\//.exec(url)![1]!;
    const url = primary.url.replace(
      hostOf(primary.url),
      `${hostOf(primary.url)},${hostOf(standby.url)}`,
    );
    const setting = `"${url}?target_session_attrs=read-write"`;
    const clock = testClock();
    const one = await instance(setting, clock, makeTempDir());
    const { runId } = await one.engine.startRun({
      key: 'k',
      actor: { user: 'U0ALICE' },
      runbook: 'drill',
    });
    await one.engine.completeStep({ key: 'd0', actor: { user: 'U0ALICE' }, runId, stepIndex: 0 });
    await one.engine.idle();
    await waitFor(
      () =>
        sql<{ n: number }>(standby.url, 'SELECT count(*)::int AS n FROM runs').then(
          (rows) => rows[0]!.n === 1,
          // The schema itself may not have been replayed on the standby yet.
          (error: unknown) => {
            if ((error as { code?: string }).code === '42P01') return false;
            throw error;
          },
        ),
      'the standby to have the run',
    );
    // The store's region goes: its primary dies, its standby is promoted (as RDS or Patroni would).
    await pair.get().killPrimary();
    await sql(standby.url, 'SELECT pg_promote()');
    const approval = (await one.engine.getRun(runId)).current!.approvals[0]!;
    for (const user of ['U0BOB', 'U0CAROL'])
      await one.engine.decideApproval({
        key: user,
        actor: { user },
        approvalId: approval.id,
        decision: 'approve',
      });
    for (const step of [1, 2])
      await one.engine.completeStep({
        key: `d${step}`,
        actor: { user: 'U0ALICE' },
        runId,
        stepIndex: step,
      });
    await one.engine.idle();
    expect((await one.engine.getRun(runId)).run.status).toBe('succeeded');
    expect(await verifyAuditLog(one.store)).toMatchObject({ ok: true });
    // It was the promoted standby that took the writes.
    expect(await sql(standby.url, 'SELECT status FROM runs WHERE id = $1', [runId])).toEqual([
      { status: 'succeeded' },
    ]);
    await one.store.close();
  }, 60_000);
});
