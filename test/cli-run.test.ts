// The break-glass CLI: a whole failover from the terminal, and approvals racing from two processes.

import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateApproverKey, signChallenge } from '../src/cli/approval-token.js';
import { startPostgresPair } from '../src/providers/postgres/servers.js';
import { openStore } from '../src/store/db.js';
import { cli } from './support/cli.js';
import { postgresConfig } from './support/engine.js';
import { nodeTsArgs } from './support/node-ts.js';
import { sql, waitFor } from './support/pg-pair.js';
import { makeTempDir } from './support/tmp.js';

const failover = `---
title: Failover
kind: failover
service: payments-db
---
## Go (15 minutes)
1. Confirm the primary is down
2. Promote \`action: db.promote\`
3. Write \`action: db.verify-writable\`
`;

function workspace(configYaml: string): { dir: string; env: Record<string, string> } {
  const dir = makeTempDir();
  mkdirSync(path.join(dir, 'runbooks'));
  writeFileSync(path.join(dir, 'runbooks', 'failover.md'), failover);
  writeFileSync(path.join(dir, 'lifeboat.yml'), configYaml);
  return { dir, env: { LIFEBOAT_CONFIG: path.join(dir, 'lifeboat.yml') } };
}

function runIdOf(output: string): string {
  const match = /run (r-[0-9a-f]+)/.exec(output);
  if (!match?.[1]) throw new Error(`no run id in: ${output}`);
  return match[1];
}

