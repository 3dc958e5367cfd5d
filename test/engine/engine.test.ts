import { describe, expect, it } from 'vitest';
import { GateRefused, ProviderError, UsageError } from '../../src/errors.js';
import { ACTIONS } from '../../src/actions/registry.js';
import { verifyAuditLog } from '../../src/store/audit.js';
import { listRuns } from '../../src/store/runs.js';
import { renderReport } from '../../src/report.js';
import { makeEngine, testClock } from '../support/engine.js';

const drill = `---
title: Quarterly drill
kind: drill
---
## Before
- [ ] Channel opened

## Phase 1: Work (10 minutes)
1. Look at the dashboards
2. Decide

## After
- [ ] Postmortem scheduled
`;

const config = (extra = '') => `approvals:
  approvers: [U0ALICE, U0BOB, U0CAROL]
  expires_after: 15m
services:
  payments-db:
    rto: 15m
    rpo: 1m
    database: { provider: postgres, primary: "postgres://postgres@127.0.0.1:1/postgres", replica: "postgres://postgres@127.0.0.1:2/postgres" }
${extra}`;

const alice = { user: 'U0ALICE' };
const bob = { user: 'U0BOB' };

describe('walking a runbook', () => {
  it('takes manual steps strictly in order and finishes with the RTO at the end of the last budgeted phase', async () => {
    const t = await makeEngine({ runbooks: { drill }, configYaml: config() });
    const { runId } = await t.engine.startRun({ key: 'k1', actor: alice, runbook: 'drill' });
    await t.engine.idle();
    expect((await t.engine.getRun(runId)).current?.text).toBe('Channel opened');
    await expect(
      t.engine.completeStep({ key: 'k2', actor: alice, runId, stepIndex: 1 }),
    ).rejects.toThrow('step 2 is not the current step of run');
    for (let step = 0; step < 3; step++) {
      t.clock.advance(60_000);
      await t.engine.completeStep({ key: `done-${step}`, actor: bob, runId, stepIndex: step });
      await t.engine.idle();
    }
    t.clock.advance(600_000);
    await t.engine.skipStep({
      key: 'skip-3',
      actor: bob,
      runId,
      stepIndex: 3,
      reason: 'postmortem already booked',
    });
    await t.engine.idle();
    const view = await t.engine.getRun(runId);
    expect(view.run.status).toBe('succeeded');
    expect(view.run.rtoSeconds).toBe(180); // stopped when "Decide" (end of Phase 1) was done
    expect(view.steps.map((s) => s.state)).toEqual(['done', 'done', 'done', 'skipped']);
    expect(view.steps[3]?.summary).toBe('skipped by U0BOB: postmortem already booked');
    expect(view.phases[1]).toMatchObject({
      title: 'Phase 1: Work',
      elapsedSeconds: 120,
      isOverBudget: false,
    });
    expect((await listRuns(t.store))[0]).toMatchObject({
      id: runId,
      status: 'succeeded',
      rtoSeconds: 180,
    });
    expect(await verifyAuditLog(t.store)).toMatchObject({ ok: true });
  });

  it('starts the RTO clock at a declared impact time, and refuses one in the future', async () => {
    const clock = testClock('2026-11-24T03:20:00.000Z');
    const t = await makeEngine({ runbooks: { drill }, configYaml: config(), clock });
    const { runId } = await t.engine.startRun({
      key: 'k',
      actor: alice,
      runbook: 'drill',
      impactAt: new Date('2026-11-24T03:12:00Z'),
    });
    for (let step = 0; step < 3; step++)
      await t.engine.completeStep({ key: `d${step}`, actor: alice, runId, stepIndex: step });
    await t.engine.idle();
    expect((await t.engine.getRun(runId)).run.rtoSeconds).toBe(480);
    await expect(
      t.engine.startRun({
        key: 'k2',
        actor: alice,
        runbook: 'drill',
        impactAt: new Date('2026-11-24T04:00:00Z'),
      }),
    ).rejects.toThrow(/impact time .* is in the future/);
  });

  it('keeps every step a person finished while lifeboat was still taking it up', async () => {
    // Done clicked on each step the moment the previous one is done, never waiting for the walker:
    // its "step started" commits come after the person's, and must not undo them.
    const t = await makeEngine({ runbooks: { drill }, configYaml: config() });
    const { runId } = await t.engine.startRun({ key: 'k', actor: alice, runbook: 'drill' });
    for (let step = 0; step < 4; step++)
      await t.engine.completeStep({ key: `d${step}`, actor: bob, runId, stepIndex: step });
    await t.engine.idle();
    const view = await t.engine.getRun(runId);
    expect(view.run.status).toBe('succeeded');
    expect(view.steps.map((s) => [s.state, s.actor])).toEqual(
      Array.from({ length: 4 }, () => ['done', 'U0BOB']),
    );
  });

  it('never starts a second run or completes a step twice for a repeated key', async () => {
    const t = await makeEngine({ runbooks: { drill }, configYaml: config() });
    const first = await t.engine.startRun({ key: 'slash-1', actor: alice, runbook: 'drill' });
    const again = await t.engine.startRun({ key: 'slash-1', actor: alice, runbook: 'drill' });
    expect(again).toEqual({ runId: first.runId, replayed: true, message: first.message });
    expect(await listRuns(t.store)).toHaveLength(1);
    await t.engine.idle();
    await t.engine.completeStep({ key: 'click-1', actor: alice, runId: first.runId, stepIndex: 0 });
    const twice = await t.engine.completeStep({
      key: 'click-1',
      actor: alice,
      runId: first.runId,
      stepIndex: 0,
    });
    await t.engine.idle();
    expect(twice.replayed).toBe(true);
    expect((await t.engine.getRun(first.runId)).run.currentStep).toBe(1);
    const done = (await t.store.get(
      "SELECT count(*) AS n FROM step_events WHERE event = 'done'",
    )) as { n: number };
    expect(done.n).toBe(1);
  });

  it('asks for a reason to skip, and refuses an unknown runbook or service with the known ones', async () => {
    const t = await makeEngine({ runbooks: { drill }, configYaml: config() });
    const { runId } = await t.engine.startRun({ key: 'k', actor: alice, runbook: 'drill' });
    await expect(
      t.engine.skipStep({ key: 's', actor: alice, runId, stepIndex: 0, reason: ' ' }),
    ).rejects.toThrow(UsageError);
    await expect(t.engine.startRun({ key: 'k2', actor: alice, runbook: 'drll' })).rejects.toThrow(
      /no runbook "drll" .* \(known: drill\)/,
    );
    await expect(
      t.engine.startRun({ key: 'k3', actor: alice, runbook: 'drill', service: 'orders-db' }),
    ).rejects.toThrow('no service "orders-db" (known: payments-db)');
  });

  it('records notes by author and emits them', async () => {
    const t = await makeEngine({ runbooks: { drill }, configYaml: config() });
    const { runId } = await t.engine.startRun({ key: 'k', actor: alice, runbook: 'drill' });
    await t.engine.addNote({
      key: 'n',
      actor: bob,
      runId,
      stepIndex: 0,
      text: 'the status page lagged by 20 minutes',
    });
    expect(t.events).toContainEqual({
      type: 'note.added',
      runId,
      stepIndex: 0,
      author: 'U0BOB',
      text: 'the status page lagged by 20 minutes',
    });
    const notes = await t.store.all('SELECT author, text FROM notes');
    expect(notes).toEqual([{ author: 'U0BOB', text: 'the status page lagged by 20 minutes' }]);
  });
});

