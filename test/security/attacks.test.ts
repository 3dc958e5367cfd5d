// The adversarial pass, as a table: each row an attack someone reproduced against lifeboat,
// through the real Bolt app with Slack-signed requests or through the CLI, and what must happen
// instead. Every row failed before authorization was built into the engine.

import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ACTIONS, type ActionRegistry } from '../../src/actions/registry.js';
import { generateApproverKey, signChallenge } from '../../src/cli/approval-token.js';
import { ProviderError } from '../../src/errors.js';
import { createS3BackupStore } from '../../src/providers/aws/s3.js';
import { ActionId, ViewId } from '../../src/slack/ids.js';
import { openStore } from '../../src/store/db.js';
import { cli } from '../support/cli.js';
import { postgresConfig } from '../support/engine.js';
import { waitFor } from '../support/pg-pair.js';
import { putObject, storeNow, useS3rver } from '../support/s3.js';
import { buttonClick, slashCommand, viewSubmission } from '../support/slack.js';
import { startSlackHarness, type SlackHarness } from '../support/slack-harness.js';
import { makeTempDir } from '../support/tmp.js';

const s3 = useS3rver(['attack-backups']);

const runbooks = {
  drill:
    '---\ntitle: Quarterly drill\nkind: drill\n---\n## Walk (10 minutes)\n1. Open the dashboards\n2. Read the alerts\n',
  'dr-test':
    '---\ntitle: DR test\nkind: drill\nservice: payments-db\n---\n## Fail over (15 minutes)\n1. Fence `action: db.fence`\n2. Promote `action: db.promote`\n',
  gated:
    '---\ntitle: Gated drill\nkind: drill\n---\n## Walk (10 minutes)\n1. Cut the old region off by hand `approval: two-person`\n2. Announce it `action: notify` `approval: two-person`\n',
  injected:
    '---\ntitle: "<!channel> Failover"\nkind: drill\n---\n## <!here> Phase (10 minutes)\n1. Click <https://evil.example|here> for <@U0BOB>\n',
};

/** `notify` that fails its first run: a gated step left waiting on a retry. */
function failingOnce(): ActionRegistry {
  let calls = 0;
  return {
    ...ACTIONS,
    notify: {
      ...ACTIONS.notify,
      run: (context) =>
        ++calls === 1
          ? Promise.reject(new ProviderError('the channel', 'is not reachable', false))
          : ACTIONS.notify.run(context),
    },
  };
}

let h: SlackHarness;
let outside: string;

beforeEach(async () => {
  h = await startSlackHarness({
    configYaml: `${postgresConfig('postgres://postgres@127.0.0.1:1/postgres', 'postgres://postgres@127.0.0.1:2/postgres')}    backups: { provider: s3, bucket: attack-backups, prefix: pg/, region: us-west-2, endpoint: "${s3.endpoint()}", max_age: 6h }\n`,
    runbooks,
    actions: failingOnce(),
    providersFor: (service) => ({
      database: null,
      dns: null,
      backups: service?.backups
        ? createS3BackupStore(service.backups, { client: s3.client(), retry: { attempts: 1 } })
        : null,
    }),
  });
  // A markdown file outside the runbooks folder, and a symlink to it inside.
  const dir = makeTempDir();
  outside = path.join(dir, 'secret.md');
  writeFileSync(outside, '# Secret\n- the database password is hunter2\n');
  symlinkSync(outside, path.join(h.t.dir, 'runbooks', 'evil.md'));
  mkdirSync(path.join(h.t.dir, 'runbooks', 'folder.md'));
}, 60_000);

afterEach(async () => {
  await h?.stop();
});

/** Sends `/dr text` as `user` and returns the reply the person saw. */
async function slash(text: string, user = 'U0ALICE'): Promise<string> {
  const before = h.replies().length;
  await h.send(slashCommand(text, user, h.responseUrl, `trigger-${Math.random()}`));
  await waitFor(() => h.replies().length > before, `the reply to /dr ${text}`);
  return h.replies().at(-1)!;
}

/** Clicks a button as `user`; with `refused`, waits for and returns the ephemeral answer. */
async function click(actionId: string, value: string, user: string, refused = false) {
  const before = h.replies().length;
  await h.send(buttonClick(actionId, value, user, h.responseUrl));
  if (refused) await waitFor(() => h.replies().length > before, `the answer to ${actionId}`);
  await h.settle();
  return h.replies().slice(before).join('\n');
}

