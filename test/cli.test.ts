import { spawnSync } from 'node:child_process';
import { formatLocal } from '../src/time.js';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseRunbook } from '../src/runbook/parse.js';
import { recordAuditEvent } from '../src/store/audit.js';
import { openStore } from '../src/store/db.js';
import { recordProtection } from '../src/store/protection.js';
import { finishRun, insertRun, updateRun } from '../src/store/runs.js';
import { cli } from './support/cli.js';
import { nodeTsArgs } from './support/node-ts.js';
import { makeTempDir } from './support/tmp.js';

const root = path.resolve(import.meta.dirname, '..');

/** A lifeboat.yml in a fresh folder, with the shipped runbooks copied beside it. */
function workspace(): { dir: string; env: Record<string, string> } {
  const dir = makeTempDir();
  const example = readFileSync(path.join(root, 'lifeboat.example.yml'), 'utf8');
  writeFileSync(
    path.join(dir, 'lifeboat.yml'),
    example.replace('runbooks_dir: ./runbooks', `runbooks_dir: ${path.join(root, 'runbooks')}`),
  );
  return { dir, env: { LIFEBOAT_CONFIG: path.join(dir, 'lifeboat.yml') } };
}

describe('lifeboat runbooks', () => {
  it('show --json prints the DESIGN.md shape', async () => {
    const { code, stdout } = await cli([
      'runbooks',
      'show',
      path.join(root, 'runbooks/failover.md'),
      '--json',
    ]);
    expect(code).toBe(0);
    const json = JSON.parse(stdout) as {
      title: string;
      kind: string;
      phases: { title: string; budget_minutes: number | null; steps: Record<string, unknown>[] }[];
    };
    expect(Object.keys(json)).toEqual(['title', 'kind', 'phases']);
    expect(json.kind).toBe('failover');
    expect(json.phases[1]).toMatchObject({ title: 'Phase 1: Assess', budget_minutes: 10 });
    expect(json.phases[0]!.budget_minutes).toBeNull();
    expect(json.phases[2]!.steps[1]).toEqual({
      text: 'Promote the DR replica to a standalone primary',
      checklist: false,
      action: 'db.promote',
      approval: 'two-person',
    });
  });

  it('show finds a runbook by name in the folder, and lists the known ones for an unknown name', async () => {
    const shown = await cli(['runbooks', 'show', 'dr-test', '--dir', path.join(root, 'runbooks')]);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toContain('Phase 2: Failover (15 min)');
    expect(shown.stdout).toMatch(
      /Promote the DR replica\s+→ action db\.promote · two-person approval/,
    );
    const missing = await cli([
      'runbooks',
      'show',
      'failovr',
      '--dir',
      path.join(root, 'runbooks'),
    ]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(
      /no runbook "failovr" in .* \(known: backup-restore-test, dr-test, drain-region, failback, failover, pilot-light, restore-from-backup, switchover, tabletop-region-outage\)/,
    );
  });

  it('list shows every runbook with its kind, steps and review date', async () => {
    const { code, stdout } = await cli([
      'runbooks',
      'list',
      '--dir',
      path.join(root, 'runbooks'),
      '--json',
    ]);
    expect(code).toBe(0);
    const rows = JSON.parse(stdout) as {
      name: string;
      kind: string;
      stale: boolean;
      steps: number;
    }[];
    expect(rows.map((r) => [r.name, r.kind])).toContainEqual(['failover', 'failover']);
    expect(rows.every((r) => r.steps > 0 && !r.stale)).toBe(true);
  });

  it('list flags runbooks nobody reviewed for 180 days', async () => {
    const dir = makeTempDir();
    writeFileSync(
      path.join(dir, 'old.md'),
      '---\nreviewed: 2020-01-01\n---\n- Check the dashboards\n',
    );
    const { stdout } = await cli(['runbooks', 'list', '--dir', dir]);
    expect(stdout).toMatch(/old\s+drill\s+-\s+1\s+2020-01-01 \(stale\)/);
  });

  it('check passes the shipped runbooks against the example config', async () => {
    const { env } = workspace();
    const { code, stdout } = await cli(['runbooks', 'check'], env);
    expect(stdout).toContain('9 runbooks checked: no problems');
    expect(code).toBe(0);
  });

  it('check prints file:line lines and exits 1, with no stack trace', async () => {
    const dir = makeTempDir();
    writeFileSync(path.join(dir, 'good.md'), '# Good\n- Check the dashboards\n');
    writeFileSync(path.join(dir, 'bad.md'), '# Bad\n\n## Phase 1 (10 minuets)\n- a\n');
    const extra = path.join(makeTempDir(), 'extra.md');
    writeFileSync(extra, '- Promote `action: db.promot`\n');
    const { code, stdout, stderr } = await cli(['runbooks', 'check', '--dir', dir, extra]);
    expect(code).toBe(1);
    const lines = stdout.trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/bad\.md:3: budget "\(10 minuets\)" is not a duration/);
    expect(lines[1]).toMatch(/extra\.md:1: unknown action "db\.promot"/);
    expect(stderr).toContain('3 runbooks checked: 2 problems');
    expect(stdout + stderr).not.toMatch(/\n\s+at /);
  });

  it('check lists every problem of a file, front matter lines included, not only the first', async () => {
    const dir = makeTempDir();
    writeFileSync(
      path.join(dir, 'many.md'),
      [
        '---', // 1
        'title: Many problems', // 2
        'kind: sometimes', // 3
        'reviewd: 2026-10-01', // 4
        '---', // 5
        '# Many', // 6
        '## Phase 1 (10 minuets)', // 7
        '1. Promote `action: db.promot`', // 8
        '2. Fence `action: db.fence` `approval: none`', // 9
        '3. Wait `action: wait soon`', // 10
        '', // 11
      ].join('\n'),
    );
    const { code, stdout, stderr } = await cli(['runbooks', 'check', '--dir', dir]);
    expect(code).toBe(1);
    const lines = stdout.trim().split('\n');
    expect(lines.map((line) => /many\.md:(\d+):/.exec(line)?.[1])).toEqual([
      '3',
      '4',
      '7',
      '8',
      '9',
      '10',
    ]);
    expect(lines[0]).toContain('unknown kind "sometimes"');
    expect(lines[1]).toContain('unknown front matter key "reviewd" (did you mean reviewed?)');
    expect(lines[4]).toContain(
      'db.fence changes infrastructure and always needs two-person approval',
    );
    expect(stderr).toContain('1 runbook checked: 6 problems');
  });

  it('check catches config references to runbooks that do not exist', async () => {
    const { dir, env } = workspace();
    const file = path.join(dir, 'lifeboat.yml');
    writeFileSync(file, readFileSync(file, 'utf8').replace('remind: dr-test', 'remind: dr-tset'));
    const { code, stdout } = await cli(['runbooks', 'check'], env);
    expect(code).toBe(1);
    expect(stdout).toMatch(/lifeboat\.yml: schedules\[8\]\.remind: no runbook "dr-tset"/);
  });

  it('check names the runbook line of a service the config does not have', async () => {
    const { dir, env } = workspace();
    const extra = path.join(dir, 'orders.md');
    writeFileSync(
      extra,
      '---\ntitle: Orders\nservice: orders-db\n---\n- Check lag `action: db.check-lag`\n',
    );
    const { code, stdout } = await cli(['runbooks', 'check', extra], env);
    expect(code).toBe(1);
    expect(stdout).toMatch(
      /orders\.md:3: service "orders-db" is not configured in lifeboat\.yml \(known: payments-db, ledger-db\)/,
    );
  });
});

