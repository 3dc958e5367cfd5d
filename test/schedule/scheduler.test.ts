// Scheduled jobs driven directly, with a clock the test moves: no waiting for real time.

import { describe, expect, it } from 'vitest';
import { decideAlert } from '../../src/schedule/alerts.js';
import { buildJobs, type Job } from '../../src/schedule/jobs.js';
import type { Notice } from '../../src/schedule/notifier.js';
import { Scheduler } from '../../src/schedule/scheduler.js';
import { createS3BackupStore } from '../../src/providers/aws/s3.js';
import { createPostgresProvider } from '../../src/providers/postgres/index.js';
import { makeEngine, postgresConfig, testClock, type TestEngine } from '../support/engine.js';
import { putObject, storeNow, useS3rver } from '../support/s3.js';

const s3 = useS3rver(['sched-backups']);
const HOUR = 3_600_000;

async function setup(
  schedulesYaml: string,
  runbooks: Record<string, string> = {},
  withDatabase = false,
) {
  const clock = testClock('2026-11-24T03:00:00.000Z');
  const config = `slack: { channel: C0DROPS }
${postgresConfig('postgres://postgres@127.0.0.1:1/postgres', 'postgres://postgres@127.0.0.1:2/postgres')}    backups: { provider: s3, bucket: sched-backups, prefix: pg/, region: us-west-2, endpoint: "${s3.endpoint()}", max_age: 6h }
schedules:
${schedulesYaml}`;
  const t: TestEngine = await makeEngine({
    runbooks: {
      'dr-test':
        '---\ntitle: Annual DR test\nkind: drill\nservice: payments-db\n---\n## Go (10 minutes)\n- Fail over\n',
      failover: '---\nkind: failover\nservice: payments-db\n---\n- Promote `action: db.promote`\n',
      ...runbooks,
    },
    configYaml: config,
    clock,
    providersFor: (service) => ({
      database:
        withDatabase && service?.database.provider === 'postgres'
          ? createPostgresProvider(service.database)
          : null,
      dns: null,
      backups: service?.backups
        ? createS3BackupStore(service.backups, { client: s3.client(), retry: { attempts: 1 } })
        : null,
    }),
  });
  const posts: Notice[] = [];
  const notifier = { post: (notice: Notice) => Promise.resolve(void posts.push(notice)) };
  const jobs = buildJobs(t.config);
  const scheduler = new Scheduler({
    db: t.store,
    jobs,
    clock,
    context: (now) => ({ config: t.config, engine: t.engine, notifier, now }),
  });
  const job = (name: string) => jobs.find((j) => j.name === name)!;
  let minute = 0;
  const tick = (name: string) =>
    scheduler.fire(job(name), new Date(Date.parse('2026-11-24T00:00:00Z') + minute++ * 60_000));
  return { t, clock, posts, scheduler, job, tick };
}

describe('alert decisions', () => {
  it('post a failure once, again on change and daily, and a recovery once', () => {
    const at = (h: number) => new Date(Date.parse('2026-11-24T00:00:00Z') + h * HOUR);
    const failing = { failing: true, state: 'stale', postedAt: at(0).toISOString() };
    expect(decideAlert(null, { ok: true, state: 'ok' }, at(0))).toBeNull();
    expect(decideAlert(null, { ok: false, state: 'stale' }, at(0))).toBe('failure');
    expect(decideAlert(failing, { ok: false, state: 'stale' }, at(1))).toBeNull();
    expect(decideAlert(failing, { ok: false, state: 'shrunk' }, at(1))).toBe('changed');
    expect(decideAlert(failing, { ok: false, state: 'stale' }, at(24))).toBe('still-failing');
    expect(decideAlert(failing, { ok: true, state: 'ok' }, at(2))).toBe('recovered');
    expect(
      decideAlert({ ...failing, failing: false }, { ok: true, state: 'ok' }, at(2)),
    ).toBeNull();
  });
});

