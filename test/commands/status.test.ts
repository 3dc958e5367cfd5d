import { describe, expect, it } from 'vitest';
import { status } from '../../commands/status.js';
import { registerInstance, removeInstance, touchInstance } from '../../src/store/instances.js';
import { makeEngine, postgresConfig, type TestEngine } from '../support/engine.js';
import { parseRunbook } from '../../src/runbook/parse.js';
import type { RunKind } from '../../src/runbook/model.js';
import { finishRun, insertRun } from '../../src/store/runs.js';
import { recordCheckResult } from '../../src/checks/backups.js';

/** What /dr status answers Alice, as text. */
async function statusText(t: TestEngine, args: string[] = []): Promise<string> {
  const reply = await status.run(args, {
    config: t.config,
    store: t.store,
    user: 'U0ALICE',
    clock: t.clock,
    engine: t.engine,
  });
  return (reply as { text: string }).text;
}

describe('/dr status', () => {
  it('shows lag (or why it is unknown), the last run of each kind and when each DR test is next due', async () => {
    const t = await makeEngine({
      runbooks: { drill: '# Drill\n- Look\n', 'dr-test': '# DR test\n- Fail over\n' },
      configYaml: `slack: { channel: C0DROPS }\n${postgresConfig('postgres://postgres@127.0.0.1:1/postgres', 'postgres://postgres@127.0.0.1:2/postgres')}schedules:\n  - { name: annual-full-failover, cron: "0 10 15 3 *", remind: dr-test }\n`,
    });
    const text = await statusText(t);
    expect(text).toContain('*payments-db* — RTO 15m, RPO 1m');
    expect(text).toContain(
      '• replication: *NO WRITER* since 2026-11-24 03:00 UTC: primary 127.0.0.1:1 does not answer: cannot connect',
    );
    expect(text).toContain('• last failback: never');
    expect(text).toContain('• last drill: never');
    expect(text).toMatch(
      /\*DR tests\*\n• `dr-test`: \*OVERDUE\* — no successful run since 2025-03-15 10:00 UTC; last run never; next reminder 2027-03-15 10:00 UTC \(annual-full-failover\)/,
    );

    // A DR test whose every step was skipped proves nothing: not done, and no RTO.
    const skipped = await t.engine.startRun({
      key: 's',
      actor: { user: 'U0ALICE' },
      runbook: 'dr-test',
    });
    await t.engine.skipStep({
      key: 'skip',
      actor: { user: 'U0ALICE' },
      runId: skipped.runId,
      stepIndex: 0,
      reason: 'no time',
    });
    await t.engine.idle();
    expect((await t.engine.getRun(skipped.runId)).run).toMatchObject({
      status: 'succeeded',
      rtoSeconds: null,
    });
    const afterSkip = await statusText(t);
    expect(afterSkip).toMatch(/• `dr-test`: \*OVERDUE\*/);

    const { runId } = await t.engine.startRun({
      key: 'k',
      actor: { user: 'U0ALICE' },
      runbook: 'dr-test',
    });
    await t.engine.completeStep({ key: 'd', actor: { user: 'U0ALICE' }, runId, stepIndex: 0 });
    await t.engine.idle();
    const after = await statusText(t);
    expect(after).toMatch(/• `dr-test`: done for this period; last run 2026-11-24 03:00;/);
  });

  it("finds each kind's last run of a service however many runs of other services came after it", async () => {
    const t = await makeEngine({
      runbooks: { drill: '# Drill\n- Look\n' },
      configYaml: postgresConfig(
        'postgres://postgres@127.0.0.1:1/postgres',
        'postgres://postgres@127.0.0.1:2/postgres',
      ),
    });
    const runbook = parseRunbook('# Drill\n- Look\n', 'runbooks/drill.md');
    const run = async (id: string, service: string, kind: RunKind, at: string) => {
      await insertRun(t.store, {
        id,
        runbook,
        service,
        kind,
        startedBy: 'U0ALICE',
        startedAt: new Date(at),
        impactAt: new Date(at),
        idempotencyKey: null,
      });
      await finishRun(t.store, id, {
        status: 'succeeded',
        finishedAt: new Date(Date.parse(at) + 600_000),
        rtoSeconds: 600,
      });
    };
    await run('r-failover', 'payments-db', 'failover', '2026-01-10T10:00:00Z');
    await run('r-drill', 'payments-db', 'drill', '2026-02-10T10:00:00Z');
    await t.store.transaction(async () => {
      for (let i = 0; i < 250; i++)
        await run(
          `r-other-${i}`,
          'ledger-db',
          'drill',
          `2026-03-01T${String(i % 24).padStart(2, '0')}:00:00Z`,
        );
    });
    const text = await statusText(t, ['payments-db']);
    expect(text).toContain('• last failover: 2026-01-10 succeeded, RTO 10m');
    expect(text).toContain('• last drill: 2026-02-10 succeeded, RTO 10m');
    expect(text).toContain('• last failback: never');
    // What the strategy can expect, from the latest recovery run; the lag cannot be read now.
    expect(text).toContain(
      '• strategy: warm standby: expected RTO ≈ 10m (the last drill took 10m (2026-02-10)); RPO not measured: the replica lag is unknown',
    );
  });

  it('shows a backup-restore service’s expected RTO and RPO from its restore tests and backups, and where it cannot meet its objectives', async () => {
    const t = await makeEngine({
      runbooks: {},
      configYaml: postgresConfig(
        'postgres://postgres@127.0.0.1:1/postgres',
        'postgres://postgres@127.0.0.1:2/postgres',
        `    strategy: backup-restore
    backups: { provider: s3, bucket: b, prefix: pg/, region: us-west-2, endpoint: "http://127.0.0.1:1", max_age: 1d }
`,
      ),
    });
    const show = () => statusText(t, ['payments-db']);
    expect(await show()).toContain(
      '• strategy: backup and restore: expected RTO not measured: no restore test has passed yet; RPO not measured: no backup checked yet',
    );
    const now = t.clock().getTime();
    const iso = (msAgo: number) => new Date(now - msAgo).toISOString();
    await recordCheckResult(
      t.store,
      'backups',
      { service: 'payments-db', ok: true, summary: 'newest pg/x.dump', at: iso(0) },
      { state: 'ok', newestAt: iso(2 * 3600_000), previousAt: iso(8 * 3600_000) },
    );
    await recordCheckResult(
      t.store,
      'restore',
      { service: 'payments-db', ok: true, summary: 'restored', at: iso(3600_000) },
      { state: 'ok', downloadSeconds: 300, restoreSeconds: 1500 },
    );
    const text = await show();
    expect(text).toContain(
      '• strategy: backup and restore: expected RTO ≈ 30m (the last restore test took 30m (2026-11-24), before DNS and the application); RPO ≈ 6h (a backup every 6h)',
    );
    expect(text).toContain(
      '• *cannot meet RTO 15m: the last restore test took 30m (2026-11-24), before DNS and the application*',
    );
    expect(text).toContain('• *cannot meet RPO 1m: a backup every 6h*');
  });

  it('shows which instance walks each run in flight and when each instance was last seen', async () => {
    const t = await makeEngine({
      runbooks: { drill: '---\ntitle: Drill\nkind: drill\nservice: payments-db\n---\n- Look\n' },
      configYaml: postgresConfig(
        'postgres://postgres@127.0.0.1:1/postgres',
        'postgres://postgres@127.0.0.1:2/postgres',
      ),
      executorId: 'eu-west-1a:4242:abcdef',
    });
    const show = () => statusText(t);
    expect(await show()).toContain(
      '*Instances*\n• none serving this store (the bot is not running)',
    );

    const now = t.clock();
    await registerInstance(t.store, 'eu-west-1a:4242:abcdef', '1.4.0', now);
    await registerInstance(
      t.store,
      'us-east-1b:77:fedcba',
      '1.4.0',
      new Date(now.getTime() - 600_000),
    );
    await touchInstance(t.store, 'us-east-1b:77:fedcba', new Date(now.getTime() - 300_000));
    const { runId } = await t.engine.startRun({
      key: 'k',
      actor: { user: 'U0ALICE' },
      runbook: 'drill',
    });
    await t.engine.idle();
    expect(await show()).toContain(
      `• in flight: drill \`${runId}\` (running), started by <@U0ALICE>, no instance walking it (it waits for people)`,
    );
    // While a walker holds it (an action running), status names it and its fencing epoch.
    await t.store.run(
      'UPDATE runs SET executor = ?, executor_seen = ?, executor_epoch = 3 WHERE id = ?',
      'eu-west-1a:4242:abcdef',
      new Date(now.getTime() - 4000).toISOString(),
      runId,
    );
    const text = await show();
    expect(text).toContain(
      `started by <@U0ALICE>, walked by \`eu-west-1a:4242:abcdef\` (epoch 3, seen 4s ago)`,
    );
    expect(text).toMatch(
      /\*Instances\*\n• `us-east-1b:77:fedcba` lifeboat 1\.4\.0, up since <!date[^>]+>, \*not seen for 5m\*: stopped or cut off\n• `eu-west-1a:4242:abcdef` lifeboat 1\.4\.0, up since <!date\^\d+\^\{date_num\} \{time\}\|2026-11-24 03:00 UTC>, seen 0s ago/,
    );
    await removeInstance(t.store, 'us-east-1b:77:fedcba');
    expect(await show()).not.toContain('us-east-1b');
  });
});
