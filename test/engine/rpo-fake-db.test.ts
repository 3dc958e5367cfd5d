// The RPO rules with a database whose lag the test sets exactly: db.check-lag fails over the RPO
// and when the lag is unknown, the promotion's RPO gate blocks on both, and the boundary (lag
// equal to the RPO) passes. No timing: the fake answers what it is told.

import { describe, expect, it } from 'vitest';
import { makeEngine, playThrough, postgresConfig } from '../support/engine.js';
import { fakeDatabase } from '../support/fake-database.js';

const runbook = `---
title: Failover
kind: failover
service: payments-db
---
## Assess
1. Measure replication lag on the DR replica \`action: db.check-lag\`

## Fail over
1. Promote the DR replica \`action: db.promote\`
`;

async function setup(lagSeconds: number | null) {
  const fake = fakeDatabase(lagSeconds);
  const t = await makeEngine({
    runbooks: { failover: runbook },
    configYaml: postgresConfig('postgres://fake:1/db', 'postgres://fake:2/db'),
    providersFor: () => ({ database: fake.provider, dns: null, backups: null }),
  });
  const started = await t.engine.startRun({
    key: 'start',
    actor: { user: 'U0ALICE' },
    runbook: 'failover',
    kind: 'failover',
    impactAt: t.clock(),
  });
  return { fake, t, runId: started.runId };
}

describe('lag against the RPO (1m), with a database that answers what it is told', () => {
  it('over the RPO: db.check-lag stops as failed with the numbers, and after a skip the promotion still waits on the RPO gate', async () => {
    const { fake, t, runId } = await setup(95);
    const view = await playThrough(t, runId);
    const check = view.steps[0]!;
    expect(check).toMatchObject({ state: 'active', waitingOn: 'failure' });
    expect(check.summary).toContain(
      'lag at least 95.0 s (95000 bytes) — OVER the RPO (1m), measured on the replica: the primary does not answer. Promoting now would lose more than the RPO allows',
    );
    expect(fake.promotions).toBe(0);

    await t.engine.skipStep({
      key: 'skip',
      actor: { user: 'U0ALICE' },
      runId,
      stepIndex: 0,
      reason: 'the primary is gone, we take the loss',
    });
    const gated = await playThrough(t, runId);
    expect(gated.current?.waitingOn).toBe('rpo-gate');
    expect(gated.current?.summary).toContain('OVER the RPO (1m)');
    expect(fake.promotions).toBe(0);
  });

  it('unknown lag is not zero lag: db.check-lag fails and the RPO gate blocks', async () => {
    const { fake, t, runId } = await setup(null);
    const view = await playThrough(t, runId);
    expect(view.steps[0]).toMatchObject({ state: 'active', waitingOn: 'failure' });
    expect(view.steps[0]!.summary).toContain('lag unknown');
    expect(view.steps[0]!.summary).toContain('Lag unknown is not lag zero');
    await t.engine.skipStep({
      key: 'skip',
      actor: { user: 'U0ALICE' },
      runId,
      stepIndex: 0,
      reason: 'measuring is broken',
    });
    const gated = await playThrough(t, runId);
    expect(gated.current?.waitingOn).toBe('rpo-gate');
    expect(fake.promotions).toBe(0);
  });

  it('exactly at the RPO passes, says it is a lower bound, and the promotion runs once approved', async () => {
    const { fake, t, runId } = await setup(60);
    const view = await playThrough(t, runId);
    expect(view.steps[0]!.state).toBe('done');
    expect(view.steps[0]!.summary).toBe(
      'lag at least 60.0 s (60000 bytes) — within the RPO (1m), measured on the replica: the primary does not answer',
    );
    expect(view.steps[1]!.state).toBe('done');
    expect(fake.promotions).toBe(1);
  });

  it('one second over the RPO is over it', async () => {
    const { fake, t, runId } = await setup(61);
    const view = await playThrough(t, runId);
    expect(view.steps[0]).toMatchObject({ state: 'active', waitingOn: 'failure' });
    expect(fake.promotions).toBe(0);
  });
});