const failover = `---
title: Failover
kind: failover
service: payments-db
---
## Phase 1: Go (15 minutes)
1. Confirm the primary is down
2. Promote \`action: db.promote\`
`;

const tabletop = `---
title: Tabletop
kind: tabletop
service: payments-db
---
## Inject 1 (10 minutes)
1. Who is paged first?
2. Walk through promotion \`action: db.promote\`
`;

describe('tabletop runs', () => {
  it('never execute an action: they show its plan and wait for the team', async () => {
    const t = await makeEngine({ runbooks: { tabletop }, configYaml: config() });
    const { runId } = await t.engine.startRun({ key: 'k', actor: alice, runbook: 'tabletop' });
    await t.engine.idle();
    await t.engine.completeStep({ key: 'd0', actor: alice, runId, stepIndex: 0 });
    await t.engine.idle();
    const started = t.events.find((e) => e.type === 'step.started' && e.stepIndex === 1);
    expect(started).toMatchObject({
      plan: expect.stringContaining('Promote replica 127.0.0.1:2 to a standalone primary'),
    });
    expect((await t.engine.getRun(runId)).current).toMatchObject({
      state: 'active',
      waitingOn: 'operator',
    });
    expect(
      t.events.some((e) => e.type === 'action.started' || e.type === 'approval.requested'),
    ).toBe(false);
    await t.engine.completeStep({
      key: 'd1',
      actor: bob,
      runId,
      stepIndex: 1,
      note: 'nobody knew who approves',
    });
    await t.engine.idle();
    expect((await t.engine.getRun(runId)).run.status).toBe('succeeded');
  });
});

