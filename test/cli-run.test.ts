// The break-glass CLI: a whole failover from the terminal, and approvals racing from two processes.

import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { startPostgresPair } from '../src/local/postgres-pair.js';
import { openStore } from '../src/store/db.js';
import { cli } from './support/cli.js';
import { postgresConfig } from './support/engine.js';
import { nodeTsArgs } from './support/node-ts.js';
import { sql } from './support/pg-pair.js';
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
  it('fails over from the terminal with the same gates as Slack, recording the OS user', async () => {
    const pair = await startPostgresPair();
    try {
      await pair.killPrimary();
      const { env } = workspace(postgresConfig(pair.primary.url, pair.standby.url));
      const started = await cli(['run', 'start', 'failover', '--as', 'U0ALICE'], env);
      expect(started.code).toBe(0);
      const runId = runIdOf(started.stdout);
      expect(started.stdout).toContain('[>] 1. Confirm the primary is down — waiting on operator');

      const done = await cli(['run', 'step', runId, '1', 'done', '--as', 'U0ALICE'], env);
      expect(done.stdout).toMatch(/\[>\] 2\. Promote \(db\.promote\) — waiting on approval/);
      expect(done.stdout).toMatch(/approval a-[0-9a-f]+ \(two-person\) requested by U0ALICE/);

      const self = await cli(['run', 'approve', runId, '--as', 'U0ALICE'], env);
      expect(self.code).toBe(1);
      expect(self.stderr).toBe(
        'lifeboat: you asked for this, so you cannot approve it: the two-person rule needs someone else\n',
      );

      const approved = await cli(['run', 'approve', runId, '--as', 'U0BOB'], env);
      expect(approved.code).toBe(0);
      expect(approved.stdout).toContain(
        `run ${runId}: failover of failover for payments-db, succeeded`,
      );
      expect(await sql(pair.standby.url, 'SELECT pg_is_in_recovery() AS r')).toEqual([
        { r: false },
      ]);

      const store = openStore(path.join(path.dirname(env.LIFEBOAT_CONFIG!), 'lifeboat.db'));
      const granted = store.db
        .prepare("SELECT actor, details FROM audit_log WHERE action = 'approval.granted'")
        .get() as { actor: string; details: string };
      store.close();
      expect(granted.actor).toBe('U0BOB');
      expect(JSON.parse(granted.details)).toMatchObject({ via: expect.stringMatching(/^cli:/) });

      const report = await cli(['report', runId, '--markdown'], env);
      expect(report.code).toBe(0);
      expect(report.stdout).toContain('# Failover — failover ' + runId);
      expect(report.stdout).toMatch(/- Achieved RTO: \d+s \(objective 15m, met\)/);
      expect(report.stdout).toMatch(
        /## Approvals\n- step 2 two-person, requested by U0ALICE: approved \(approve by U0BOB at /,
      );
    } finally {
      await pair.stop();
    }
  });

  it('refuses to act without --as, or for someone not configured', async () => {
    const { env } = workspace(
      postgresConfig(
        'postgres://postgres@127.0.0.1:1/postgres',
        'postgres://postgres@127.0.0.1:2/postgres',
      ),
    );
    const missing = await cli(['run', 'start', 'failover'], env);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('name yourself with --as U…');
    const stranger = await cli(['run', 'start', 'failover', '--as', 'U0MALLORY'], env);
    expect(stranger.code).toBe(1);
    expect(stranger.stderr).toContain(
      '--as U0MALLORY is not in approvals.approvers (U0ALICE, U0BOB, U0CAROL)',
    );
  });

  it('counts two approvers racing from two processes once each, and one approver racing himself once', async () => {
    const { env } = workspace(
      postgresConfig(
        'postgres://postgres@127.0.0.1:1/postgres',
        'postgres://postgres@127.0.0.1:2/postgres',
      ).replace('required: 1', 'required: 3'),
    );
    const started = await cli(['run', 'start', 'failover', '--as', 'U0ALICE'], env);
    const runId = runIdOf(started.stdout);
    await cli(['run', 'step', runId, '1', 'done', '--as', 'U0ALICE'], env);

    const [bob, carol, bobAgain] = await Promise.all([
      lifeboat(env, 'run', 'approve', runId, '--as', 'U0BOB'),
      lifeboat(env, 'run', 'approve', runId, '--as', 'U0CAROL'),
      lifeboat(env, 'run', 'approve', runId, '--as', 'U0BOB'),
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
    store.close();
    expect(votes).toEqual([{ approver: 'U0BOB' }, { approver: 'U0CAROL' }]);
    expect(status).toEqual({ status: 'pending' });
  });
});