describe('the backup check job', () => {
  it('posts a stale backup once, a daily reminder while it lasts, a change, and the recovery once', async () => {
    const { clock, posts, tick } = await setup(
      '  - { name: backup-check, cron: "*/30 * * * *", check: backups }\n',
    );
    await putObject(s3.client(), 'sched-backups', 'pg/1.dump', Buffer.alloc(4000, 1));
    clock.set((await storeNow(s3.client(), 'sched-backups')).toISOString());
    await tick('backup-check');
    expect(posts).toEqual([]);

    clock.advance(7 * HOUR);
    await tick('backup-check');
    await tick('backup-check');
    expect(posts.map((p) => p.text)).toEqual([
      expect.stringMatching(
        /^:x: \*failing\* backup check of \*payments-db\*: s3:\/\/sched-backups\/pg\/: newest backup is 7h( \d+s)? old/,
      ),
    ]);

    clock.advance(24 * HOUR);
    await tick('backup-check');
    expect(posts.at(-1)?.text).toMatch(/still failing\* \(daily reminder\)/);
    expect(posts).toHaveLength(2);

    await putObject(s3.client(), 'sched-backups', 'pg/1b.dump', Buffer.alloc(10, 1));
    clock.set((await storeNow(s3.client(), 'sched-backups')).toISOString());
    await tick('backup-check');
    await tick('backup-check');
    expect(posts.at(-1)?.text).toMatch(
      /still failing, differently\* backup check of \*payments-db\*: .*less than half of the previous one/,
    );
    expect(posts).toHaveLength(3);

    await putObject(s3.client(), 'sched-backups', 'pg/2.dump', Buffer.alloc(4100, 1));
    await tick('backup-check');
    await tick('backup-check');
    expect(posts.at(-1)?.text).toMatch(
      /^:white_check_mark: \*recovered\* backup check of \*payments-db\*: newest pg\/2\.dump/,
    );
    expect(posts).toHaveLength(4);
  });
});

describe('the replication-lag watch', () => {
  it('alerts once per episode, not once per tick', async () => {
    const { t, posts, tick } = await setup(
      '  - { name: lag-watch, cron: "* * * * *", check: lag }\n',
      {},
      true,
    );
    for (let i = 0; i < 5; i++) await tick('lag-watch');
    expect(posts).toHaveLength(1);
    expect(posts[0]!.text).toMatch(
      /^:x: \*failing\* replication of \*payments-db\*: NO WRITER since .*: primary 127\.0\.0\.1:1 does not answer: cannot connect: connect ECONNREFUSED 127\.0\.0\.1:1; replica 127\.0\.0\.1:2 does not answer/,
    );
    const recorded = await t.store.get(
      "SELECT count(*) AS n FROM check_results WHERE check_name = 'lag'",
    );
    expect(recorded).toEqual({ n: 5 });
  });
});

describe('DR-test reminders', () => {
  it('name the runbook and its last run, offer to start it, and stay quiet during a real failover', async () => {
    const { t, posts, tick } = await setup(
      '  - { name: annual, cron: "0 10 15 3 *", remind: dr-test }\n',
    );
    await tick('annual');
    expect(posts[0]).toEqual({
      text: ':alarm_clock: *DR test due:* Annual DR test (`dr-test`, drill). It has never been run.',
      startRunbook: 'dr-test',
    });

    const { runId } = await t.engine.startRun({
      key: 'k',
      actor: { user: 'U0ALICE' },
      runbook: 'dr-test',
    });
    t.clock.advance(5 * 60_000);
    await t.engine.completeStep({ key: 'd', actor: { user: 'U0ALICE' }, runId, stepIndex: 0 });
    await t.engine.idle();
    await tick('annual');
    expect(posts[1]?.text).toMatch(
      /Last run \d{4}-\d\d-\d\d: succeeded, RTO 5m \(met the objective\)\./,
    );

    await t.engine.startRun({ key: 'real', actor: { user: 'U0ALICE' }, runbook: 'failover' });
    expect(await tick('annual')).toMatch(/^quiet: failover r-[0-9a-f]+ in flight$/);
    expect(posts).toHaveLength(2);
  });

  it('fires a missed reminder once after downtime, not once per missed slot', async () => {
    const { t, posts, scheduler } = await setup(
      '  - { name: weekly, cron: "0 9 * * 1", remind: dr-test }\n',
    );
    await scheduler.catchUp(); // first start: nothing to make up for
    expect(posts).toHaveLength(0);
    await t.store.run("UPDATE schedule_slots SET last_slot = '2026-01-01T00:00:00.000Z'");
    await scheduler.catchUp();
    await scheduler.catchUp();
    expect(posts).toHaveLength(1);
    expect(posts[0]?.startRunbook).toBe('dr-test');
  });

  it('reports a job that fails as that check failing, and keeps going', async () => {
    const { posts, tick } = await setup(
      '  - { name: ghost, cron: "0 9 * * 1", remind: no-such-runbook }\n',
    );
    expect(await tick('ghost')).toBe(
      'failed: reminder for runbook "no-such-runbook", which does not exist',
    );
    expect(posts[0]?.text).toBe(
      ':warning: scheduled job *ghost* failed: reminder for runbook "no-such-runbook", which does not exist',
    );
  });
});

