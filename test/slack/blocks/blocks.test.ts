// The Block Kit renderers are pure functions of engine state: assert what a person would read.

import { describe, expect, it } from 'vitest';
import type { RunView, StepView } from '../../../src/engine/run-view.js';
import { parseRunbook } from '../../../src/runbook/parse.js';
import type { ApprovalRecord } from '../../../src/store/approvals.js';
import { renderApproval } from '../../../src/slack/blocks/approval.js';
import { renderRunHeader } from '../../../src/slack/blocks/run-header.js';
import { renderRunSummary } from '../../../src/slack/blocks/run-summary.js';
import { renderStep } from '../../../src/slack/blocks/step.js';

const runbook = parseRunbook(
  '---\ntitle: Regional failover\nkind: failover\nservice: payments-db\n---\n## Assess (10 minutes)\n1. Look at the dashboards\n## Fail over (15 minutes)\n1. Promote `action: db.promote`\n',
  'runbooks/failover.md',
);

function view(
  overrides: Partial<RunView['run']> = {},
  stepStates: Partial<StepView>[] = [],
): RunView {
  const steps = runbook.phases
    .flatMap((p) => p.steps)
    .map((step, i) => ({
      ...step,
      state: 'pending' as const,
      waitingOn: null,
      startedAt: null,
      finishedAt: null,
      actor: null,
      summary: null,
      result: {},
      approvals: [],
      ...stepStates[i],
    }));
  const run = {
    id: 'r-1a2b3c4d',
    runbook: 'failover',
    runbookFile: 'runbooks/failover.md',
    service: 'payments-db',
    kind: 'failover' as const,
    status: 'running' as const,
    startedBy: 'U0ALICE',
    startedAt: '2026-11-24T03:14:00.000Z',
    impactAt: '2026-11-24T03:12:00.000Z',
    finishedAt: null,
    rtoSeconds: null,
    rpoExposureSeconds: null,
    rpoExposureBytes: null,
    rpoExposureBound: null,
    rpoExposureDetail: null,
    currentStep: 0,
    outcome: null,
    promote: 'replica' as const,
    mutates: true,
    startedVia: 'slack',
    ...overrides,
  };
  return {
    run,
    runbook,
    steps,
    phases: [
      {
        index: 0,
        title: 'Assess',
        budgetMinutes: 10,
        startedAt: run.startedAt,
        finishedAt: null,
        elapsedSeconds: 720,
        isOverBudget: true,
      },
      {
        index: 1,
        title: 'Fail over',
        budgetMinutes: 15,
        startedAt: null,
        finishedAt: null,
        elapsedSeconds: null,
        isOverBudget: false,
      },
    ],
    current: steps[run.currentStep] ?? null,
    elapsedSeconds: 840,
    unprotected: null,
  };
}

const text = (blocks: unknown[]) => JSON.stringify(blocks);
const buttons = (blocks: { type: string; elements?: { action_id?: string }[] }[]) =>
  blocks
    .filter((b) => b.type === 'actions')
    .flatMap((b) => (b.elements ?? []).map((e) => e.action_id));

