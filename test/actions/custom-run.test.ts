// `action: run NAME` against real processes: what the command is given (arguments, environment,
// idempotency key), its exit code as the step's result, its output in the report, its deadline
// (the whole process group stopped), the config — not the runbook — deciding two-person approval.

import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { refuseBesideEarlierAttempt } from '../../src/actions/custom/run.js';
import type { ActionContext } from '../../src/actions/types.js';
import { parseConfig } from '../../src/config.js';
import { renderReport } from '../../src/report.js';
import { parseRunbook } from '../../src/runbook/parse.js';
import { checkRunbookReferences } from '../../src/runbook/references.js';
import { makeEngine, playThrough, postgresConfig, type TestEngine } from '../support/engine.js';
import { makeTempDir } from '../support/tmp.js';
import { cli } from '../support/cli.js';
import { nodeTsArgs } from '../support/node-ts.js';
import { waitFor } from '../support/pg-pair.js';
import { openStore } from '../../src/store/db.js';

const alice = { user: 'U0ALICE' };
const bob = { user: 'U0BOB' };

const runbook = (step: string) =>
  `---\ntitle: Restart\nkind: drill\nservice: payments-db\n---\n## Go (10 minutes)\n1. ${step}\n2. Look at the dashboards\n`;

/** A shell script in `dir`; the command runs it by path, no shell string anywhere in lifeboat. */
function script(dir: string, name: string, body: string): string {
  const file = path.join(dir, name);
  writeFileSync(file, `#!/bin/sh\n${body}\n`, { mode: 0o755 });
  return file;
}

function config(actions: string): string {
  return postgresConfig(
    'postgres://postgres@127.0.0.1:1/postgres',
    'postgres://postgres@127.0.0.1:2/postgres',
    `actions:\n${actions}`,
  );
}

async function engineWith(actions: (dir: string) => string, step: string): Promise<TestEngine> {
  const dir = makeTempDir();
  return makeEngine({
    runbooks: { restart: runbook(step) },
    configYaml: config(actions(dir)),
    env: { PATH: process.env.PATH ?? '', HOME: '/nonexistent', KUBECONFIG: '/etc/kube', LEAK: 'x' },
  }).then((t) => Object.assign(t, { scripts: dir }));
}

const scriptsOf = (t: TestEngine) => (t as TestEngine & { scripts: string }).scripts;