/** Submits a reason modal as `user` and returns the refusal it gets (an ephemeral message). */
async function submitRefused(viewId: string, metadata: string, reason: string, user: string) {
  const before = h.slack.callsTo('chat.postEphemeral').length;
  await h.send(viewSubmission(viewId, metadata, { reason }, user, `V${Math.random()}`));
  await waitFor(
    () => h.slack.callsTo('chat.postEphemeral').length > before,
    `the refusal of ${viewId}`,
  );
  return h.slack
    .callsTo('chat.postEphemeral')
    .slice(before)
    .map((call) => String(call.body.text))
    .join('\n');
}

async function startDrill(name: string): Promise<string> {
  const reply = await slash(`drill ${name}`);
  const runId = /run `(r-[0-9a-f]+)`/.exec(reply)?.[1];
  if (!runId) throw new Error(`no run in: ${reply}`);
  await h.settle();
  return runId;
}

const audited = async (action: string) =>
  (
    (await h.t.store.get('SELECT count(*) AS n FROM audit_log WHERE action = ?', action)) as {
      n: number;
    }
  ).n;

describe('attacks through Slack', () => {
  const notFound =
    /^:warning: no runbook "[^"]*" in .* \(known: dr-test, drill, gated, injected\)$/;

  it.each([
    ['an absolute path', 'runbook show /etc/passwd'],
    ['a path outside the folder', 'runbook show ../../etc/hosts'],
    ['a path that walks out and back', 'runbook show runbooks/../../drill'],
    ['an encoded traversal', 'runbook show ..%2F..%2Fetc%2Fpasswd'],
    ['a file name with its extension', 'runbook show /tmp/secret.md'],
    ['a symlink out of the folder', 'runbook show evil'],
    ['a folder named like a runbook', 'runbook show folder'],
    ['a name that does not exist', 'runbook show nope'],
    ['a drill from a file anywhere on the host', 'drill /tmp/x.md'],
  ])('refuses %s with the same answer as a missing runbook, reading nothing', async (_, text) => {
    const reply = await slash(text);
    expect(reply).toMatch(notFound);
    expect(reply).not.toContain('hunter2');
  });

  it('lets a stranger neither abort a run nor stop it through the modal, and audits both', async () => {
    const runId = await startDrill('drill');
    const refusedBefore = await audited('run.abort.refused');
    expect(await slash(`abort ${runId} I do what I want`, 'U0MALLORY')).toMatch(
      /^:warning: <@U0MALLORY> may not abort run r-[0-9a-f]+: only the person who started it \(<@U0ALICE>\) or permissions\.abort \(<@U0ALICE>, <@U0BOB>, <@U0CAROL>\) may$/,
    );
    expect(await submitRefused(ViewId.runAbort, runId, 'again', 'U0MALLORY')).toContain(
      '<@U0MALLORY> may not abort run',
    );
    expect((await h.t.engine.getRun(runId)).run.status).not.toBe('aborted');
    expect(await audited('run.abort.refused')).toBe(refusedBefore + 2);
    expect(await slash(`abort ${runId} done for today`)).toBe(`run ${runId} aborted`);
  });

  it("refuses the requester's own Done on a two-person manual step, and a stranger's Approve, Skip and Retry", async () => {
    const runId = await startDrill('gated');
    const step = (await h.t.engine.getRun(runId)).current!;
    expect(step).toMatchObject({ index: 0, waitingOn: 'approval' });
    expect(await click(ActionId.stepDone, `${runId}:0`, 'U0ALICE', true)).toContain(
      "step 1 needs a second person's approval before it is done",
    );
    const approval = step.approvals[0]!.id;
    expect(await click(ActionId.approvalApprove, approval, 'U0ALICE', true)).toContain(
      'the two-person rule needs someone else',
    );
    expect(await click(ActionId.approvalApprove, approval, 'U0MALLORY', true)).toContain(
      '<@U0MALLORY> is not an approver',
    );
    expect(await submitRefused(ViewId.stepSkip, `${runId}:0`, 'in a hurry', 'U0MALLORY')).toContain(
      '<@U0MALLORY> may not skip step 1',
    );
    expect((await h.t.engine.getRun(runId)).steps[0]!.state).toBe('active');

    await click(ActionId.approvalApprove, approval, 'U0BOB');
    await click(ActionId.stepDone, `${runId}:0`, 'U0ALICE');
    // Step 2's action fails once; only a permitted person may retry a gated step.
    const announce = (await h.t.engine.getRun(runId)).current!;
    await click(ActionId.approvalApprove, announce.approvals[0]!.id, 'U0BOB');
    await waitFor(
      async () => (await h.t.engine.getRun(runId)).current?.waitingOn === 'failure',
      'the failure',
    );
    expect(await click(ActionId.stepRetry, `${runId}:1`, 'U0MALLORY', true)).toContain(
      '<@U0MALLORY> may not retry step 2',
    );
    await click(ActionId.stepRetry, `${runId}:1`, 'U0ALICE');
    expect((await h.t.engine.getRun(runId)).run.status).toBe('succeeded');
  });

  it('asks again for an approval that went stale before a retry, and counts only the new one', async () => {
    const runId = await startDrill('gated');
    await click(
      ActionId.approvalApprove,
      (await h.t.engine.getRun(runId)).current!.approvals[0]!.id,
      'U0BOB',
    );
    await click(ActionId.stepDone, `${runId}:0`, 'U0ALICE');
    const announce = (await h.t.engine.getRun(runId)).current!;
    await click(ActionId.approvalApprove, announce.approvals[0]!.id, 'U0BOB');
    await waitFor(
      async () => (await h.t.engine.getRun(runId)).current?.waitingOn === 'failure',
      'the failure',
    );
    h.t.clock.advance(20 * 60_000); // longer than approvals.expires_after (15m)
    await click(ActionId.stepRetry, `${runId}:1`, 'U0ALICE');
    const asked = (await h.t.engine.getRun(runId)).current!;
    expect(asked.waitingOn).toBe('approval');
    expect(asked.approvals.map((a) => [a.status, a.attempt])).toEqual([
      ['approved', 1],
      ['pending', 2],
    ]);
    await click(ActionId.approvalApprove, asked.approvals[1]!.id, 'U0BOB');
    expect((await h.t.engine.getRun(runId)).run.status).toBe('succeeded');
  });

  it('treats a drill that promotes like a failover: confirmation first, then one at a time', async () => {
    const runsBefore = await h.t.store.get('SELECT count(*) AS n FROM runs');
    await h.send(slashCommand('drill dr-test', 'U0ALICE', h.responseUrl, 'trigger-dr'));
    await waitFor(
      () =>
        h.slack.callsTo('views.open').some((c) => JSON.stringify(c.body).includes('Start drill')),
      'the confirmation',
    );
    expect(await h.t.store.get('SELECT count(*) AS n FROM runs')).toEqual(runsBefore);
    const first = await h.t.engine.startRun({
      key: 'dr-1',
      actor: { user: 'U0ALICE', via: 'slack' },
      runbook: 'dr-test',
    });
    await expect(
      h.t.engine.startRun({
        key: 'dr-2',
        actor: { user: 'U0BOB', via: 'slack' },
        runbook: 'dr-test',
      }),
    ).rejects.toThrow(new RegExp(`already in flight: run ${first.runId}`));
    await expect(
      h.t.engine.startRun({
        key: 'dr-3',
        actor: { user: 'U0MALLORY', via: 'slack' },
        runbook: 'dr-test',
      }),
    ).rejects.toThrow(/U0MALLORY may not start dr-test \(a drill that changes infrastructure\)/);
    await h.t.engine.abortRun({
      key: 'dr-stop',
      actor: { user: 'U0ALICE' },
      runId: first.runId,
      reason: 'test over',
    });
  });

  it('escapes runbook text in every message of the thread: nobody is pinged, no link is planted', async () => {
    const before = h.slack.calls.length;
    await startDrill('injected');
    // Slack parses mrkdwn and a message's `text` fallback (notifications); a plain_text header is
    // shown as written.
    const parsed: string[] = [];
    const collect = (node: unknown, key = ''): void => {
      if (typeof node === 'string' && (key === 'text' || key === 'mrkdwn')) parsed.push(node);
      if (Array.isArray(node)) node.forEach((item) => collect(item));
      else if (node && typeof node === 'object') {
        const record = node as Record<string, unknown>;
        if (record.type === 'plain_text') return;
        for (const [k, v] of Object.entries(record)) collect(v, k);
      }
    };
    h.slack.calls.slice(before).forEach((call) => collect(call.body));
    const all = parsed.join('\n');
    expect(all).toContain('&lt;@U0BOB&gt;');
    expect(all).not.toMatch(/<!channel>|<!here>|<@U0BOB>|<https:\/\/evil/);
  });

  it('escapes an S3 object name in the backup check, and cuts a 200,000-character note', async () => {
    await putObject(
      s3.client(),
      'attack-backups',
      'pg/<!channel>-2026.dump',
      Buffer.alloc(2000, 1),
    );
    h.t.clock.set((await storeNow(s3.client(), 'attack-backups')).toISOString());
    const reply = await slash('backups check');
    expect(reply).toContain('pg/&lt;!channel&gt;-2026.dump');
    expect(reply).not.toContain('<!channel>');

    const runId = await startDrill('drill');
    const before = h.slack.calls.length;
    await h.t.engine.addNote({
      key: 'long',
      actor: { user: 'U0ALICE' },
      runId,
      text: 'x'.repeat(200_000),
    });
    await h.settle();
    const posted = h.slack.calls
      .slice(before)
      .find((call) => String(call.body.text).includes(':memo:'))!;
    expect(String(posted.body.text).length).toBeLessThan(1200);
    expect(String(posted.body.text)).toMatch(/x…$/);
    const stored = await h.t.store.get(
      'SELECT length(text) AS n FROM notes WHERE run_id = ?',
      runId,
    );
    expect(stored).toEqual({ n: 200_000 }); // the report keeps it whole
  });

  it('lets nobody but the requester or the permitted add notes to a run that has ended', async () => {
    const runId = await startDrill('drill');
    await slash(`abort ${runId} over`);
    await expect(
      h.t.engine.addNote({
        key: 'late',
        actor: { user: 'U0MALLORY' },
        runId,
        text: 'rewrite history',
      }),
    ).rejects.toThrow(/U0MALLORY may not add a note to run r-[0-9a-f]+, which has ended/);
  });

  it("counts a listed approver's Approve even while Slack's user-group API fails", async () => {
    h.t.config.approvals.usergroup = 'S0ONCALL';
    const runId = await startDrill('gated');
    h.slack.failNext('usergroups.users.list', [500, 500, 500, 500, 500, 500]);
    const approval = (await h.t.engine.getRun(runId)).current!.approvals[0]!.id;
    expect(await click(ActionId.approvalApprove, approval, 'U0BOB')).toBe('');
    expect((await h.t.engine.getRun(runId)).current).toMatchObject({
      index: 0,
      waitingOn: 'operator',
    });
    expect(h.slack.callsTo('usergroups.users.list')).toHaveLength(0); // listed: never asked
    h.t.config.approvals.usergroup = null;
  });
});

