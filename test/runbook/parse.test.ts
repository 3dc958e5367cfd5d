import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ACTION_NAMES } from '../../src/runbook/action-names.js';
import { RunbookError } from '../../src/errors.js';
import { runbookToJson } from '../../src/runbook/json.js';
import { loadRunbookLibrary } from '../../src/runbook/library.js';
import { allSteps } from '../../src/runbook/model.js';
import { parseRunbook } from '../../src/runbook/parse.js';

const root = path.resolve(import.meta.dirname, '../..');

function parseError(source: string): RunbookError {
  try {
    parseRunbook(source, 'runbooks/broken.md');
  } catch (error) {
    expect(error).toBeInstanceOf(RunbookError);
    return error as RunbookError;
  }
  throw new Error('expected a RunbookError');
}

describe('the shipped runbooks', () => {
  const library = loadRunbookLibrary(path.join(root, 'runbooks'));

  it('all parse, with no errors', () => {
    expect(library.errors).toEqual([]);
    expect(library.runbooks.map((r) => r.name).sort()).toEqual([
      'backup-restore-test',
      'dr-test',
      'drain-region',
      'failback',
      'failover',
      'pilot-light',
      'restore-from-backup',
      'switchover',
      'tabletop-region-outage',
    ]);
  });

  it('put promotion behind two-person approval in failover, failback and switchover', () => {
    for (const name of ['failover', 'failback', 'switchover']) {
      const runbook = library.runbooks.find((r) => r.name === name);
      const promote = allSteps(runbook!).find((step) => step.action === 'db.promote');
      expect(promote?.approval).toBe('two-person');
      expect(runbook?.kind).toBe(name);
    }
  });

  it('fence the old primary right before every promotion, and rebuild a replica before failing back', () => {
    for (const name of ['failover', 'failback', 'switchover', 'dr-test']) {
      const steps = allSteps(library.runbooks.find((r) => r.name === name)!);
      const promote = steps.findIndex((step) => step.action === 'db.promote');
      const fence = steps.findIndex((step) => step.action === 'db.fence');
      expect(fence, name).toBeGreaterThanOrEqual(0);
      expect(fence, name).toBeLessThan(promote);
      expect(steps[fence]!.approval, name).toBe('two-person');
    }
    const failback = allSteps(library.runbooks.find((r) => r.name === 'failback')!);
    expect(failback.slice(0, 2).map((step) => step.action)).toEqual([
      'db.rebuild-replica',
      'db.verify-replica',
    ]);
  });

  it('give the DR test a pre-test checklist, four budgeted phases and a post-test', () => {
    const drTest = library.runbooks.find((r) => r.name === 'dr-test')!;
    const budgets = drTest.phases.map((phase) => [phase.title, phase.budgetMinutes]);
    expect(budgets).toEqual([
      ['Pre-test checklist', null],
      ['Phase 1: Preparation', 30],
      ['Phase 2: Failover', 15],
      ['Phase 3: Validation', 30],
      ['Phase 4: Protect again', 30],
      ['Post-test', null],
    ]);
    expect(drTest.phases[0]!.steps.every((step) => step.checklist)).toBe(true);
  });

  it('keep a command under a step as its details', () => {
    const restore = library.runbooks.find((r) => r.name === 'backup-restore-test')!;
    const step = allSteps(restore).find((s) => s.text.startsWith('Restore it with pg_restore'));
    expect(step?.details).toContain('pg_restore --exit-on-error');
  });
});

describe('the seed DR test runbook (no front matter)', () => {
  const source = readFileSync(path.join(root, 'test/fixtures/seed-dr-test.md'), 'utf8');
  const runbook = parseRunbook(source, 'seed-dr-test.md');

  it('takes its title from the first heading and defaults to a drill', () => {
    expect(runbook.title).toBe('DR Testing Runbook');
    expect(runbook.kind).toBe('drill');
    expect(runbook.service).toBeNull();
  });

  it('lets "Test Procedure" group the four phases instead of being a phase itself', () => {
    expect(runbook.phases.map((p) => p.title)).toEqual([
      'Pre-Test Checklist',
      'Phase 1: Preparation',
      'Phase 2: Failover',
      'Phase 3: Validation',
      'Phase 4: Failback',
      'Post-Test',
    ]);
    expect(runbook.phases.map((p) => p.steps.length)).toEqual([5, 3, 5, 4, 4, 4]);
  });

  it('prints the DESIGN.md JSON shape with null where absent', () => {
    const json = runbookToJson(runbook);
    expect(Object.keys(json)).toEqual(['title', 'kind', 'phases']);
    expect(json.phases[1]).toEqual({
      title: 'Phase 1: Preparation',
      budget_minutes: 30,
      steps: [
        { text: 'Take snapshot of DR replica', checklist: false, action: null, approval: null },
        { text: 'Document current state', checklist: false, action: null, approval: null },
        { text: 'Set up monitoring for DR region', checklist: false, action: null, approval: null },
      ],
    });
    expect(json.phases[0]!.steps[0]).toEqual({
      text: 'Notify stakeholders',
      checklist: true,
      action: null,
      approval: null,
    });
  });
});