describe('one failover or failback per service', () => {
  it('refuses a second failover, naming the one in flight, and a drill on the same service', async () => {
    const t = await makeEngine({
      runbooks: {
        failover,
        drill: drill.replace('kind: drill', 'kind: drill\nservice: payments-db'),
      },
      configYaml: config(),
    });
    const { runId } = await t.engine.startRun({ key: 'k1', actor: alice, runbook: 'failover' });
    await expect(t.engine.startRun({ key: 'k2', actor: bob, runbook: 'failover' })).rejects.toThrow(
      `a failover of payments-db is already in flight: run ${runId}, started by U0ALICE`,
    );
    await expect(t.engine.startRun({ key: 'k3', actor: bob, runbook: 'drill' })).rejects.toThrow(
      `payments-db has a failover in flight (run ${runId}): a drill cannot start until it is finished.`,
    );
    const refusals = await t.store.all(
      "SELECT actor, action FROM audit_log WHERE action LIKE '%.refused'",
    );
    expect(refusals).toEqual([
      { actor: 'U0BOB', action: 'run.start.refused' },
      { actor: 'U0BOB', action: 'run.start.refused' },
    ]);
  });

  it('an aborted run stops where it stopped: the step it was on is aborted, the phases stop counting, the report says who and why', async () => {
    const t = await makeEngine({ runbooks: { drill }, configYaml: config() });
    const { runId } = await t.engine.startRun({ key: 'k1', actor: alice, runbook: 'drill' });
    await t.engine.completeStep({ key: 'd0', actor: alice, runId, stepIndex: 0 });
    await t.engine.idle();
    t.clock.advance(120_000);
    await t.engine.abortRun({ key: 'abort', actor: alice, runId, reason: 'wrong service' });
    await t.engine.idle();
    const at = await t.engine.getRun(runId);
    expect(at.steps[1]).toMatchObject({
      state: 'aborted',
      waitingOn: null,
      summary: 'not done: aborted by U0ALICE: wrong service',
    });
    expect(at.steps[2]!.state).toBe('pending');
    const phaseAtAbort = at.phases[1]!.elapsedSeconds;
    expect(phaseAtAbort).toBe(120);
    t.clock.advance(3_600_000); // an hour later, nothing has moved
    const later = await t.engine.getRun(runId);
    expect(later.phases[1]!.elapsedSeconds).toBe(phaseAtAbort);
    expect(later.elapsedSeconds).toBe(at.elapsedSeconds);
    const report = await renderReport(later, t.store, t.config, 'markdown');
    expect(report).toContain(
      '2. [aborted] Look at the dashboards — not done: aborted by U0ALICE: wrong service',
    );
    expect(report).toMatch(/- \S+ step 2 run\.aborted by U0ALICE: wrong service/);
    await expect(
      t.engine.completeStep({ key: 'late', actor: alice, runId, stepIndex: 1 }),
    ).rejects.toThrow();
  });

  it('aborts a drill in flight when a real failover starts, saying why', async () => {
    const t = await makeEngine({
      runbooks: {
        failover,
        drill: drill.replace('kind: drill', 'kind: drill\nservice: payments-db'),
      },
      configYaml: config(),
    });
    const exercise = await t.engine.startRun({ key: 'k1', actor: alice, runbook: 'drill' });
    const real = await t.engine.startRun({ key: 'k2', actor: bob, runbook: 'failover' });
    const aborted = (await t.engine.getRun(exercise.runId)).run;
    expect(aborted.status).toBe('aborted');
    expect(aborted.outcome).toBe(
      `aborted: a real failover of payments-db started (run ${real.runId})`,
    );
  });
});