describe('action: run NAME', () => {
  it('runs the configured argument list behind two people, with only the allowed environment and the idempotency key, and keeps its output for the report', async () => {
    let seen = '';
    const t = await engineWith((dir) => {
      seen = path.join(dir, 'seen');
      const restart = script(
        dir,
        'restart.sh',
        `for arg in "$@"; do echo "arg=$arg" >> ${seen}; done\nenv | sort >> ${seen}\necho "deployment.apps/app restarted"\necho "progress on stderr" >&2`,
      );
      const check = script(dir, 'check.sh', `echo "verify $LIFEBOAT_IDEMPOTENCY_KEY" >> ${seen}`);
      return `  restart-app:\n    command: ["${restart}", "{{service}}", "two words; rm -rf /", "$HOME"]\n    verify: ["${check}"]\n    env: [KUBECONFIG]\n    timeout: 1m\n`;
    }, 'Restart the app `action: run restart-app`');

    const plan = await t.engine.previewPlan('restart', 'payments-db', 'drill');
    expect(plan.lines[0]).toContain(
      `Run \`${path.join(scriptsOf(t), 'restart.sh')} payments-db 'two words; rm -rf /' '$HOME'\` (timeout 1m; environment: PATH, HOME, KUBECONFIG and LIFEBOAT_IDEMPOTENCY_KEY=lifeboat:preview:step-1)`,
    );
    expect(plan.lines[0]).toContain('(two-person approval)');

    const { runId } = await t.engine.startRun({ key: 'k', actor: alice, runbook: 'restart' });
    await t.engine.idle();
    const waiting = await t.engine.getRun(runId);
    expect(waiting.current?.waitingOn).toBe('approval');
    expect(existsSync(seen)).toBe(false); // nothing ran before the second person

    const view = await playThrough(t, runId, (v) => v.current?.index === 1);
    const step = view.steps[0]!;
    expect(step.state).toBe('done');
    expect(step.summary).toMatch(
      /^`.*restart\.sh payments-db 'two words; rm -rf \/' '\$HOME'` exited 0 in \d+\.\d s: deployment\.apps\/app restarted$/,
    );
    const lines = readFileSync(seen, 'utf8').split('\n');
    // Each argument arrives whole and unexpanded: no shell ever saw them.
    expect(lines.filter((line) => line.startsWith('arg='))).toEqual([
      'arg=payments-db',
      'arg=two words; rm -rf /',
      'arg=$HOME',
    ]);
    expect(lines).toContain('KUBECONFIG=/etc/kube');
    expect(lines).toContain(`LIFEBOAT_IDEMPOTENCY_KEY=lifeboat:${runId}:step-1`);
    expect(lines).toContain(`LIFEBOAT_RUN_ID=${runId}`);
    expect(lines).toContain('LIFEBOAT_SERVICE=payments-db');
    expect(lines).toContain('LIFEBOAT_ATTEMPT=1');
    expect(lines.some((line) => line.startsWith('LEAK='))).toBe(false); // not in env:, not given
    expect(lines).toContain(`verify lifeboat:${runId}:step-1`); // the verify command ran after it
    expect(step.result.verification).toMatch(/check\.sh` exited 0$/);

    const report = await renderReport(view, t.store, t.config, 'markdown');
    expect(report).toContain('## Output');
    expect(report).toContain('- step 1 action.finished, stdout:');
    expect(report).toContain('deployment.apps/app restarted');
    expect(report).toContain('- step 1 action.finished, stderr:\n```\nprogress on stderr\n```');
  });

  it('fails on a non-zero exit with the tail of stderr; a retry gets the same idempotency key and the next attempt number', async () => {
    let log = '';
    let fixed = '';
    const t = await engineWith((dir) => {
      log = path.join(dir, 'log');
      fixed = path.join(dir, 'fixed');
      const hook = script(
        dir,
        'hook.sh',
        `echo "$LIFEBOAT_IDEMPOTENCY_KEY attempt $LIFEBOAT_ATTEMPT" >> ${log}\nif [ ! -e ${fixed} ]; then echo "line 1" >&2; echo "error: deploy/app not found" >&2; exit 3; fi\necho ok`,
      );
      return `  hook:\n    command: ["${hook}"]\n    approval: none\n`;
    }, 'Run the hook `action: run hook`');
    const { runId } = await t.engine.startRun({ key: 'k', actor: alice, runbook: 'restart' });
    await t.engine.idle();
    let view = await t.engine.getRun(runId);
    expect(view.current?.waitingOn).toBe('failure'); // approval: none in the config: no approval asked
    expect(view.current?.summary).toMatch(
      /^run hook: `.*hook\.sh` exited 3 after \d+\.\d s:\nline 1\nerror: deploy\/app not found$/,
    );
    const failed = await renderReport(view, t.store, t.config, 'text');
    expect(failed).toContain(
      '- step 1 action.failed, stderr:\n    line 1\n    error: deploy/app not found',
    );

    writeFileSync(fixed, '');
    await t.engine.retryStep({ key: 'r', actor: alice, runId, stepIndex: 0 });
    await t.engine.idle();
    view = await t.engine.getRun(runId);
    expect(view.steps[0]!.state).toBe('done');
    expect(view.steps[0]!.result.verification).toBe(
      'no independent check: the action itself is the check',
    );
    expect(readFileSync(log, 'utf8')).toBe(
      `lifeboat:${runId}:step-1 attempt 1\nlifeboat:${runId}:step-1 attempt 2\n`,
    );
  });

  it('stops the whole process group at the deadline and says so', async () => {
    let pidFile = '';
    const t = await engineWith((dir) => {
      pidFile = path.join(dir, 'child.pid');
      const slow = script(dir, 'slow.sh', `sleep 60 &\necho $! > ${pidFile}\nwait`);
      return `  slow:\n    command: ["${slow}"]\n    timeout: 1s\n    approval: none\n`;
    }, 'Wait for it `action: run slow`');
    const { runId } = await t.engine.startRun({ key: 'k', actor: alice, runbook: 'restart' });
    await t.engine.idle();
    const view = await t.engine.getRun(runId);
    expect(view.current?.waitingOn).toBe('failure');
    expect(view.current?.summary).toMatch(
      /^run slow: `.*slow\.sh` stopped after its 1s timeout \(its process group was sent TERM, then KILL\) after 1\.\d s and printed nothing$/,
    );
    const child = Number(readFileSync(pidFile, 'utf8'));
    // Gone, or a zombie no one has reaped yet (state Z): either way it no longer runs.
    const alive = () => {
      try {
        return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${child}/stat`, 'utf8'));
      } catch {
        return false;
      }
    };
    expect(alive()).toBe(false); // the script's own child went with it
  });

  it('fails a step whose verify command disagrees, and one whose program is missing, plainly', async () => {
    const dir = makeTempDir();
    const ok = script(dir, 'ok.sh', 'echo done');
    const no = script(dir, 'no.sh', 'echo "pods not ready: 0/3" >&2; exit 1');
    const t = await makeEngine({
      runbooks: {
        claims: runbook('Claim `action: run claims`'),
        missing: runbook('List pods `action: run missing`'),
      },
      configYaml: config(
        `  claims:\n    command: ["${ok}"]\n    verify: ["${no}"]\n    approval: none\n  missing:\n    command: ["kubectl-not-installed", "get", "pods"]\n    approval: none\n`,
      ),
      env: { PATH: '/usr/bin:/bin' },
    });
    const claims = await t.engine.startRun({ key: 'k1', actor: alice, runbook: 'claims' });
    await t.engine.idle();
    expect((await t.engine.getRun(claims.runId)).current?.summary).toMatch(
      /^verification failed: `.*no\.sh` exited 1: pods not ready: 0\/3$/,
    );
    await t.engine.abortRun({ key: 'a', actor: alice, runId: claims.runId, reason: 'next test' });
    const missing = await t.engine.startRun({ key: 'k2', actor: alice, runbook: 'missing' });
    await t.engine.idle();
    expect((await t.engine.getRun(missing.runId)).current?.summary).toBe(
      'run missing: could not start: kubectl-not-installed was not found (PATH=/usr/bin:/bin)',
    );
  });
});

