import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig, parseConfig } from '../src/config.js';
import { ConfigError } from '../src/errors.js';
import { makeTempDir } from './support/tmp.js';

const root = path.resolve(import.meta.dirname, '..');
const example = readFileSync(path.join(root, 'lifeboat.example.yml'), 'utf8');

function configError(text: string, env: Record<string, string> = {}): string {
  try {
    parseConfig(text, '/srv/lifeboat/lifeboat.yml', env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).message;
  }
  throw new Error('expected a ConfigError');
}

const minimalService = `services:
  payments-db:
    rto: 15m
    rpo: 1m
    database: { provider: postgres, primary: postgres://127.0.0.1:5432/postgres, replica: postgres://127.0.0.1:5433/postgres }
`;

describe('lifeboat.example.yml', () => {
  it('is a valid config documenting every key', () => {
    const config = parseConfig(example, '/srv/lifeboat/lifeboat.yml');
    expect(config.slackChannel).toBe('C0DROPS');
    expect(config.approvals).toEqual({
      approvers: ['U0ALICE', 'U0BOB'],
      usergroup: 'S0ONCALL',
      required: 1,
      expiresAfterSeconds: 900,
      keys: { U0BOB: expect.stringMatching(/^ed25519:/) },
    });
    expect(config.cliUsers).toEqual({ alice: 'U0ALICE', bob: 'U0BOB' });
    expect(config.permissions).toMatchObject({
      start_failover: ['U0ALICE', 'U0BOB', 'S0ONCALL'],
      start_exercise: ['*'],
      abort: ['U0ALICE', 'U0BOB', 'S0ONCALL'],
    });
    const service = config.services['payments-db']!;
    expect(service.rtoSeconds).toBe(900);
    expect(service.rpoSeconds).toBe(60);
    expect(service.backups?.maxAgeSeconds).toBe(21_600);
    expect(service.backups?.restore_test).toEqual({
      expected_tables: ['payments', 'accounts'],
      row_tolerance: 0.1,
    });
    expect(config.schedules.find((s) => s.name === 'weekly-restore')).toMatchObject({
      pick: 'random',
      withinSeconds: 30 * 86_400,
    });
    expect(service.dns).toMatchObject({ mode: 'upsert', record: 'db.example.com', ttl: 60 });
    expect(service.strategy).toBe('warm-standby');
    expect(service.backups?.retention).toEqual({ keep_last: 14, keep_within: '7d' });
    expect(config.schedules.map((s) => [s.name, s.check ?? s.remind, s.timezone])).toEqual([
      ['nightly-backup', 'backup-take', 'UTC'],
      ['backup-check', 'backups', 'UTC'],
      ['lag-watch', 'lag', 'UTC'],
      ['plan-check', 'plan', 'UTC'],
      ['weekly-restore', 'restore', 'UTC'],
      ['runbook-staleness', 'staleness', 'UTC'],
      ['monthly-restore-test', 'backup-restore-test', 'UTC'],
      ['quarterly-tabletop', 'tabletop-region-outage', 'UTC'],
      ['annual-full-failover', 'dr-test', 'UTC'],
    ]);
  });

  it('resolves the store and runbooks folder next to the config file', () => {
    const config = parseConfig(example, '/srv/lifeboat/lifeboat.yml');
    expect(config.store).toEqual({ kind: 'sqlite', file: '/srv/lifeboat/lifeboat.db' });
    expect(config.runbooksDir).toBe('/srv/lifeboat/runbooks');
  });

  it('reads RDS instances and Route 53 ARC routing controls', () => {
    const config = parseConfig(
      `services:
  orders-db:
    rto: 30m
    rpo: 5m
    database:
      provider: aws-rds
      primary: { id: production-primary, region: us-east-1 }
      replica: { id: production-dr, region: us-west-2 }
      fence: { mode: security-group, fence_security_group_ids: [sg-0fe0ce] }
    dns:
      provider: route53
      mode: routing-control
      routing_control_arn: arn:aws:route53-recovery-control::111122223333:controlpanel/abc/routingcontrol/def
      cluster_endpoints: [{ url: "https://host-a.us-west-2.example.aws/v1", region: us-west-2 }]
`,
      '/x/lifeboat.yml',
    );
    expect(config.services['orders-db']?.database).toEqual({
      provider: 'aws-rds',
      primary: { id: 'production-primary', region: 'us-east-1' },
      replica: { id: 'production-dr', region: 'us-west-2' },
      fence: { mode: 'security-group', fence_security_group_ids: ['sg-0fe0ce'] },
      probe_timeout: '1s',
    });
    expect(config.services['orders-db']?.dns).toMatchObject({ mode: 'routing-control' });
  });

  it('fails closed: no approvers configured is allowed, and stays empty', () => {
    expect(parseConfig(minimalService, '/x/lifeboat.yml').approvals.approvers).toEqual([]);
  });
});