describe('two-person approval', () => {
  async function waitingForApproval(extra = '') {
    const t = await makeEngine({ runbooks: { failover }, configYaml: config(extra) });
    const { runId } = await t.engine.startRun({ key: 'start', actor: alice, runbook: 'failover' });
    await t.engine.completeStep({ key: 'd0', actor: alice, runId, stepIndex: 0 });
    await t.engine.idle();
    const approval = (await t.engine.getRun(runId)).steps[1]!.approvals[0]!;
    return { t, runId, approval };
  }

  it('asks for approval before promoting, naming the requester, and shows the lag it could measure', async () => {
    const { t, runId, approval } = await waitingForApproval();
    expect(approval).toMatchObject({
      gate: 'two-person',
      requestedBy: 'U0ALICE',
      status: 'pending',
      required: 1,
    });
    const requested = t.events.find((e) => e.type === 'approval.requested');
    expect(requested).toMatchObject({
      summary: expect.stringContaining('Replication lag now: replica 127.0.0.1:2: cannot connect'),
    });
    expect((await t.engine.getRun(runId)).run.status).toBe('waiting');
  });

  it('refuses self-approval and a non-approver, with reasons, in the audit log', async () => {
    const { t, approval } = await waitingForApproval();
    await expect(
      t.engine.decideApproval({
        key: 'a1',
        actor: alice,
        approvalId: approval.id,
        decision: 'approve',
      }),
    ).rejects.toThrow(
      'you asked for this, so you cannot approve it: the two-person rule needs someone else',
    );
    await expect(
      t.engine.decideApproval({
        key: 'a2',
        actor: { user: 'U0MALLORY' },
        approvalId: approval.id,
        decision: 'approve',
      }),
    ).rejects.toThrow(
      'U0MALLORY is not an approver: only approvals.approvers (U0ALICE, U0BOB, U0CAROL) may approve',
    );
    const audit = await t.store.all<{ actor: string; details: string }>(
      "SELECT actor, action, details FROM audit_log WHERE action = 'approval.approve.refused' ORDER BY seq",
    );
    expect(audit.map((row) => row.actor)).toEqual(['U0ALICE', 'U0MALLORY']);
    expect(JSON.parse(audit[0]!.details)).toMatchObject({
      gate: 'two-person',
      reason: expect.stringContaining('two-person rule'),
    });
  });

  it('accepts a member of the approvers user group, as the adapter resolved it', async () => {
    const { t, approval } = await waitingForApproval();
    t.config.approvals.usergroup = 'S0ONCALL';
    await expect(
      t.engine.decideApproval({
        key: 'g1',
        actor: { user: 'U0DAVE', groups: [] },
        approvalId: approval.id,
        decision: 'approve',
      }),
    ).rejects.toThrow(GateRefused);
    const result = await t.engine.decideApproval({
      key: 'g2',
      actor: { user: 'U0DAVE', groups: ['S0ONCALL'] },
      approvalId: approval.id,
      decision: 'approve',
    });
    expect(result.message).toBe('approved');
  });

  it('fails closed with no approvers configured, saying how to configure them', async () => {
    const { t, approval } = await waitingForApproval();
    t.config.approvals.approvers = [];
    await expect(
      t.engine.decideApproval({
        key: 'x',
        actor: bob,
        approvalId: approval.id,
        decision: 'approve',
      }),
    ).rejects.toThrow(
      /no approvers are configured, so every approval is refused: add Slack user IDs to approvals\.approvers/,
    );
  });

  it('refuses a decision on an expired request, and asks again on request', async () => {
    const { t, runId, approval } = await waitingForApproval();
    t.clock.advance(16 * 60_000);
    await expect(
      t.engine.decideApproval({
        key: 'late',
        actor: bob,
        approvalId: approval.id,
        decision: 'approve',
      }),
    ).rejects.toThrow(/this request is already expired/);
    await t.engine.renewApproval({ key: 'renew', actor: alice, runId });
    await t.engine.idle();
    const approvals = (await t.engine.getRun(runId)).steps[1]!.approvals;
    expect(approvals.map((a) => a.status)).toEqual(['expired', 'pending']);
  });

  it('stops the run on deny and refuses a decision on an already decided request', async () => {
    const { t, runId, approval } = await waitingForApproval();
    await t.engine.decideApproval({
      key: 'deny',
      actor: bob,
      approvalId: approval.id,
      decision: 'deny',
      reason: 'the primary is back',
    });
    const run = (await t.engine.getRun(runId)).run;
    expect(run).toMatchObject({
      status: 'aborted',
      outcome: 'denied by U0BOB: the primary is back',
    });
    await expect(
      t.engine.decideApproval({
        key: 'late',
        actor: { user: 'U0CAROL' },
        approvalId: approval.id,
        decision: 'approve',
      }),
    ).rejects.toThrow(`run ${runId} is aborted: there is nothing left to approve`);
  });

  it('counts a double click once and needs distinct approvers when two are required', async () => {
    const { t, approval } = await waitingForApproval();
    await t.store.run('UPDATE approvals SET required = 2 WHERE id = ?', approval.id);
    expect(
      (
        await t.engine.decideApproval({
          key: 'c1',
          actor: bob,
          approvalId: approval.id,
          decision: 'approve',
        })
      ).message,
    ).toBe('approval 1 of 2 counted');
    expect(
      (
        await t.engine.decideApproval({
          key: 'c2',
          actor: bob,
          approvalId: approval.id,
          decision: 'approve',
        })
      ).message,
    ).toBe('your decision was already counted');
    expect(
      (
        await t.engine.decideApproval({
          key: 'c3',
          actor: { user: 'U0CAROL' },
          approvalId: approval.id,
          decision: 'approve',
        })
      ).message,
    ).toBe('approved');
    const votes = await t.store.all('SELECT approver FROM approval_votes ORDER BY approver');
    expect(votes).toEqual([{ approver: 'U0BOB' }, { approver: 'U0CAROL' }]);
  });

  it('stops a failed action with the resource named and keeps the run resumable', async () => {
    const { t, runId, approval } = await waitingForApproval();
    await t.engine.decideApproval({
      key: 'ok',
      actor: bob,
      approvalId: approval.id,
      decision: 'approve',
    });
    await t.engine.idle();
    const view = await t.engine.getRun(runId);
    // The replica on port 2 does not exist: the RPO gate cannot measure lag, so it blocks.
    expect(view.run.status).toBe('waiting');
    expect(view.current).toMatchObject({
      waitingOn: 'rpo-gate',
      summary: expect.stringContaining(
        'replication lag could not be measured (replica 127.0.0.1:2: cannot connect',
      ),
    });
  });
});