describe('lifeboat history', () => {
  it('prints runs newest first in the DESIGN.md JSON shape', async () => {
    const { dir, env } = workspace();
    const store = openStore(path.join(dir, 'lifeboat.db'));
    const runbook = parseRunbook(
      '---\nkind: failover\n---\n- Promote `action: db.promote`',
      'runbooks/failover.md',
    );
    const start = async (id: string, at: string) =>
      await insertRun(store, {
        id,
        runbook,
        service: 'payments-db',
        kind: 'failover',
        startedBy: 'U0ALICE',
        startedAt: new Date(at),
        impactAt: new Date(at),
        idempotencyKey: id,
      });
    await start('r-old', '2026-11-01T03:00:00Z');
    await start('r-new', '2026-11-20T03:00:00Z');
    await finishRun(store, 'r-old', {
      status: 'succeeded',
      finishedAt: new Date('2026-11-01T03:11:30Z'),
      rtoSeconds: 690,
    });
    await updateRun(store, 'r-old', {
      rpoExposureSeconds: 2.1,
      rpoExposureBytes: 4096,
      rpoExposureBound: 'lower-bound',
      rpoExposureDetail: '≥ 2.1 s (4096 bytes) — primary unreachable, measured on the replica',
    });
    await recordProtection(store, {
      service: 'payments-db',
      state: 'unprotected',
      writer: 'replica',
      detail: 'no replica follows the new primary',
      at: new Date('2026-11-01T03:08:00Z'),
      runId: 'r-old',
    });
    await recordProtection(store, {
      service: 'payments-db',
      state: 'protected',
      writer: 'replica',
      detail: 'primary streams from replica',
      at: new Date('2026-11-01T05:18:00Z'),
    });
    await store.close();

    const { code, stdout } = await cli(['history', '--json'], env);
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toEqual([
      {
        id: 'r-new',
        runbook: 'failover',
        service: 'payments-db',
        kind: 'failover',
        status: 'running',
        started_at: '2026-11-20T03:00:00.000Z',
        finished_at: null,
        rto_seconds: null,
        rpo_exposure_seconds: null,
        rpo_exposure_bytes: null,
        rpo_exposure_bound: null,
        unprotected_seconds: null,
        unprotected_ongoing: null,
      },
      {
        id: 'r-old',
        runbook: 'failover',
        service: 'payments-db',
        kind: 'failover',
        status: 'succeeded',
        started_at: '2026-11-01T03:00:00.000Z',
        finished_at: '2026-11-01T03:11:30.000Z',
        rto_seconds: 690,
        rpo_exposure_seconds: 2.1,
        rpo_exposure_bytes: 4096,
        rpo_exposure_bound: 'lower-bound',
        unprotected_seconds: 7800,
        unprotected_ongoing: false,
      },
    ]);
    // People by their account in cli.users, times in this machine's zone, named.
    const table = await cli(['history'], env);
    const started = formatLocal(new Date('2026-11-01T03:00:00Z'), undefined, 'minute');
    expect(table.stdout.split('\n')[0]).toMatch(/^RUN\s+STARTED\s+BY\s+KIND/);
    expect(table.stdout).toContain(
      `r-old  ${started}  alice (U0ALICE)  failover  failover  payments-db  succeeded  11m 30s  ≥ 2.1 s  2h 10m\n`,
    );
  });

  it('says there are no runs yet on a new store', async () => {
    const { env } = workspace();
    expect((await cli(['history'], env)).stdout).toBe('no runs yet\n');
  });

  it('refuses a bad --limit with a usage line', async () => {
    const { env } = workspace();
    const { code, stderr } = await cli(['history', '--limit', 'lots'], env);
    expect(code).toBe(1);
    expect(stderr).toContain('usage: /dr history [N]');
  });

  it('names the key path of a config error and exits 1', async () => {
    const { dir, env } = workspace();
    const file = path.join(dir, 'lifeboat.yml');
    writeFileSync(file, readFileSync(file, 'utf8').replace('rpo: 1m', 'rpo: soon'));
    const { code, stderr } = await cli(['history'], env);
    expect(code).toBe(1);
    expect(stderr).toMatch(
      /^lifeboat: .*lifeboat\.yml: services\.payments-db\.rpo: "soon" is not a duration like 15m/,
    );
  });
});