describe('custom actions in the config and the runbooks', () => {
  const file = '/etc/lifeboat/lifeboat.yml';
  const load = (actions: string) => () => parseConfig(`actions:\n${actions}`, file);

  it('names the key path of every mistake', () => {
    expect(load('  a:\n    command: "kubectl rollout restart deploy/app"\n')).toThrow(
      'actions.a.command: "kubectl rollout restart deploy/app" must be the program and its arguments as a list, like [kubectl, rollout, restart, deploy/app]: never a shell string',
    );
    expect(load('  a:\n    command: [x]\n    url: http://example.com/\n')).toThrow(
      'actions.a: has command: and url: — an action is one command, HTTP request or Lambda function',
    );
    expect(load('  a:\n    command: [x]\n    retries: 3\n')).toThrow(
      'actions.a.retries: belongs to an HTTP action (url:), not to this action',
    );
    expect(load('  a:\n    url: http://example.com/\n    verify: [x]\n')).toThrow(
      'actions.a.verify: belongs to a command action (command:), not to this action',
    );
    expect(load('  a:\n    command: [x, "{{run.idd}}"]\n')).toThrow(
      'actions.a.command: {{run.idd}} is not something lifeboat fills in (known: {{run.id}},',
    );
    expect(load('  a:\n    function: f\n    region: us-west-2\n    env: [TOKEN]\n')).toThrow(
      'actions.a.env: belongs to another kind of action: a Lambda function gets what it needs in payload:',
    );
    expect(load('  a:\n    description: nothing to do\n')).toThrow(
      'actions.a: needs command: (a program and its arguments',
    );
    expect(load('  Restart_App:\n    command: [x]\n')).toThrow('actions.Restart_App');
  });

  it('lets only the config lower a custom action below two people, and finds steps that name nothing', () => {
    expect(() =>
      parseRunbook(runbook('Go `action: run hook` `approval: none`'), 'runbooks/x.md'),
    ).toThrow(
      'runbooks/x.md:7: whether "run hook" needs two people is set in lifeboat.yml (actions.hook.approval), not in a runbook',
    );
    expect(() => parseRunbook(runbook('Go `action: run`'), 'runbooks/x.md')).toThrow(
      'run names one of the actions lifeboat.yml defines, like "action: run restart-app"',
    );
    const config = parseConfig(
      'actions:\n  hook: { command: [x] }\n  status-page: { url: "https://status.example.com/api" }\n',
      file,
    );
    const named = parseRunbook(
      runbook('Go `action: run hooks`\n2. Post `action: run status-page`'),
      'runbooks/x.md',
    );
    expect(
      checkRunbookReferences(config, [named]).filter((line) => !line.includes('service')),
    ).toEqual([
      'runbooks/x.md:7: "action: run hooks" names no command in lifeboat.yml actions: (known: hook)',
      'runbooks/x.md:8: actions.status-page in lifeboat.yml is an HTTP request: write "action: http status-page"',
    ]);
  });

  it('refuses to start a run whose runbook names an action the config does not define', async () => {
    const t = await makeEngine({
      runbooks: { restart: runbook('Go `action: run nope`') },
      configYaml: config('  hook: { command: [x] }\n'),
    });
    await expect(t.engine.startRun({ key: 'k', actor: alice, runbook: 'restart' })).rejects.toThrow(
      /restart\.md:7: "action: run nope" names no command in lifeboat\.yml actions: \(known: hook\)/,
    );
    void bob;
  });
});