describe('run header', () => {
  it('shows kind, runbook, the RTO clock against the objective, the phase budget and who started it', () => {
    const blocks = renderRunHeader(view({}, [{ state: 'active', waitingOn: 'operator' }]), 900);
    const shown = text(blocks);
    expect(shown).toContain('FAILOVER · Regional failover');
    expect(shown).toContain(
      'clock *14m* of 15m objective since impact (<!date^1795489920^{time}|03:12 UTC>)',
    );
    expect(shown).toContain('*Phase:* Assess — 12m of 10 min budget *OVER BUDGET*');
    expect(shown).toContain('*Step 1/2:* Look at the dashboards');
    expect(shown).toContain('started by <@U0ALICE>');
    expect(buttons(blocks as never)).toEqual(['run-abort']);
  });

  it('says who ended a run, as a mention, and never lets a typed reason ping the channel', () => {
    const aborted = text(
      renderRunHeader(
        view({ status: 'aborted', outcome: 'aborted by U0BOB: wrong service <!channel>' }),
        null,
      ),
    );
    expect(aborted).toContain('*Status:* aborted by <@U0BOB>: wrong service &lt;!channel&gt;');
    const denied = text(
      renderRunHeader(view({ status: 'aborted', outcome: 'denied by U0BOB: lag too high' }), null),
    );
    expect(denied).toContain('*Status:* aborted — denied by <@U0BOB>: lag too high');
  });

  it('marks a tabletop as executing nothing', () => {
    const shown = text(renderRunHeader(view({ kind: 'tabletop' }), null));
    expect(shown).toContain('TABLETOP — nothing is executed · ');
    expect(shown).not.toMatch(/TABLETOP[\s\S]*TABLETOP/); // said once
  });

  it('shows the achieved RTO and no buttons once recovered', () => {
    const blocks = renderRunHeader(
      view({ status: 'succeeded', rtoSeconds: 611, currentStep: 2 }),
      900,
    );
    expect(text(blocks)).toContain('RTO *10m 11s* of 15m objective');
    expect(text(blocks)).toContain('recovered');
    expect(buttons(blocks as never)).toEqual([]);
  });
});

describe('step messages', () => {
  it('give a manual step Done, Skip and Add note', () => {
    const v = view({}, [{ state: 'active', waitingOn: 'operator' }]);
    expect(buttons(renderStep(v, v.steps[0]!, null) as never)).toEqual([
      'step-done',
      'step-skip',
      'step-note',
    ]);
  });

  it("show an action step's plan, and a failure with Retry and Skip", () => {
    const v = view({ currentStep: 1 }, [
      { state: 'done' },
      { state: 'active', waitingOn: 'failure', summary: 'replica 127.0.0.1:5433: cannot connect' },
    ]);
    const blocks = renderStep(
      v,
      v.steps[1]!,
      'Promote replica 127.0.0.1:5433 to a standalone primary.',
    );
    expect(text(blocks)).toContain('Plan: Promote replica 127.0.0.1:5433 to a standalone primary.');
    expect(text(blocks)).toContain(':x: replica 127.0.0.1:5433: cannot connect');
    expect(buttons(blocks as never)).toEqual(['step-retry', 'step-skip']);
  });

  it('offer an override when the RPO gate blocks', () => {
    const v = view({ currentStep: 1 }, [
      { state: 'done' },
      { state: 'active', waitingOn: 'rpo-gate', summary: 'lag 95.0 s — OVER the RPO (1m)' },
    ]);
    expect(buttons(renderStep(v, v.steps[1]!, null) as never)).toEqual([
      'step-retry',
      'gate-override',
      'step-skip',
    ]);
  });

  it('say who finished a step and how long it took', () => {
    const v = view({ currentStep: 1 }, [
      {
        state: 'done',
        actor: 'U0BOB',
        summary: 'done',
        startedAt: '2026-11-24T03:14:00.000Z',
        finishedAt: '2026-11-24T03:15:30.000Z',
      },
    ]);
    expect(text(renderStep(v, v.steps[0]!, null))).toContain(
      ':white_check_mark: <@U0BOB>: done (90s)',
    );
  });
});