describe('parsing rules', () => {
  const design = `---
title: Regional failover — payments database
kind: failover
service: payments-db
owner: "@dba-oncall"
reviewed: 2026-10-01
---
# Regional failover

## Pre-flight checklist
- [ ] Incident channel opened
- [x] Stakeholders notified

## Phase 1: Assess (10 minutes)
1. Check replication lag \`action: db.check-lag\`
2. Confirm the primary is really down (look at the dashboards)

## Phase 2: Failover (15 minutes)
1. Promote the DR replica \`action: db.promote\` \`approval: two-person\`
2. Point db.example.com at the DR endpoint \`action: dns.switch\`
3. Verify the application can write \`action: db.verify-writable\`
`;

  it("reads DESIGN.md's example runbook as written", () => {
    const runbook = parseRunbook(design, 'runbooks/failover.md');
    expect(runbook).toMatchObject({
      name: 'failover',
      title: 'Regional failover — payments database',
      kind: 'failover',
      service: 'payments-db',
      owner: '@dba-oncall',
      reviewed: '2026-10-01',
    });
    const steps = allSteps(runbook);
    expect(steps.map((s) => s.text)).toEqual([
      'Incident channel opened',
      'Stakeholders notified',
      'Check replication lag',
      'Confirm the primary is really down (look at the dashboards)',
      'Promote the DR replica',
      'Point db.example.com at the DR endpoint',
      'Verify the application can write',
    ]);
    expect(steps.map((s) => s.checklist)).toEqual([true, true, false, false, false, false, false]);
    expect(steps.map((s) => s.index)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(steps[4]).toMatchObject({
      action: 'db.promote',
      approval: 'two-person',
      line: 19,
      phaseIndex: 2,
    });
  });

  it('gives actions that change infrastructure two-person approval by default', () => {
    const steps = allSteps(parseRunbook(design, 'failover.md'));
    expect(steps.find((s) => s.action === 'dns.switch')?.approval).toBe('two-person');
    expect(steps.find((s) => s.action === 'db.check-lag')?.approval).toBeNull();
  });

  it('reads budgets in minutes, min and hours', () => {
    const runbook = parseRunbook(
      '## A (15 minutes)\n- a\n## B (15 min)\n- b\n## C (2 hours)\n- c\n## D (1 hour)\n- d\n## E (optional)\n- e\n',
      'x.md',
    );
    expect(runbook.phases.map((p) => [p.title, p.budgetMinutes])).toEqual([
      ['A', 15],
      ['B', 15],
      ['C', 120],
      ['D', 60],
      ['E (optional)', null],
    ]);
  });

  it('keeps ordinary code spans in the text and strips only directives', () => {
    const [step] = allSteps(
      parseRunbook(
        '- Run `SELECT pg_is_in_recovery()` on the replica `action: db.check-lag`',
        'x.md',
      ),
    );
    expect(step?.text).toBe('Run `SELECT pg_is_in_recovery()` on the replica');
    expect(step?.action).toBe('db.check-lag');
  });

  it('makes a nested list item a step of its own after its parent', () => {
    const steps = allSteps(
      parseRunbook(
        '## P\n1. Verify the app\n   - checkout loads\n   - payments API answers\n2. Done',
        'x.md',
      ),
    );
    expect(steps.map((s) => s.text)).toEqual([
      'Verify the app',
      'checkout loads',
      'payments API answers',
      'Done',
    ]);
  });

  it('puts steps under a title with no phase heading into one phase', () => {
    const runbook = parseRunbook(
      '# Quick check\n1. Look at the dashboard\n2. Check lag `action: db.check-lag`',
      'quick.md',
    );
    expect(runbook.phases).toHaveLength(1);
    expect(runbook.phases[0]!.title).toBe('Quick check');
  });

  it('accepts every known action', () => {
    // The team's own (run, http) name what lifeboat.yml defines.
    const source = ACTION_NAMES.map(
      (name) =>
        `- step \`action: ${name}${name === 'run' || name === 'http' || name === 'lambda' ? ' hook' : ''}\``,
    ).join('\n');
    expect(allSteps(parseRunbook(source, 'x.md')).map((s) => s.action)).toEqual([...ACTION_NAMES]);
  });
});

describe('runbook errors name file:line and say what to fix', () => {
  it('unknown action, with the closest known one', () => {
    const error = parseError('# T\n\n## P\n1. Promote `action: db.promot`');
    expect(error.message).toMatch(
      /^runbooks\/broken\.md:4: unknown action "db\.promot" \(did you mean db\.promote\?\)/,
    );
    expect(error.message).toContain('known: db.check-lag, db.fence, db.catch-up, db.promote');
  });

  it('a misspelled directive instead of a silent manual step', () => {
    expect(parseError('- Promote `acton: db.promote`').message).toBe(
      'runbooks/broken.md:1: unknown directive "acton:" (did you mean action:?)',
    );
  });

  it('unknown kind', () => {
    expect(parseError('---\ntitle: T\nkind: failovr\n---\n- a').message).toBe(
      'runbooks/broken.md:3: unknown kind "failovr" (known: failover, failback, switchover, drill, tabletop, restore-test)',
    );
  });

  it('unknown approval mode', () => {
    expect(parseError('\n\n- a `approval: one-person`').message).toBe(
      'runbooks/broken.md:3: unknown approval mode "one-person" (known: two-person, none)',
    );
  });

  it('turning off approval for an action that changes infrastructure', () => {
    expect(parseError('- Promote `action: db.promote` `approval: none`').message).toContain(
      'db.promote changes infrastructure and always needs two-person approval',
    );
  });

  it('a budget that is not a duration', () => {
    expect(parseError('# T\n## Phase 1 (10 minuets)\n- a').message).toBe(
      'runbooks/broken.md:2: budget "(10 minuets)" is not a duration: write it like (15 minutes), (15 min) or (2 hours)',
    );
    expect(parseError('## Phase 1 (0 minutes)\n- a').message).toContain('is not a duration');
  });

  it('malformed front matter, at its line', () => {
    expect(parseError('---\ntitle: T\nkind: [drill\n---\n- a').message).toMatch(
      /^runbooks\/broken\.md:3: malformed front matter/,
    );
    expect(parseError('---\ntitle: T\n- a').message).toBe(
      'runbooks/broken.md:1: front matter opened with "---" is never closed by a "---" line',
    );
    expect(parseError('---\nowner: x\nowner: y\n---\n- a').message).toMatch(
      /malformed front matter/,
    );
    expect(parseError('---\ntitel: T\n---\n- a').message).toBe(
      'runbooks/broken.md:2: unknown front matter key "titel" (did you mean title?) (known: title, kind, service, owner, reviewed)',
    );
    expect(parseError('---\nreviewed: last spring\n---\n- a').message).toBe(
      'runbooks/broken.md:2: reviewed "last spring" is not a date like 2026-10-01',
    );
  });

  it('no steps at all', () => {
    expect(parseError('# Just a title\n\nSome prose.\n').message).toBe(
      'runbooks/broken.md:1: no steps at all: write steps as list items ("1. Promote the replica") under a heading',
    );
  });

  it('two actions on one step', () => {
    expect(parseError('- a `action: wait` `action: notify`').message).toContain(
      'a step binds one action',
    );
  });

  it('an empty step', () => {
    expect(parseError('## P\n- a\n-\n').message).toBe(
      'runbooks/broken.md:3: empty step: a list item needs text saying what to do',
    );
  });

  it('keeps line numbers true with Windows line endings and a byte order mark', () => {
    expect(parseError('\uFEFF# T\r\n\r\n## P\r\n1. a `action: nope`\r\n').message).toMatch(
      /^runbooks\/broken\.md:4:/,
    );
  });
});

describe('action arguments', () => {
  it('lets wait take a duration', () => {
    const [step] = allSteps(parseRunbook('- Let the DNS TTL pass `action: wait 2m`', 'x.md'));
    expect(step).toMatchObject({
      action: 'wait',
      actionArgument: '2m',
      text: 'Let the DNS TTL pass',
    });
  });

  it('refuses a wait that is not a duration, and arguments to other actions', () => {
    expect(parseError('- a `action: wait forever`').message).toBe(
      'runbooks/broken.md:1: wait takes a duration like "action: wait 2m", not "forever"',
    );
    expect(parseError('- a `action: db.promote now`').message).toBe(
      'runbooks/broken.md:1: db.promote takes no argument (found "now")',
    );
  });
});