describe('runbook staleness', () => {
  it('runs weekly by default and names runbooks not reviewed for 180 days', async () => {
    const { posts, job, tick } = await setup(
      '  - { name: annual, cron: "0 10 15 3 *", remind: dr-test }\n',
    );
    expect(job('runbook-staleness')).toMatchObject({ cron: '0 9 * * 1', timezone: 'UTC' });
    await tick('runbook-staleness');
    expect(posts[0]?.text).toContain('*Runbooks need attention*');
    expect(posts[0]?.text).toContain('`dr-test` was last reviewed never');
  });
});

describe('the audit anchor', () => {
  it('publishes the head hash daily in the channel and in the backups bucket, never as a backup', async () => {
    const { t, posts, job, tick } = await setup(
      '  - { name: annual, cron: "0 10 15 3 *", remind: dr-test }\n',
    );
    expect(job('audit-anchor')).toMatchObject({ cron: '5 0 * * *', timezone: 'UTC' });
    await t.engine.startRun({ key: 'k', actor: { user: 'U0ALICE' }, runbook: 'dr-test' });
    await t.engine.idle();
    expect(await tick('audit-anchor')).toMatch(/^anchored #\d+$/);
    const head = /Audit log head #(\d+) `([0-9a-f]{64})`/.exec(posts[0]!.text)!;
    expect(posts[0]!.text).toContain(`lifeboat audit verify --since ${head[2]}`);
    expect(posts[0]!.text).toMatch(
      /Also written to s3:\/\/sched-backups\/lifeboat-audit\/\d{4}-\d\d-\d\d-\d+\.json\./,
    );
    const store = t.engine.providersFor(t.config.services['payments-db']!, 'restore-test').backups!;
    expect((await store.listBackups()).map((b) => b.key)).not.toContain(
      expect.stringMatching(/^lifeboat-audit\//),
    );
  });
});

describe('leases', () => {
  async function twoSchedulers(clockAt: string) {
    const { t } = await setup('  - { name: annual, cron: "0 10 15 3 *", remind: dr-test }\n');
    const clock = testClock(clockAt);
    let runs = 0;
    const job: Job = {
      name: 'counted',
      cron: '* * * * *',
      timezone: 'UTC',
      catchesUp: false,
      run: () => Promise.resolve(String(++runs)),
    };
    const notifier = { post: () => Promise.resolve() };
    const context = (now: Date) => ({ config: t.config, engine: t.engine, notifier, now });
    const a = new Scheduler({ db: t.store, jobs: [job], clock, context, owner: 'bot-a' });
    const b = new Scheduler({ db: t.store, jobs: [job], clock, context, owner: 'bot-b' });
    return { a, b, job, runs: () => runs };
  }

  it('fire a slot once when two schedulers share one store', async () => {
    const { a, b, job, runs } = await twoSchedulers('2026-11-24T10:00:05Z');
    const slot = new Date('2026-11-24T10:00:00Z');
    const results = await Promise.all([a.fire(job, slot), b.fire(job, slot), a.fire(job, slot)]);
    expect(results.filter((r) => r !== null)).toEqual(['1']);
    expect(runs()).toBe(1);
    expect(await b.fire(job, new Date('2026-11-24T10:01:00Z'))).toBe('2');
  });

  it('fire a slot once however long ago it was (a clock a year past the slot)', async () => {
    const { a, b, job, runs } = await twoSchedulers('2027-11-24T10:00:05Z');
    const slot = new Date('2026-11-24T10:00:00Z');
    const results = await Promise.all([a.fire(job, slot), b.fire(job, slot), a.fire(job, slot)]);
    expect(results.filter((r) => r !== null)).toEqual(['1']);
    expect(await b.fire(job, slot)).toBeNull();
    expect(runs()).toBe(1);
  });

  it('never fire a slot older than a day behind the newest one claimed', async () => {
    const { a, b, job, runs } = await twoSchedulers('2026-11-26T10:00:05Z');
    expect(await a.fire(job, new Date('2026-11-24T10:00:00Z'))).toBe('1');
    expect(await a.fire(job, new Date('2026-11-26T10:00:00Z'))).toBe('2');
    // The first slot's lease is gone now (more than a day behind the newest): it must not fire again.
    expect(await b.fire(job, new Date('2026-11-24T10:00:00Z'))).toBeNull();
    expect(runs()).toBe(2);
  });
});