describe('config errors name the key path, the value and what was expected', () => {
  it('a duration that is not one', () => {
    expect(configError(example.replace('rpo: 1m', 'rpo: soon'))).toBe(
      '/srv/lifeboat/lifeboat.yml: services.payments-db.rpo: "soon" is not a duration like 15m, 90s, 6h or 1d',
    );
  });

  it('a probe budget that would let a status hang', () => {
    expect(
      configError(
        minimalService.replace('replica: postgres', 'probe_timeout: 2m, replica: postgres'),
      ),
    ).toBe(
      '/srv/lifeboat/lifeboat.yml: services.payments-db.database.probe_timeout: "2m" is longer than 30s: a status would wait that long for a database that hangs',
    );
  });

  it('a bad database URL, without its password', () => {
    const error = configError(
      minimalService.replace(
        'primary: postgres://127.0.0.1:5432/postgres',
        'primary: "postgresql:/app:hunter2@db.internal:5432/payments"',
      ),
    );
    expect(error).toContain('services.payments-db.database');
    const withScheme = configError(
      minimalService.replace(
        'primary: postgres://127.0.0.1:5432/postgres',
        'primary: "mysql://app:hunter2@db.internal:5432/payments"',
      ),
    );
    expect(withScheme).toContain('"mysql://app:***@db.internal:5432/payments"');
    expect(`${error}${withScheme}`).not.toContain('hunter2');
  });

  it('a missing key', () => {
    expect(configError(minimalService.replace('    rto: 15m\n', ''))).toContain(
      'services.payments-db.rto: is required (a duration like 15m, 90s, 6h or 1d)',
    );
  });

  it('an unknown key, before the key it was meant to be', () => {
    expect(configError(minimalService.replace('rpo: 1m', 'rpoo: 1m'))).toContain(
      'services.payments-db.rpoo: unknown key (did you mean rpo?)',
    );
  });

  it('a key lifeboat knows, in the wrong place', () => {
    expect(
      configError(
        `schedules:\n  - { name: drill, cron: "0 10 1 * *", remind: dr-test, channel: C0DRILLS }\n${minimalService}`,
      ),
    ).toContain(
      'schedules[0].channel: unknown key (channel belongs elsewhere in lifeboat.yml, not here)',
    );
    expect(configError(`runbooks: ./runbooks\n${minimalService}`)).toContain(
      'runbooks: unknown key (did you mean runbooks_dir?)',
    );
  });

  it('turning off the two-person rule', () => {
    expect(configError(`approvals: { required: 0 }\n${minimalService}`)).toContain(
      'approvals.required: 0 must be at least 1: the two-person rule cannot be turned off',
    );
  });

  it('a store URL that is not PostgreSQL, or a PostgreSQL URL lifeboat cannot use: refused, any password redacted', () => {
    expect(configError(`store: s3://bucket/lifeboat.db\n${minimalService}`)).toContain(
      'store: "s3://bucket/lifeboat.db" is a s3: URL: give the SQLite store\'s path (./lifeboat.db) or a postgres:// URL',
    );
    const noDatabase = configError(
      `store: postgres://lifeboat:hunter2@db.example.com\n${minimalService}`,
    );
    expect(noDatabase).toContain(
      'store: "postgres://lifeboat:***@db.example.com" is not a PostgreSQL URL lifeboat can use: write postgres://user@host:5432/database',
    );
    expect(noDatabase).not.toContain('hunter2');
    expect(configError(`store: { url: x }\n${minimalService}`)).toContain(
      'store.url: "x" must be a postgres:// URL',
    );
    expect(
      configError(
        `store: { url: "postgres://db/ops", schema: "Robert'); DROP" }\n${minimalService}`,
      ),
    ).toContain('store.schema');
  });

  it('a PostgreSQL store: a URL, or a URL and the schema to keep the tables in', () => {
    const url =
      'postgres://lifeboat@db-a.internal:5432,db-b.internal:5432/ops?target_session_attrs=read-write';
    expect(
      parseConfig(`store: "${url}"\n${minimalService}`, '/srv/lifeboat/lifeboat.yml').store,
    ).toEqual({
      kind: 'postgres',
      url,
      schema: null,
    });
    expect(
      parseConfig(
        `store: { url: "${url}", schema: lifeboat }\n${minimalService}`,
        '/srv/lifeboat/lifeboat.yml',
      ).store,
    ).toEqual({ kind: 'postgres', url, schema: 'lifeboat' });
  });

  it('a display name instead of a Slack user ID', () => {
    expect(configError(`approvals: { approvers: [alice] }\n${minimalService}`)).toContain(
      'approvals.approvers[0]: "alice" is not a Slack user ID like U0ALICE (display names are not accepted)',
    );
  });

  it('an RDS service with no fence, or fencing turned off without a reason', () => {
    const rds = `services:
  orders-db:
    rto: 30m
    rpo: 5m
    database:
      provider: aws-rds
      primary: { id: production-primary, region: us-east-1 }
      replica: { id: production-dr, region: us-west-2 }
`;
    expect(configError(rds)).toContain(
      'services.orders-db.database.fence: is required (a fence lifeboat knows: security-group (with fence_security_group_ids), stop, or none (with a reason))',
    );
    expect(
      configError(`${rds}      fence: { mode: none }
`),
    ).toContain('services.orders-db.database.fence.reason: is required');
    expect(
      configError(`${rds}      fence: { mode: none, reason: "no" }
`),
    ).toContain(
      'services.orders-db.database.fence.reason: "no" must say in a sentence why this service is never fenced (it goes into every plan)',
    );
  });

  it('an unknown provider', () => {
    expect(configError(minimalService.replace('provider: postgres', 'provider: mysql'))).toContain(
      'services.payments-db.database.provider: "mysql" is not a database provider lifeboat knows (postgres, aws-rds, aurora-global)',
    );
  });

  it('a bad cron expression, time zone, or a schedule with both check and remind', () => {
    const base = `slack: { channel: C0DROPS }\n${minimalService}schedules:\n`;
    expect(configError(`${base}  - { name: a, cron: "every day", check: backups }\n`)).toContain(
      'schedules[0].cron: "every day" is not a cron expression',
    );
    expect(
      configError(
        `${base}  - { name: a, cron: "0 9 * * *", check: backups, timezone: Mars/Base }\n`,
      ),
    ).toContain('schedules[0].timezone: "Mars/Base" is not a time zone');
    expect(
      configError(`${base}  - { name: a, cron: "0 9 * * *", check: backups, remind: dr-test }\n`),
    ).toContain('schedules[0]: needs exactly one of check:');
  });

  it('duplicate schedule names and unknown services in schedules', () => {
    const base = `slack: { channel: C0DROPS }\n${minimalService}schedules:\n  - { name: a, cron: "0 9 * * *", check: lag }\n`;
    expect(configError(`${base}  - { name: a, cron: "0 9 * * *", check: backups }\n`)).toContain(
      'schedules[1].name: "a" is used by another schedule',
    );
    expect(
      configError(`${base}  - { name: b, cron: "0 9 * * *", check: lag, service: orders }\n`),
    ).toContain('schedules[1].service: "orders" is not a configured service (known: payments-db)');
  });

  it('schedules without a channel to post to', () => {
    expect(
      configError(`${minimalService}schedules:\n  - { name: a, cron: "0 9 * * *", check: lag }\n`),
    ).toContain('slack.channel: is required');
  });

  it('YAML that does not parse, with its line', () => {
    expect(configError('services:\n  a: [1\n')).toMatch(/lifeboat\.yml: line \d+, column \d+: /);
  });

  it('a bad PORT', () => {
    expect(configError(minimalService, { PORT: 'http' })).toBe(
      'PORT: "http" is not a TCP port (1-65535)',
    );
  });
});