describe('a gated step and a tabletop', () => {
  it('say apart how long a promotion waited for its approval and how long it took', () => {
    const v = view({ currentStep: 2 }, [
      { state: 'done' },
      {
        state: 'done',
        actor: 'lifeboat',
        summary: 'promoted',
        startedAt: '2026-11-24T03:20:00.000Z',
        finishedAt: '2026-11-24T03:24:12.000Z',
        approvals: [
          {
            id: 'a-1',
            runId: 'r-1a2b3c4d',
            stepIndex: 1,
            gate: 'two-person',
            requestedBy: 'U0ALICE',
            requestedAt: '2026-11-24T03:20:00.000Z',
            expiresAt: '2026-11-24T03:35:00.000Z',
            required: 1,
            status: 'approved',
            decidedAt: '2026-11-24T03:24:00.000Z',
            reason: null,
            votes: [],
          } as unknown as ApprovalRecord,
        ],
      },
    ]);
    expect(text(renderStep(v, v.steps[1]!, null))).toContain(
      'promoted (waited 240s for approval, then took 12s)',
    );
  });

  it('a tabletop header shows how long it has run, not an RTO clock', () => {
    const shown = text(renderRunHeader(view({ kind: 'tabletop' }), 900));
    expect(shown).toContain('running for *14m* (a tabletop measures no RTO)');
    expect(shown).not.toContain('since impact');
  });
});

describe('approval requests', () => {
  const approval: ApprovalRecord = {
    id: 'a-99',
    runId: 'r-1a2b3c4d',
    stepIndex: 1,
    gate: 'two-person',
    requestedBy: 'U0ALICE',
    requestedAt: '2026-11-24T03:20:00.000Z',
    expiresAt: '2026-11-24T03:35:00.000Z',
    required: 1,
    status: 'pending',
    decidedAt: null,
    reason: null,
    planHash: null,
    attempt: 1,
    votes: [],
  };

  it('name the requester, the action, the lag and the expiry, with Approve and Deny', () => {
    const blocks = renderApproval(
      view(),
      approval,
      'Promote replica X. Replication lag now: lag 0.4 s (1200 bytes) — within the RPO (1m).',
    );
    const shown = text(blocks);
    expect(shown).toContain('<@U0ALICE> asks for step 2 (`db.promote`)');
    expect(shown).toContain('within the RPO (1m)');
    expect(shown).toContain(
      'needs 1 approver other than <@U0ALICE> · expires <!date^1795491300^{time}|03:35 UTC>',
    );
    expect(buttons(blocks as never)).toEqual(['approval-approve', 'approval-deny']);
  });

  it('show who decided, without buttons', () => {
    const approved = renderApproval(
      view(),
      {
        ...approval,
        status: 'approved',
        votes: [{ approver: 'U0BOB', decision: 'approve', at: '2026-11-24T03:21:00.000Z' }],
      },
      '',
    );
    expect(text(approved)).toContain('approved by <@U0BOB>');
    expect(buttons(approved as never)).toEqual([]);
    const denied = renderApproval(
      view(),
      {
        ...approval,
        status: 'denied',
        reason: 'primary is back',
        votes: [{ approver: 'U0CAROL', decision: 'deny', at: '2026-11-24T03:21:00.000Z' }],
      },
      '',
    );
    expect(text(denied)).toContain('denied by <@U0CAROL>: primary is back');
  });
});