function lifeboat(
  env: Record<string, string>,
  ...args: string[]
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, nodeTsArgs('src/cli.ts', ...args), {
      env: { ...process.env, ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('lifeboat run (break-glass)', () => {
  it('fails over from the terminal with the same gates as Slack, each person on their own OS account', async () => {
    const pair = await startPostgresPair();
    try {
      await pair.killPrimary();
      const { env } = workspace(postgresConfig(pair.primary.url, pair.standby.url));
      const started = await cli(['run', 'start', 'failover'], env, undefined, 'alice');
      expect(started.code).toBe(0);
      const runId = runIdOf(started.stdout);
      expect(started.stdout).toContain('[>] 1. Confirm the primary is down — waiting on operator');

      const done = await cli(['run', 'step', runId, '1', 'done'], env, undefined, 'alice');
      expect(done.stdout).toMatch(/\[>\] 2\. Promote \(db\.promote\) — waiting on approval/);
      expect(done.stdout).toMatch(
        /approval a-[0-9a-f]+ \(two-person\) requested by alice \(U0ALICE\), expires \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC([+-]\d+(:\d\d)?)?/,
      );
      expect(done.stdout).toMatch(
        /approver elsewhere: lifeboat approve-token [A-Za-z0-9_-]+ --key KEYFILE/,
      );

      // What is in flight names people as the terminal knows them, times in its zone.
      const inFlight = await cli(['run', 'status'], env, undefined, 'alice');
      expect(inFlight.stdout).toMatch(
        new RegExp(
          `^RUN +STARTED +BY +KIND +RUNBOOK +SERVICE +STATUS\n${runId}  \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d UTC\\S*  alice \\(U0ALICE\\)  failover  failover  payments-db  waiting\n$`,
        ),
      );
      const self = await cli(['run', 'approve', runId], env, undefined, 'alice');
      expect(self.code).toBe(1);
      expect(self.stderr).toBe(
        'lifeboat: you asked for this, so you cannot approve it: the two-person rule needs someone else\n',
      );
      // Naming someone else does not make you them.
      const claim = await cli(['run', 'approve', runId, '--as', 'U0BOB'], env, undefined, 'alice');
      expect(claim.code).toBe(1);
      expect(claim.stderr).toContain('--as U0BOB is not you: the OS account "alice" is U0ALICE');

      const approved = await cli(['run', 'approve', runId], env, undefined, 'bob');
      expect(approved.code).toBe(0);
      expect(approved.stdout).toContain(
        `run ${runId}: failover, runbook failover for payments-db, succeeded`,
      );
      expect(await sql(pair.standby.url, 'SELECT pg_is_in_recovery() AS r')).toEqual([
        { r: false },
      ]);

      const store = openStore(path.join(path.dirname(env.LIFEBOAT_CONFIG!), 'lifeboat.db'));
      const granted = store.db
        .prepare("SELECT actor, details FROM audit_log WHERE action = 'approval.granted'")
        .get() as { actor: string; details: string };
      await store.close();
      expect(granted.actor).toBe('U0BOB');
      expect(JSON.parse(granted.details)).toMatchObject({ via: 'cli:bob' });

      const report = await cli(['report', runId, '--markdown'], env);
      expect(report.code).toBe(0);
      expect(report.stdout).toContain('# Failover — failover ' + runId);
      expect(report.stdout).toMatch(/- Achieved RTO: \d+s \(objective 15m, met\)/);
      expect(report.stdout).toMatch(
        /## Approvals\n- step 2 two-person, requested by U0ALICE: approved \(approve by U0BOB \(cli:bob\) at /,
      );
      // Without --markdown: text for a terminal, times in the machine's zone, named.
      const text = await cli(['report', runId], env);
      expect(text.stdout).toMatch(/^Failover — failover r-\w+\n/);
      expect(text.stdout).toContain('Approvals\n---------\n');
      expect(text.stdout).toMatch(
        /- Impact: \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC([+-]\d+(:\d\d)?)? · started/,
      );
      expect(text.stdout).not.toContain('## ');
      expect(text.stdout).toContain(
        'requested by alice (U0ALICE): approved (approve by bob (U0BOB)',
      );
    } finally {
      await pair.stop();
    }
  });

  it('reads only on run status, and resumes a run whose walker died only when told to', async () => {
    // The CLI in a child process acts for this machine's account: map it to alice's Slack ID.
    const me = userInfo().username;
    const { dir, env } = workspace(
      postgresConfig(
        'postgres://postgres@127.0.0.1:1/postgres',
        'postgres://postgres@127.0.0.1:2/postgres',
      ).replace('carol: U0CAROL }', `carol: U0CAROL, ${me}: U0ALICE }`),
    );
    writeFileSync(
      path.join(dir, 'runbooks', 'hold.md'),
      '---\ntitle: Hold\nkind: drill\n---\n## Go\n1. Hold `action: wait 2s`\n2. Look\n',
    );
    // A break-glass CLI dies (kill -9) while the wait runs.
    const child = spawn(process.execPath, nodeTsArgs('src/cli.ts', 'run', 'start', 'hold'), {
      env: { ...process.env, ...env },
    });
    const store = openStore(path.join(dir, 'lifeboat.db'));
    const executing = () =>
      store.db.prepare("SELECT run_id AS runId FROM run_steps WHERE state = 'executing'").get() as
        { runId: string } | undefined;
    await waitFor(() => executing() !== undefined, 'the wait to start');
    const exited = new Promise((resolve) => child.on('exit', resolve));
    child.kill('SIGKILL');
    await exited;
    const runId = executing()!.runId;

    // The dead CLI ran on the real clock: so do these (the wait's deadline is a real time).
    const status = await cli(['run', 'status', runId], env, () => new Date(), 'alice');
    expect(status.code).toBe(0);
    expect(status.stdout).toContain('[~] 1. Hold (wait)');
    expect(status.stdout).toContain(
      `no process walks this run, and its next step is lifeboat's to run: "lifeboat run resume ${runId}" runs it`,
    );
    expect(executing()).toEqual({ runId }); // status ran nothing

    const resumed = await cli(['run', 'resume', runId], env, () => new Date(), 'alice');
    expect(resumed.code).toBe(0);
    expect(resumed.stdout.split('\n')[0]).toBe(
      `resuming run ${runId}: next, step 1. Hold (wait, interrupted: it runs again as its resume allows)`,
    );
    expect(resumed.stdout).toMatch(/\[x\] 1\. Hold \(wait\): waited 2s/);
    expect(resumed.stdout).toContain('[>] 2. Look — waiting on operator');
    await store.close();
  });

  it('acts only for the OS account that runs it: unmapped, root and sudo', async () => {
    const { env } = workspace(
      postgresConfig(
        'postgres://postgres@127.0.0.1:1/postgres',
        'postgres://postgres@127.0.0.1:2/postgres',
      ),
    );
    const stranger = await cli(['run', 'start', 'failover'], env, undefined, 'mallory');
    expect(stranger.code).toBe(1);
    expect(stranger.stderr).toContain(
      'the OS account "mallory" has no entry in cli.users: add "mallory: U…"',
    );
    const root = { uid: 0, username: 'root' };
    const asRoot = await cli(['run', 'start', 'failover'], env, undefined, root);
    expect(asRoot.stderr).toContain(
      'root has no entry in cli.users: run lifeboat as your own account',
    );
    const viaSudo = await cli(
      ['run', 'start', 'drill-less'],
      { ...env, SUDO_USER: 'carol' },
      undefined,
      root,
    );
    expect(viaSudo.stderr).toContain('no runbook "drill-less"'); // got past identity: it is carol
    // SUDO_USER means nothing to a process that is not root.
    const notRoot = await cli(
      ['run', 'start', 'failover'],
      { ...env, SUDO_USER: 'bob' },
      undefined,
      'mallory',
    );
    expect(notRoot.stderr).toContain('the OS account "mallory" has no entry in cli.users');
  });

  it('names the people in a refusal by their account in cli.users', async () => {
    const { env } = workspace(
      `${postgresConfig(
        'postgres://postgres@127.0.0.1:1/postgres',
        'postgres://postgres@127.0.0.1:2/postgres',
      )}\npermissions:\n  start_failover: [U0ALICE, U0BOB]\n`,
    );
    const refused = await cli(['run', 'start', 'failover'], env, undefined, 'carol');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(
      /^lifeboat: carol \(U0CAROL\) may not start failover .*permissions\.start_failover \(alice \(U0ALICE\), bob \(U0BOB\)\) may\n$/,
    );
  });

  it('refuses a second approval from the account that started the run, or that already approved, whatever it maps to', async () => {
    const { dir, env } = workspace(
      postgresConfig(
        'postgres://postgres@127.0.0.1:1/postgres',
        'postgres://postgres@127.0.0.1:2/postgres',
      ).replace('required: 1', 'required: 2'),
    );
    const started = await cli(['run', 'start', 'failover'], env, undefined, 'alice');
    const runId = runIdOf(started.stdout);
    await cli(['run', 'step', runId, '1', 'done'], env, undefined, 'alice');
    const config = path.join(dir, 'lifeboat.yml');
    const original = readFileSync(config, 'utf8');
    // Someone edits cli.users so the account that started the run maps to another person.
    writeFileSync(
      config,
      original
        .replace('alice: U0ALICE', 'alice: U0DAVE')
        .replace('approvers: [', 'approvers: [U0DAVE, '),
    );
    const remapped = await cli(['run', 'approve', runId], env, undefined, 'alice');
    expect(remapped.code).toBe(1);
    expect(remapped.stderr).toContain(
      'the OS account "alice" started this run: a second approval must come from another account',
    );

    writeFileSync(config, original);
    expect((await cli(['run', 'approve', runId], env, undefined, 'bob')).code).toBe(0);
    writeFileSync(config, original.replace('bob: U0BOB', 'bob: U0CAROL'));
    const twice = await cli(['run', 'approve', runId], env, undefined, 'bob');
    expect(twice.code).toBe(1);
    expect(twice.stderr).toContain('the OS account "bob" already decided this request');
  });

  it('takes the approval of a person elsewhere as a token signed with their key, and refuses a forged, expired or misdirected one', async () => {
    const bobKey = generateApproverKey('U0BOB');
    const carolKey = generateApproverKey('U0CAROL');
    const { dir, env } = workspace(
      postgresConfig(
        'postgres://postgres@127.0.0.1:1/postgres',
        'postgres://postgres@127.0.0.1:2/postgres',
      ).replace(
        'expires_after: 15m',
        `expires_after: 15m\n  keys: { U0BOB: "${bobKey.publicKey}" }`,
      ),
    );
    const started = await cli(['run', 'start', 'failover'], env, undefined, 'alice');
    const runId = runIdOf(started.stdout);
    const done = await cli(['run', 'step', runId, '1', 'done'], env, undefined, 'alice');
    const challenge = /lifeboat approve-token (\S+) --key/.exec(done.stdout)![1]!;

    const keyFile = path.join(dir, 'bob.key');
    writeFileSync(keyFile, bobKey.keyFile);
    const signed = await cli(['approve-token', challenge, '--key', keyFile], {});
    expect(signed.code).toBe(0);
    expect(signed.stdout).toMatch(
      /^signing approval a-[0-9a-f]+ of run r-[0-9a-f]+: step 2, attempt 1/,
    );
    const token = signed.stdout.trim().split('\n').at(-1)!;

    const refusals: [string, string][] = [
      [`${token.slice(0, -4)}AAAA`, "the token's signature is not bob (U0BOB)'s"],
      [signChallenge(challenge, carolKey.keyFile), 'carol (U0CAROL) has no key in approvals.keys'],
      ['not-a-token', 'that is not an approval token'],
    ];
    for (const [bad, reason] of refusals) {
      const refused = await cli(['run', 'approve', runId, '--token', bad], env, undefined, 'alice');
      expect(refused.code, bad).toBe(1);
      expect(refused.stderr, bad).toContain(reason);
    }
    const late = await cli(
      ['run', 'approve', runId, '--token', token],
      env,
      () => new Date('2027-01-01T00:00:00Z'),
      'alice',
    );
    expect(late.stderr).toContain("the token's request expired at");

    const approved = await cli(
      ['run', 'approve', runId, '--token', token],
      env,
      undefined,
      'alice',
    );
    expect(approved.code).toBe(0);
    const store = openStore(path.join(dir, 'lifeboat.db'));
    const votes = store.db.prepare('SELECT approver, via FROM approval_votes').all();
    const refused = store.db
      .prepare("SELECT count(*) AS n FROM audit_log WHERE action = 'approval.token.refused'")
      .get();
    await store.close();
    expect(votes).toEqual([{ approver: 'U0BOB', via: 'token:U0BOB' }]);
    expect(refused).toEqual({ n: 4 });

    // The token was for that request: a later one needs a new token.
    const reused = await cli(['run', 'approve', runId, '--token', token], env, undefined, 'alice');
    expect(reused.code).toBe(1);
  });

  it('counts two approvers racing from two processes once each, and one approver racing himself once', async () => {
    const bobKey = generateApproverKey('U0BOB');
    const carolKey = generateApproverKey('U0CAROL');
    const { env } = workspace(
      postgresConfig(
        'postgres://postgres@127.0.0.1:1/postgres',
        'postgres://postgres@127.0.0.1:2/postgres',
      )
        .replace('required: 1', 'required: 3')
        .replace(
          'expires_after: 15m',
          `expires_after: 15m\n  keys: { U0BOB: "${bobKey.publicKey}", U0CAROL: "${carolKey.publicKey}" }`,
        ),
    );
    const started = await cli(['run', 'start', 'failover'], env, () => new Date(), 'alice');
    const runId = runIdOf(started.stdout);
    const done = await cli(['run', 'step', runId, '1', 'done'], env, () => new Date(), 'alice');
    const challenge = /lifeboat approve-token (\S+) --key/.exec(done.stdout)![1]!;
    const bobToken = signChallenge(challenge, bobKey.keyFile);
    const carolToken = signChallenge(challenge, carolKey.keyFile);

    const [bob, carol, bobAgain] = await Promise.all([
      lifeboat(env, 'run', 'approve', runId, '--token', bobToken),
      lifeboat(env, 'run', 'approve', runId, '--token', carolToken),
      lifeboat(env, 'run', 'approve', runId, '--token', bobToken),
    ]);
    expect([bob.code, carol.code, bobAgain.code]).toEqual([0, 0, 0]);
    const messages = [bob.stdout, carol.stdout, bobAgain.stdout]
      .map((out) => out.split('\n')[0])
      .sort();
    expect(messages).toEqual([
      'approval 1 of 3 counted',
      'approval 2 of 3 counted',
      'your decision was already counted',
    ]);

    const store = openStore(path.join(path.dirname(env.LIFEBOAT_CONFIG!), 'lifeboat.db'));
    const votes = store.db.prepare('SELECT approver FROM approval_votes ORDER BY approver').all();
    const status = store.db.prepare('SELECT status FROM approvals').get();
    await store.close();
    expect(votes).toEqual([{ approver: 'U0BOB' }, { approver: 'U0CAROL' }]);
    expect(status).toEqual({ status: 'pending' });
  });
});