describe('loadConfig', () => {
  it('reads the file named by LIFEBOAT_CONFIG and the Slack settings from the environment', () => {
    const dir = makeTempDir();
    const file = path.join(dir, 'custom.yml');
    writeFileSync(file, minimalService);
    const config = loadConfig({ LIFEBOAT_CONFIG: file, SLACK_BOT_TOKEN: 'xoxb-1', PORT: '3100' });
    expect(config.file).toBe(file);
    expect(config.env).toMatchObject({ slackBotToken: 'xoxb-1', slackAppToken: null, port: 3100 });
  });

  it('says how to make a config when there is none', () => {
    const dir = makeTempDir();
    expect(() => loadConfig({ LIFEBOAT_CONFIG: path.join(dir, 'missing.yml') })).toThrow(
      /no config file at .*missing\.yml: .*copy lifeboat\.example\.yml to lifeboat\.yml and edit it for your services, or set LIFEBOAT_CONFIG/,
    );
  });
});

describe('strategies and retention in the config', () => {
  it('defaults to warm-standby and refuses a strategy the service cannot carry out, naming the key', () => {
    expect(
      parseConfig(minimalService, '/srv/lifeboat/lifeboat.yml').services['payments-db']!.strategy,
    ).toBe('warm-standby');
    expect(
      configError(minimalService.replace('rpo: 1m', 'rpo: 1m\n    strategy: backup-restore')),
    ).toBe(
      '/srv/lifeboat/lifeboat.yml: services.payments-db.strategy: "backup-restore" backup-restore recovers from backups: the service needs backups: (a bucket to restore from)',
    );
    expect(
      configError(minimalService.replace('rpo: 1m', 'rpo: 1m\n    strategy: active-active')),
    ).toBe(
      '/srv/lifeboat/lifeboat.yml: services.payments-db.strategy: "active-active" active-active drains the failed region instead of promoting: the service needs dns: with mode weighted (Route 53 weights) or routing-control (ARC)',
    );
    expect(
      configError(minimalService.replace('rpo: 1m', 'rpo: 1m\n    strategy: hot-spare')),
    ).toMatch(
      /services\.payments-db\.strategy: "hot-spare" must be one of backup-restore, pilot-light, warm-standby, active-active/,
    );
  });

  it('needs a retention policy to say what it keeps', () => {
    const withBackups = (retention: string) =>
      `${minimalService}    backups: { provider: s3, bucket: b, region: us-west-2, max_age: 1d, retention: ${retention} }\n`;
    expect(configError(withBackups('{}'))).toMatch(
      /services\.payments-db\.backups\.retention: needs keep_last \(a count\) or keep_within \(an age like 7d\), or both/,
    );
    expect(configError(withBackups('{ keep_last: 0 }'))).toMatch(
      /services\.payments-db\.backups\.retention\.keep_last: 0 must keep at least the newest backup/,
    );
  });
});