describe('a break-glass CLI killed mid-command', () => {
  it('never runs a second copy beside the first attempt still running; once it ended, the retry gets the same idempotency key', async () => {
    const dir = makeTempDir();
    mkdirSync(path.join(dir, 'runbooks'));
    const log = path.join(dir, 'log');
    const started = path.join(dir, 'started');
    const hook = script(
      dir,
      'hook.sh',
      `echo "$LIFEBOAT_IDEMPOTENCY_KEY attempt $LIFEBOAT_ATTEMPT" >> ${log}\nif [ "$LIFEBOAT_ATTEMPT" = 1 ]; then echo $$ > ${started}; exec sleep 30; fi\necho "already restarted: $LIFEBOAT_IDEMPOTENCY_KEY"`,
    );
    writeFileSync(path.join(dir, 'runbooks', 'restart.md'), runbook('Restart `action: run hook`'));
    writeFileSync(
      path.join(dir, 'lifeboat.yml'),
      // The CLI in a child process acts for this machine's account: map it to alice's Slack ID.
      config(`  hook:\n    command: ["${hook}"]\n    approval: none\n`).replace(
        'carol: U0CAROL }',
        `carol: U0CAROL, ${userInfo().username}: U0ALICE }`,
      ),
    );
    const env = { LIFEBOAT_CONFIG: path.join(dir, 'lifeboat.yml') };
    const child = spawn(process.execPath, nodeTsArgs('src/cli.ts', 'run', 'start', 'restart'), {
      env: { ...process.env, ...env },
    });
    const exited = new Promise((resolve) => child.on('exit', resolve));
    await waitFor(
      () => existsSync(started) && readFileSync(started, 'utf8').trim() !== '',
      'the command to start',
    );
    child.kill('SIGKILL');
    await exited;
    const orphan = Number(readFileSync(started, 'utf8'));
    try {
      const store = openStore(path.join(dir, 'lifeboat.db'));
      const runId = (
        store.db
          .prepare("SELECT run_id AS runId FROM run_steps WHERE state = 'executing'")
          .get() as {
          runId: string;
        }
      ).runId;
      await store.close();
      // The first attempt's command still runs (lifeboat died, not it): no second copy beside it.
      const resumed = await cli(['run', 'resume', runId], env, () => new Date(), 'alice');
      expect(resumed.stdout).toContain(
        `[>] 1. Restart (run) — waiting on failure: run hook: an earlier attempt of this step is still running (pid ${orphan}: sleep 30): lifeboat does not start a second copy beside it — wait for it to end, or stop its process group (kill -TERM -${orphan}), then retry the step`,
      );
      process.kill(-orphan, 'SIGKILL');
      await waitFor(() => {
        try {
          return /^\d+ \(.*\) Z/.test(readFileSync(`/proc/${orphan}/stat`, 'utf8'));
        } catch {
          return true;
        }
      }, 'the first attempt to end');
      const retried = await cli(
        ['run', 'step', runId, '1', 'retry'],
        env,
        () => new Date(),
        'alice',
      );
      expect(retried.code).toBe(0);
      expect(retried.stdout).toMatch(
        /\[x\] 1\. Restart \(run\): `.*hook\.sh` exited 0 in \d+\.\d s: already restarted: lifeboat:r-[0-9a-f]+:step-1/,
      );
      // The same key every time; the attempt the refused resume counted is not run.
      expect(readFileSync(log, 'utf8')).toBe(
        `lifeboat:${runId}:step-1 attempt 1\nlifeboat:${runId}:step-1 attempt 3\n`,
      );
    } finally {
      try {
        process.kill(-orphan, 'SIGKILL'); // the first attempt's command, if a failure left it
      } catch {
        // already gone
      }
    }
  });
});