describe('lifeboat audit verify', () => {
  it('exits 0 with the count when the chain is intact, 1 naming the first broken event', async () => {
    const { dir, env } = workspace();
    const store = openStore(path.join(dir, 'lifeboat.db'));
    for (let i = 0; i < 5; i++)
      await recordAuditEvent(store, {
        actor: 'U0ALICE',
        action: 'step.done',
        subject: 'r-1',
        details: { step: i },
      });
    await store.close();

    const intact = await cli(['audit', 'verify'], env);
    expect(intact.code).toBe(0);
    expect(intact.stdout).toMatch(/^audit log intact: 5 events \(store .*\)\nhead [0-9a-f]{64}\n$/);
    const published = /head ([0-9a-f]{64})/.exec(intact.stdout)![1]!;

    // Later: more events, then the tail is cut back, head row included.
    const more = openStore(path.join(dir, 'lifeboat.db'));
    for (let i = 5; i < 8; i++)
      await recordAuditEvent(more, { actor: 'U0BOB', action: 'step.done', subject: 'r-1' });
    await more.close();
    const since = await cli(['audit', 'verify', '--since', published], env);
    expect(since.code).toBe(0);
    expect(since.stdout).toContain(
      `${published} is event #5: nothing after it was cut (3 events since)`,
    );
    const cut = openStore(path.join(dir, 'lifeboat.db'));
    cut.db.exec(
      'DROP TRIGGER audit_log_no_delete; DROP TRIGGER audit_head_no_delete; DELETE FROM audit_log WHERE seq >= 4; DELETE FROM audit_head;',
    );
    await cut.close();
    const headless = await cli(['audit', 'verify'], env);
    expect(headless.code).toBe(1);
    expect(headless.stderr).toContain("the log's head row is missing");
    // Even a cut that rebuilt the head to match is caught by the hash published before.
    const rebuilt = openStore(path.join(dir, 'lifeboat.db'));
    const last = rebuilt.db
      .prepare('SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1')
      .get() as { seq: number; hash: string };
    rebuilt.db
      .prepare('INSERT INTO audit_head (id, seq, hash) VALUES (1, ?, ?)')
      .run(last.seq, last.hash);
    await rebuilt.close();
    expect((await cli(['audit', 'verify'], env)).code).toBe(0);
    const anchored = await cli(['audit', 'verify', '--since', published], env);
    expect(anchored.code).toBe(1);
    expect(anchored.stderr).toContain(
      `${published} is not in the chain: the log was cut or rewritten`,
    );

    const raw = openStore(path.join(dir, 'lifeboat.db'));
    raw.db.exec(
      "DROP TRIGGER IF EXISTS audit_log_no_update; UPDATE audit_log SET actor = 'U0MALLORY' WHERE seq = 2;",
    );
    await raw.close();
    const broken = await cli(['audit', 'verify'], env);
    expect(broken.code).toBe(1);
    expect(broken.stderr).toMatch(/^audit log broken at event #2: event #2 was edited/);
  });
});

describe('the lifeboat command', () => {
  it('answers --help everywhere with exit 0', async () => {
    for (const argv of [
      ['--help'],
      ['runbooks', '--help'],
      ['runbooks', 'show', '--help'],
      ['history', '--help'],
      ['audit', 'verify', '--help'],
    ]) {
      const { code, stdout } = await cli(argv);
      expect(code).toBe(0);
      expect(stdout).toMatch(/^Usage: lifeboat/);
    }
  });

  it('exits 1 with one line for an unknown command or a missing argument', async () => {
    const unknown = await cli(['failover-now']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain("error: unknown command 'failover-now'");
    const missing = await cli(['runbooks', 'show']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("error: missing required argument 'file'");
  });

  it('refuses to start the Slack app with a malformed token, in one line, exit 1', () => {
    const { env } = workspace();
    const result = spawnSync(process.execPath, nodeTsArgs('src/main.ts'), {
      encoding: 'utf8',
      env: { ...process.env, ...env, SLACK_BOT_TOKEN: 'xoxp-a-user-token' },
    });
    expect(result.status).toBe(1);
    expect(result.stderr.trim()).toBe(
      'lifeboat: not starting: SLACK_BOT_TOKEN: is missing or not a bot token (xoxb-…)',
    );
  });

  it('runs as a program and exits 1 for a user mistake without a stack trace', () => {
    const dir = makeTempDir();
    mkdirSync(path.join(dir, 'runbooks'));
    writeFileSync(path.join(dir, 'runbooks', 'broken.md'), '- a `action: db.promot`\n');
    const result = spawnSync(process.execPath, nodeTsArgs('src/cli.ts', 'runbooks', 'check'), {
      cwd: dir,
      encoding: 'utf8',
      env: { ...process.env, LIFEBOAT_CONFIG: '' },
    });
    expect(result.status).toBe(1);
    expect(result.stdout).toContain('runbooks/broken.md:1: unknown action "db.promot"');
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it("after npm start, finds local mode's config from the checkout and says so; without any, says how to get one", () => {
    const dir = makeTempDir();
    mkdirSync(path.join(dir, '.lifeboat', 'runbooks'), { recursive: true });
    writeFileSync(
      path.join(dir, '.lifeboat', 'lifeboat.yml'),
      'store: ./lifeboat.db\nrunbooks_dir: ./runbooks\n',
    );
    const run = (cwd: string) =>
      spawnSync(process.execPath, nodeTsArgs('src/cli.ts', 'history'), {
        cwd,
        encoding: 'utf8',
        env: { ...process.env, LIFEBOAT_CONFIG: '' },
      });
    const found = run(dir);
    expect(found.stderr).toBe(
      "lifeboat: using local mode's config .lifeboat/lifeboat.yml (there is no ./lifeboat.yml)\n",
    );
    expect(found.stdout).toContain('no runs yet');
    expect(found.status).toBe(0);

    const none = run(makeTempDir());
    expect(none.status).toBe(1);
    expect(none.stderr).toMatch(
      /^lifeboat: no config file at .*lifeboat\.yml: run `npm start` once for local mode \(the CLI then uses \.lifeboat\/lifeboat\.yml\), or copy lifeboat\.example\.yml to lifeboat\.yml and edit it for your services, or set LIFEBOAT_CONFIG\n$/,
    );
  });

  it('piped into head, stops quietly: no EPIPE stack trace', () => {
    const dir = makeTempDir();
    mkdirSync(path.join(dir, 'runbooks'));
    const steps = Array.from(
      { length: 3000 },
      (_, i) => `${i + 1}. Check item ${i} of the long list`,
    );
    writeFileSync(
      path.join(dir, 'runbooks', 'long.md'),
      `# Long\n## Phase 1\n${steps.join('\n')}\n`,
    );
    writeFileSync(path.join(dir, 'lifeboat.yml'), 'runbooks_dir: ./runbooks\n');
    const cliArgs = nodeTsArgs('src/cli.ts', 'runbooks', 'show', 'long')
      .map((arg) => `'${arg}'`)
      .join(' ');
    const result = spawnSync('sh', ['-c', `'${process.execPath}' ${cliArgs} | head -c 20`], {
      cwd: dir,
      encoding: 'utf8',
      env: { ...process.env, LIFEBOAT_CONFIG: path.join(dir, 'lifeboat.yml') },
    });
    expect(result.stdout).toHaveLength(20);
    expect(result.stderr).not.toMatch(/EPIPE|\n\s+at /);
  });
});