describe('attacks through the break-glass CLI', () => {
  const bob = generateApproverKey('U0BOB');
  function workspace() {
    const dir = makeTempDir();
    mkdirSync(path.join(dir, 'runbooks'));
    writeFileSync(path.join(dir, 'runbooks', 'gated.md'), runbooks.gated);
    writeFileSync(path.join(dir, 'runbooks', 'drill.md'), runbooks.drill);
    writeFileSync(
      path.join(dir, 'lifeboat.yml'),
      postgresConfig(
        'postgres://postgres@127.0.0.1:1/postgres',
        'postgres://postgres@127.0.0.1:2/postgres',
      ).replace('expires_after: 15m', `expires_after: 15m\n  keys: { U0BOB: "${bob.publicKey}" }`),
    );
    return { dir, env: { LIFEBOAT_CONFIG: path.join(dir, 'lifeboat.yml') } };
  }
  async function pendingChallenge(env: Record<string, string>) {
    const started = await cli(['run', 'start', 'gated'], env, undefined, 'alice');
    const runId = /run (r-[0-9a-f]+)/.exec(started.stdout)![1]!;
    const challenge = /lifeboat approve-token (\S+) --key/.exec(started.stdout)![1]!;
    return { runId, challenge };
  }

  it.each([
    [
      'a second person named with --as',
      ['run', 'start', 'drill', '--as', 'U0BOB'],
      'alice',
      '--as U0BOB is not you',
    ],
    [
      'an OS account nobody mapped',
      ['run', 'start', 'drill'],
      'mallory',
      'the OS account "mallory" has no entry in cli.users',
    ],
    [
      'root with no mapping',
      ['run', 'start', 'drill'],
      { uid: 0, username: 'root' },
      'root has no entry in cli.users',
    ],
    ['a runbook given as a path', ['run', 'start', '/tmp/x.md'], 'alice', 'no runbook "/tmp/x.md"'],
  ] as const)('refuses %s', async (_, argv, as, message) => {
    const { env } = workspace();
    const result = await cli([...argv], env, undefined, as);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(message);
  });

  it('refuses the same OS account approving twice, and counts the second person', async () => {
    const { env } = workspace();
    const { runId } = await pendingChallenge(env);
    const self = await cli(['run', 'approve', runId], env, undefined, 'alice');
    expect(self.stderr).toContain('the two-person rule needs someone else');
    expect((await cli(['run', 'approve', runId], env, undefined, 'bob')).code).toBe(0);
  });

  it.each([
    [
      'a token with a bad signature',
      (token: string) => `${token.slice(0, -6)}AAAAAA`,
      "signature is not bob (U0BOB)'s",
    ],
    [
      'a token signed by a key nobody configured',
      (_t: string, c: string) => signChallenge(c, generateApproverKey('U0BOB').keyFile),
      "signature is not bob (U0BOB)'s",
    ],
    [
      'a token for another run',
      (token: string) =>
        token.replace(
          /^[^.]+/,
          Buffer.from(
            JSON.stringify({
              run: 'r-00000000',
              approval: 'a-0',
              step: 0,
              attempt: 1,
              plan: '',
              expires: '2026-11-24T12:15:00.000Z',
            }),
          ).toString('base64url'),
        ),
      "signature is not bob (U0BOB)'s",
    ],
  ] as const)('refuses %s, and audits it', async (_, tamper, message) => {
    const { dir, env } = workspace();
    const { runId, challenge } = await pendingChallenge(env);
    const token = signChallenge(challenge, bob.keyFile);
    const result = await cli(
      ['run', 'approve', runId, '--token', tamper(token, challenge)],
      env,
      undefined,
      'alice',
    );
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(message);
    const store = openStore(path.join(dir, 'lifeboat.db'));
    expect(
      store.db
        .prepare("SELECT count(*) AS n FROM audit_log WHERE action = 'approval.token.refused'")
        .get(),
    ).toEqual({ n: 1 });
    await store.close();
  });

  it('refuses a genuine token for another step of the same run', async () => {
    const { env } = workspace();
    const { runId, challenge } = await pendingChallenge(env);
    expect(
      (
        await cli(
          ['run', 'approve', runId, '--token', signChallenge(challenge, bob.keyFile)],
          env,
          undefined,
          'alice',
        )
      ).code,
    ).toBe(0);
    await cli(['run', 'step', runId, '1', 'done'], env, undefined, 'alice');
    // Step 2 now waits for its own approval: step 1's token does not cover it.
    const replayed = await cli(
      ['run', 'approve', runId, '--token', signChallenge(challenge, bob.keyFile)],
      env,
      undefined,
      'alice',
    );
    expect(replayed.code).toBe(1);
    expect(replayed.stderr).toContain('which is not the pending request of run');
  });

  it('refuses an expired token', async () => {
    const { env } = workspace();
    const { runId, challenge } = await pendingChallenge(env);
    const late = await cli(
      ['run', 'approve', runId, '--token', signChallenge(challenge, bob.keyFile)],
      env,
      () => new Date('2026-11-24T13:00:00Z'),
      'alice',
    );
    expect(late.stderr).toContain("the token's request expired");
  });

  it.each([
    [
      'a tail cut off with its head row',
      'DROP TRIGGER audit_log_no_delete; DROP TRIGGER audit_head_no_delete; DELETE FROM audit_log WHERE seq > 2; DELETE FROM audit_head;',
      "the log's head row is missing",
    ],
    [
      'a tail cut off with the head moved back',
      'DROP TRIGGER audit_log_no_delete; DROP TRIGGER audit_head_forward_only; DELETE FROM audit_log WHERE seq > 1; UPDATE audit_head SET seq = 1, hash = (SELECT hash FROM audit_log WHERE seq = 1);',
      null,
    ],
    ['an approval forged in the store', "UPDATE approvals SET status = 'approved'", null],
  ] as const)('catches %s', async (_, sql, verifyMessage) => {
    const { dir, env } = workspace();
    const { runId } = await pendingChallenge(env);
    const published = /head ([0-9a-f]{64})/.exec((await cli(['audit', 'verify'], env)).stdout)![1]!;
    await cli(
      ['run', 'step', runId, '1', 'note', '--note', 'one more event'],
      env,
      undefined,
      'alice',
    );
    const store = openStore(path.join(dir, 'lifeboat.db'));
    store.db.exec(sql);
    await store.close();
    const verified = await cli(['audit', 'verify', '--since', published], env);
    if (verifyMessage) {
      expect(verified.code).toBe(1);
      expect(verified.stderr).toContain(verifyMessage);
    } else if (sql.includes('approvals')) {
      // The chain is intact — the forgery is in another table — but the step will not run on it:
      // walking the run on (here: resuming it) refuses it and says why.
      const status = await cli(['run', 'resume', runId], env, undefined, 'alice');
      expect(status.stdout).toMatch(
        /marked approved in the store, but the audit log holds no approving vote/,
      );
    } else {
      // The head was rebuilt to match: only the hash published before tells.
      expect(verified.code).toBe(1);
      expect(verified.stderr).toContain(`${published} is not in the chain`);
    }
  });
});