describe('fencing in the thread', () => {
  it('blocks a promotion while the old primary accepts writes, offering a second-person override', () => {
    const v = view({ currentStep: 1 }, [
      { state: 'done' },
      {
        state: 'active',
        waitingOn: 'fence-gate',
        summary: "payments-db's primary 10.0.0.5:5432 still accepts writes: fence it first",
      },
    ]);
    const blocks = renderStep(v, v.steps[1]!, null);
    expect(text(blocks)).toContain(
      ":no_entry: payments-db's primary 10.0.0.5:5432 still accepts writes: fence it first",
    );
    expect(buttons(blocks as never)).toEqual(['step-retry', 'fence-override', 'step-skip']);
    expect(text(renderRunHeader(v, 900))).toContain(
      'blocked: the old primary still accepts writes',
    );
  });

  it('offers "Stop and unfence" on a failure after a fence and before a promotion, never after', () => {
    const fenced = {
      state: 'done' as const,
      action: 'db.fence' as const,
      result: { outcome: { state: 'fenced' } },
    };
    const stuck = view({ currentStep: 1 }, [
      fenced,
      { state: 'active', waitingOn: 'failure', summary: 'did not catch up' },
    ]);
    expect(buttons(renderStep(stuck, stuck.steps[1]!, null) as never)).toContain('stop-unfence');
    const promoted = view({ currentStep: 1 }, [fenced, { state: 'done' }]);
    promoted.steps[1] = { ...promoted.steps[1]!, state: 'active', waitingOn: 'failure' };
    promoted.steps.push({ ...promoted.steps[1], index: 2, action: 'db.promote', state: 'done' });
    expect(buttons(renderStep(promoted, promoted.steps[1], null) as never)).not.toContain(
      'stop-unfence',
    );
    const unreachable = view({ currentStep: 1 }, [
      { state: 'done', action: 'db.fence', result: { outcome: { state: 'unreachable' } } },
      { state: 'active', waitingOn: 'failure' },
    ]);
    expect(buttons(renderStep(unreachable, unreachable.steps[1]!, null) as never)).not.toContain(
      'stop-unfence',
    );
  });

  it('shows the commands of a step a person does, and a long action getting on in place', () => {
    const v = view({}, [
      {
        state: 'active',
        waitingOn: 'operator',
        result: { instructions: 'pg_basebackup -h 10.0.0.6 -D "$PGDATA" -R <x>' },
      },
    ]);
    expect(text(renderStep(v, v.steps[0]!, null))).toContain(
      'pg_basebackup -h 10.0.0.6 -D \\"$PGDATA\\" -R &lt;x&gt;',
    );
    const running = view({ currentStep: 1 }, [{ state: 'done' }, { state: 'executing' }]);
    expect(
      text(
        renderStep(
          running,
          running.steps[1]!,
          null,
          'replica: replayed 0/3000 of 0/3100, 256 bytes to go',
        ),
      ),
    ).toContain(':hourglass_flowing_sand: replica: replayed 0/3000 of 0/3100, 256 bytes to go');
  });

  it('says when the exposure is only a lower bound, and when the service is left unprotected', () => {
    const v = {
      ...view({
        status: 'succeeded',
        rtoSeconds: 600,
        rpoExposureSeconds: 2.1,
        rpoExposureBound: 'lower-bound',
        rpoExposureDetail: '≥ 2.1 s (4096 bytes) — primary unreachable, measured on the replica',
      }),
      unprotected: { seconds: 120, ongoing: true, since: '2026-11-24T03:20:00.000Z' },
    };
    const shown = text(renderRunSummary(v, { rtoSeconds: 900, rpoSeconds: 60 }, []));
    expect(shown).toContain(
      '*RPO exposure:* ≥ 2.1 s (4096 bytes) — primary unreachable, measured on the replica (objective 1m)',
    );
    expect(shown).toContain(
      '*UNPROTECTED* since the promotion: no replica follows the new primary',
    );
  });
});

describe('run summary', () => {
  it('gives the achieved RTO against the objective, the RPO exposure, phases and findings', () => {
    const v = view({
      status: 'succeeded',
      rtoSeconds: 1000,
      rpoExposureSeconds: 0.4,
      kind: 'tabletop',
    });
    const shown = text(
      renderRunSummary(v, { rtoSeconds: 900, rpoSeconds: 60 }, [
        { author: 'U0BOB', text: 'nobody knew who approves' },
      ]),
    );
    expect(shown).toContain('*Achieved RTO:* 16m 40s (objective 15m) — *missed* :x:');
    expect(shown).toContain('*RPO exposure:* 0.4 s of replication lag at promotion (objective 1m)');
    expect(shown).toContain('• Assess: 12m of 10 min *over budget*');
    expect(shown).toContain('*Findings*');
    expect(shown).toContain('nobody knew who approves — <@U0BOB>');
    expect(shown).toContain('/dr report r-1a2b3c4d');
  });
});
