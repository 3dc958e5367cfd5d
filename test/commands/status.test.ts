import { describe, expect, it } from 'vitest';
import { status } from '../../commands/status.js';
import { makeEngine, postgresConfig } from '../support/engine.js';

describe('/dr status', () => {
  it('shows lag (or why it is unknown), the last run of each kind and when each DR test is next due', async () => {
    const t = makeEngine({
      runbooks: { drill: '# Drill\n- Look\n', 'dr-test': '# DR test\n- Fail over\n' },
      configYaml: `slack: { channel: C0DROPS }\n${postgresConfig('postgres://postgres@127.0.0.1:1/postgres', 'postgres://postgres@127.0.0.1:2/postgres')}schedules:\n  - { name: annual-full-failover, cron: "0 10 15 3 *", remind: dr-test }\n`,
    });
    const reply = await status.run([], {
      config: t.config,
      store: t.store,
      user: 'U0ALICE',
      clock: t.clock,
      engine: t.engine,
    });
    const text = (reply as { text: string }).text;
    expect(text).toContain('*payments-db* — RTO 15m, RPO 1m');
    expect(text).toContain(
      '• replication: *NO WRITER* since 2026-11-24 03:00 UTC: primary 127.0.0.1:1 does not answer: cannot connect',
    );
    expect(text).toContain('• last failback: never');
    expect(text).toContain('• last drill: never');
    expect(text).toMatch(
      /\*DR tests\*\n• `dr-test`: \*OVERDUE\* — no successful run since 20\d\d-03-15 10:00 UTC; last run never; next reminder 20\d\d-03-15 10:00 UTC \(annual-full-failover\)/,
    );

    // A DR test whose every step was skipped proves nothing: not done, and no RTO.
    const skipped = t.engine.startRun({ key: 's', actor: { user: 'U0ALICE' }, runbook: 'dr-test' });
    t.engine.skipStep({
      key: 'skip',
      actor: { user: 'U0ALICE' },
      runId: skipped.runId,
      stepIndex: 0,
      reason: 'no time',
    });
    await t.engine.idle();
    expect(t.engine.getRun(skipped.runId).run).toMatchObject({
      status: 'succeeded',
      rtoSeconds: null,
    });
    const afterSkip = (await status.run([], {
      config: t.config,
      store: t.store,
      user: 'U0ALICE',
      clock: t.clock,
      engine: t.engine,
    })) as { text: string };
    expect(afterSkip.text).toMatch(/• `dr-test`: \*OVERDUE\*/);

    const { runId } = t.engine.startRun({
      key: 'k',
      actor: { user: 'U0ALICE' },
      runbook: 'dr-test',
    });
    t.engine.completeStep({ key: 'd', actor: { user: 'U0ALICE' }, runId, stepIndex: 0 });
    await t.engine.idle();
    const after = (await status.run([], {
      config: t.config,
      store: t.store,
      user: 'U0ALICE',
      clock: t.clock,
      engine: t.engine,
    })) as { text: string };
    expect(after.text).toMatch(/• `dr-test`: done for this period; last run 2026-11-24 03:00;/);
  });
});