describe('an action that cannot say what it would do', () => {
  it('fails its step, saying why, instead of leaving the step shown as in progress', async () => {
    let broken = true;
    const notify = {
      ...ACTIONS.notify,
      plan: () => {
        if (broken)
          throw new ProviderError('notify', 'the plan needs something that is not there', true);
        return 'Post to the thread.';
      },
    };
    const t = await makeEngine({
      runbooks: {
        tell: '---\ntitle: Tell\nkind: drill\n---\n## Go\n1. Tell them `action: notify` `approval: two-person`\n2. Look\n',
      },
      configYaml: 'approvals: { approvers: [U0ALICE, U0BOB] }\n',
      actions: { ...ACTIONS, notify },
    });
    const { runId } = await t.engine.startRun({ key: 'k', actor: alice, runbook: 'tell' });
    await t.engine.idle();
    const view = await t.engine.getRun(runId);
    expect(view.current).toMatchObject({
      index: 0,
      waitingOn: 'failure',
      summary: 'notify: the plan needs something that is not there',
    });
    broken = false;
    await t.engine.retryStep({ key: 'r', actor: alice, runId, stepIndex: 0 });
    await t.engine.idle();
    expect((await t.engine.getRun(runId)).current?.waitingOn).toBe('approval');
  });
});
