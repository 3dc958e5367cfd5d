// Two-person means two people on every gated step, and an approval covers the plan it was given
// for: a manual gated step waits for it, a retry reuses it only while it is fresh and the plan is
// the same, and a status set by hand in the store (no vote in the audit log) runs nothing.

import { describe, expect, it } from 'vitest';
import { ACTIONS, type ActionRegistry } from '../../src/actions/registry.js';
import { ProviderError } from '../../src/errors.js';
import { verifyAuditLog } from '../../src/store/audit.js';
import { makeEngine } from '../support/engine.js';

const config = `approvals:
  approvers: [U0ALICE, U0BOB, U0CAROL]
  expires_after: 15m
`;
const alice = { user: 'U0ALICE' };
const bob = { user: 'U0BOB' };

const gatedManual = `---
title: Drill
kind: drill
---
## Go (10 minutes)
1. Cut the old region's network by hand \`approval: two-person\`
2. Look at the dashboards
`;

const gatedAction = `---
title: Drill
kind: drill
---
## Go (10 minutes)
1. Tell the channel we cut over \`action: notify\` \`approval: two-person\`
`;

/** `notify` made to fail the first `failures` times, with a plan we can change. */
function flakyNotify(failures: number, plan: { text: string }) {
  let calls = 0;
  const actions: ActionRegistry = {
    ...ACTIONS,
    notify: {
      name: 'notify',
      plan: () => plan.text,
      run: () => {
        calls += 1;
        if (calls <= failures)
          return Promise.reject(new ProviderError('the channel', 'is not reachable', false));
        return Promise.resolve({ summary: 'posted', details: {} });
      },
    },
  };
  return { actions, calls: () => calls };
}

describe('two-person approval on a manual step', () => {
  it('refuses Done until a second person approves, then takes it', async () => {
    const t = await makeEngine({ runbooks: { drill: gatedManual }, configYaml: config });
    const { runId } = await t.engine.startRun({ key: 's', actor: alice, runbook: 'drill' });
    await t.engine.idle();
    const step = (await t.engine.getRun(runId)).current!;
    expect(step.waitingOn).toBe('approval');
    for (const actor of [alice, bob])
      await expect(
        t.engine.completeStep({ key: `done-${actor.user}`, actor, runId, stepIndex: 0 }),
      ).rejects.toThrow("step 1 needs a second person's approval before it is done");
    const approval = step.approvals[0]!;
    await expect(
      t.engine.decideApproval({
        key: 'self',
        actor: alice,
        approvalId: approval.id,
        decision: 'approve',
      }),
    ).rejects.toThrow(/two-person rule/);
    await t.engine.decideApproval({
      key: 'bob',
      actor: bob,
      approvalId: approval.id,
      decision: 'approve',
    });
    await t.engine.idle();
    expect((await t.engine.getRun(runId)).current).toMatchObject({
      index: 0,
      waitingOn: 'operator',
    });
    await t.engine.completeStep({ key: 'done', actor: alice, runId, stepIndex: 0 });
    await t.engine.idle();
    expect((await t.engine.getRun(runId)).steps[0]).toMatchObject({
      state: 'done',
      actor: 'U0ALICE',
    });
  });
});

describe('an approval covers one plan, and a retry only while it is fresh', () => {
  it('reuses it for a retry within approvals.expires_after, and asks again after', async () => {
    const plan = { text: 'Post "cut over" to #dr-ops.' };
    const flaky = flakyNotify(2, plan);
    const t = await makeEngine({
      runbooks: { drill: gatedAction },
      configYaml: config,
      actions: flaky.actions,
    });
    const { runId } = await t.engine.startRun({ key: 's', actor: alice, runbook: 'drill' });
    await t.engine.idle();
    const first = (await t.engine.getRun(runId)).current!.approvals[0]!;
    await t.engine.decideApproval({
      key: 'a1',
      actor: bob,
      approvalId: first.id,
      decision: 'approve',
    });
    await t.engine.idle();
    expect((await t.engine.getRun(runId)).current).toMatchObject({ waitingOn: 'failure' });

    t.clock.advance(5 * 60_000); // fresh: the same approval covers the retry
    await t.engine.retryStep({ key: 'r1', actor: alice, runId, stepIndex: 0 });
    await t.engine.idle();
    expect(flaky.calls()).toBe(2);
    expect((await t.engine.getRun(runId)).current!.approvals).toHaveLength(1);

    t.clock.advance(20 * 60_000); // older than 15m: a retry needs a new approval
    await t.engine.retryStep({ key: 'r2', actor: alice, runId, stepIndex: 0 });
    await t.engine.idle();
    expect(flaky.calls()).toBe(2);
    const view = await t.engine.getRun(runId);
    expect(view.current).toMatchObject({ waitingOn: 'approval' });
    expect(view.current!.approvals.map((a) => [a.status, a.attempt])).toEqual([
      ['approved', 1],
      ['pending', 3],
    ]);
    await t.engine.decideApproval({
      key: 'a2',
      actor: bob,
      approvalId: view.current!.approvals[1]!.id,
      decision: 'approve',
    });
    await t.engine.idle();
    expect(flaky.calls()).toBe(3);
    expect((await t.engine.getRun(runId)).run.status).toBe('succeeded');
  });

  it('asks again when the plan shown has changed, withdrawing the request for the old one', async () => {
    const plan = { text: 'Post "cut over" to #dr-ops.' };
    const flaky = flakyNotify(1, plan);
    const t = await makeEngine({
      runbooks: { drill: gatedAction },
      configYaml: config,
      actions: flaky.actions,
    });
    const { runId } = await t.engine.startRun({ key: 's', actor: alice, runbook: 'drill' });
    await t.engine.idle();
    const first = (await t.engine.getRun(runId)).current!.approvals[0]!;
    await t.engine.decideApproval({
      key: 'a1',
      actor: bob,
      approvalId: first.id,
      decision: 'approve',
    });
    await t.engine.idle();
    plan.text = 'Post "cut over" to #everyone.'; // the config changed under the run
    await t.engine.retryStep({ key: 'r1', actor: alice, runId, stepIndex: 0 });
    await t.engine.idle();
    expect(flaky.calls()).toBe(1);
    const approvals = (await t.engine.getRun(runId)).current!.approvals;
    expect(approvals).toHaveLength(2);
    expect(approvals[1]!.planHash).not.toBe(approvals[0]!.planHash);
    expect(approvals[1]!.status).toBe('pending');
  });
});

describe('a forged approval', () => {
  it('runs nothing when the store says approved and the audit log holds no vote', async () => {
    const flaky = flakyNotify(0, { text: 'Post "cut over".' });
    const t = await makeEngine({
      runbooks: { drill: gatedAction },
      configYaml: config,
      actions: flaky.actions,
    });
    const { runId } = await t.engine.startRun({ key: 's', actor: alice, runbook: 'drill' });
    await t.engine.idle();
    await t.store.run("UPDATE approvals SET status = 'approved'");
    await t.engine.resume(); // the walker looks again, as after a restart
    await t.engine.idle();
    const view = await t.engine.getRun(runId);
    expect(flaky.calls()).toBe(0);
    expect(view.current).toMatchObject({ waitingOn: 'failure' });
    expect(view.current!.summary).toMatch(
      /^approval a-[0-9a-f]+ is marked approved in the store, but the audit log holds no approving vote for it/,
    );
    expect(
      await t.store.get("SELECT count(*) AS n FROM audit_log WHERE action = 'approval.forged'"),
    ).toEqual({ n: 1 });
    expect(await verifyAuditLog(t.store)).toMatchObject({ ok: true });
  });
});