describe('the guard against a second copy of a step’s command', () => {
  const context = (attempt: number) =>
    ({ attempt, run: { id: 'r-7' }, step: { index: 2 } }) as unknown as ActionContext;

  it('reads the processes as /proc shows them: a live one with the key refuses, a zombie does not', () => {
    const proc = makeTempDir();
    const fake = (pid: number, state: string, key: string) => {
      mkdirSync(path.join(proc, String(pid)));
      writeFileSync(path.join(proc, String(pid), 'environ'), `PATH=/bin\0${key}\0`);
      writeFileSync(
        path.join(proc, String(pid), 'stat'),
        `${pid} (sleep) ${state} 1 ${pid} ${pid} 0`,
      );
      writeFileSync(path.join(proc, String(pid), 'cmdline'), 'sleep\x0030\x00');
    };
    fake(4242, 'S', 'LIFEBOAT_IDEMPOTENCY_KEY=lifeboat:r-7:step-3');
    fake(4343, 'S', 'LIFEBOAT_IDEMPOTENCY_KEY=lifeboat:r-7:step-4'); // another step's
    expect(refuseBesideEarlierAttempt(context(1), { name: 'hook' }, proc)).toBeNull();
    expect(() => refuseBesideEarlierAttempt(context(2), { name: 'hook' }, proc)).toThrow(
      /an earlier attempt of this step is still running \(pid 4242: sleep 30\).*kill -TERM -4242/,
    );
    rmSync(path.join(proc, '4242'), { recursive: true });
    fake(4242, 'Z', 'LIFEBOAT_IDEMPOTENCY_KEY=lifeboat:r-7:step-3');
    expect(refuseBesideEarlierAttempt(context(2), { name: 'hook' }, proc)).toBeNull();
  });

  it('says the retry was not checked where there is no /proc to look through', () => {
    expect(
      refuseBesideEarlierAttempt(context(2), { name: 'hook' }, path.join(makeTempDir(), 'none')),
    ).toMatch(/^not checked whether an earlier attempt still runs: .*none cannot be read here/);
  });
});
