// Loads lifeboat.yml and the environment (config/environment.ts) into one validated Config;
// everything else is handed what it needs. A bad value stops lifeboat here, with the key path, the
// value and what was expected — nothing half-configured ever starts.

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import type { z } from 'zod';
import { parseDurationSeconds } from './duration.js';
import { ConfigError, closestNames, redact } from './errors.js';
import { configPath, withEnvironment, type Environment } from './config/environment.js';
import type { RunKind } from './run-kind.js';
import type { Strategy } from './strategy.js';
import { toCustomActions, type CustomAction } from './config/actions.js';
import { KNOWN_KEYS, configFileSchema, type ConfigFile } from './config/schema.js';
import { PERMISSIONS, POSTGRES_URL, type Permission } from './config/names.js';

type ServiceFile = ConfigFile['services'][string];

export interface Service {
  name: string;
  rtoSeconds: number;
  rpoSeconds: number;
  strategy: Strategy;
  runbooks: Partial<Record<RunKind, string>>;
  database: ServiceFile['database'];
  dns: ServiceFile['dns'] | null;
  backups:
    (Omit<NonNullable<ServiceFile['backups']>, 'max_age'> & { maxAgeSeconds: number }) | null;
  healthCheck: { url: string; expectStatus: number; timeoutSeconds: number } | null;
  /** pgBackRest's repository, read by the backup check (point-in-time recovery). */
  pitr: ServiceFile['pitr'] | null;
  /** RDS snapshots, checked and copied in the DR region. */
  snapshots: ServiceFile['snapshots'] | null;
  /** Pilot light: the application tier app.scale-up brings to full size. */
  appScaling: ServiceFile['app_scaling'] | null;
}

export interface Schedule {
  name: string;
  cron: string;
  check:
    | 'backups'
    | 'backup-take'
    | 'restore'
    | 'lag'
    | 'plan'
    | 'staleness'
    | 'audit'
    | 'store-backup'
    | null;
  remind: string | null;
  service: string | null;
  timezone: string;
  pick: 'newest' | 'random';
  withinSeconds: number | null;
  /** store-backup: the folder for the copies (absolute), and how many to keep. */
  to: string | null;
  keep: number;
}

/**
 * What lifeboat.yml alone says, validated: a pure function of the file's text and path. The config
 * cache keeps this (encrypted), never the environment's part.
 */
export interface ConfigFromFile {
  /** Absolute path of the file this came from; relative paths in it are relative to its folder. */
  file: string;
  slackChannel: string | null;
  /** Where stakeholder updates (`action: announce`) go. */
  slackAnnouncements: string | null;
  approvals: {
    approvers: string[];
    usergroup: string | null;
    required: number;
    expiresAfterSeconds: number;
    /** Slack user ID → Ed25519 public key (`ed25519:…`) for signed approvals. */
    keys: Record<string, string>;
  };
  /** OS user name → Slack user ID: who the break-glass CLI acts for. */
  cliUsers: Record<string, string>;
  /** Who may do what: Slack user IDs and user group IDs, defaults filled in. */
  permissions: Record<Permission, string[]>;
  alerts: { unprotectedRepeatSeconds: number };
  /** Where the store is: a SQLite file beside the config, or a PostgreSQL database. */
  store: StoreLocation;
  runbooksDir: string;
  services: Record<string, Service>;
  schedules: Schedule[];
  /** The team's own commands and HTTP requests that runbooks name (`action: run NAME`). */
  actions: Record<string, CustomAction>;
  /**
   * The variables of lifeboat's environment custom actions may read: PATH, HOME and those their
   * `env:` lists and their headers name — nothing else reaches a command.
   */
  actionEnvNames: string[];
  /** Who is paged about what (PagerDuty, Opsgenie, a signed webhook); null when nobody is. */
  paging: Paging | null;
  /** GET /metrics, behind the bearer token this environment variable holds; null: not served. */
  metrics: { tokenEnv: string } | null;
}

export interface Config extends Omit<ConfigFromFile, 'actionEnvNames'> {
  /** The values of `actionEnvNames`, read once at load: nothing else reaches a command. */
  actionEnv: Record<string, string | undefined>;
  env: Environment;
}

export type PagingTarget = NonNullable<ConfigFile['paging']>['targets'][string] & { name: string };
export interface Paging {
  targets: PagingTarget[];
  approvalWaitingAfterSeconds: number;
}

export type { CustomAction, CommandAction, HttpAction, LambdaAction } from './config/actions.js';

type Env = Record<string, string | undefined>;

export type StoreLocation =
  { kind: 'sqlite'; file: string } | { kind: 'postgres'; url: string; schema: string | null };

function storeLocation(setting: ConfigFile['store'], dir: string): StoreLocation {
  if (typeof setting === 'object')
    return { kind: 'postgres', url: setting.url, schema: setting.schema ?? null };
  if (POSTGRES_URL.test(setting)) return { kind: 'postgres', url: setting, schema: null };
  return { kind: 'sqlite', file: path.resolve(dir, setting) };
}

/** Reads and validates the config named by the environment. Throws ConfigError. */
export function loadConfig(env: Env = process.env): Config {
  const file = configPath(env);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new ConfigError(
      '',
      `no config file at ${file}: run \`npm start\` once for local mode (the CLI then uses .lifeboat/lifeboat.yml), or copy lifeboat.example.yml to lifeboat.yml and edit it for your services, or set LIFEBOAT_CONFIG`,
    );
  }
  return parseConfig(text, file, env);
}

/** Validates config text (the content of `file`), completed with `env`. */
export function parseConfig(text: string, file: string, env: Env = {}): Config {
  return withEnvironment(parseConfigFile(text, file), env);
}

/** Validates config text (the content of `file`). Pure apart from resolving paths. */
export function parseConfigFile(text: string, file: string): ConfigFromFile {
  const raw = parseYaml(text, file);
  const result = configFileSchema.safeParse(raw ?? {});
  if (!result.success) throw issueToError(result.error.issues, raw, file);
  const checked = result.data;
  crossCheck(checked, file);
  const dir = path.dirname(file);
  return {
    file,
    slackChannel: checked.slack?.channel ?? null,
    slackAnnouncements: checked.slack?.announcements ?? null,
    approvals: {
      approvers: checked.approvals.approvers,
      usergroup: checked.approvals.usergroup ?? null,
      required: checked.approvals.required,
      expiresAfterSeconds: seconds(checked.approvals.expires_after),
      keys: checked.approvals.keys,
    },
    cliUsers: checked.cli.users,
    permissions: permissionsOf(checked),
    alerts: { unprotectedRepeatSeconds: seconds(checked.alerts.unprotected_repeat) },
    store: storeLocation(checked.store, dir),
    runbooksDir: path.resolve(dir, checked.runbooks_dir),
    services: Object.fromEntries(
      Object.entries(checked.services).map(([name, service]) => [name, toService(name, service)]),
    ),
    schedules: checked.schedules.map((entry) => ({
      name: entry.name,
      cron: entry.cron,
      check: entry.check ?? null,
      remind: entry.remind ?? null,
      service: entry.service ?? null,
      timezone: entry.timezone,
      pick: entry.pick ?? 'newest',
      withinSeconds: entry.within ? seconds(entry.within) : null,
      to: entry.to === undefined ? null : path.resolve(dir, entry.to),
      keep: entry.keep,
    })),
    actions: toCustomActions(checked.actions, file),
    actionEnvNames: actionEnvNames(checked),
    metrics: checked.metrics ? { tokenEnv: checked.metrics.bearer_token.env } : null,
    paging: checked.paging
      ? {
          targets: Object.entries(checked.paging.targets).map(([name, target]) => ({
            ...target,
            name,
          })),
          approvalWaitingAfterSeconds: seconds(checked.paging.approval_waiting_after),
        }
      : null,
  };
}

export { PERMISSIONS, type Permission } from './config/names.js';
export { configPath, parseEnvironment, pgBinDir, type Environment } from './config/environment.js';
export { redact } from './errors.js';

function actionEnvNames(checked: ConfigFile): string[] {
  const names = new Set(['PATH', 'HOME']);
  if (checked.metrics) names.add(checked.metrics.bearer_token.env);
  for (const target of Object.values(checked.paging?.targets ?? {}))
    names.add(
      target.type === 'pagerduty'
        ? target.routing_key.env
        : target.type === 'opsgenie'
          ? target.api_key.env
          : target.secret.env,
    );
  for (const action of Object.values(checked.actions)) {
    for (const name of action.env) names.add(name);
    for (const header of Object.values(action.headers))
      if (typeof header === 'object') names.add(header.env);
  }
  return [...names];
}

/**
 * Each permission's list as configured, else the approvers and their user group — but exercises
 * that change nothing (drills, tabletops, restore tests) may be started by anyone (`*`).
 */
function permissionsOf(checked: ConfigFile): Record<Permission, string[]> {
  const approvers = [
    ...checked.approvals.approvers,
    ...(checked.approvals.usergroup ? [checked.approvals.usergroup] : []),
  ];
  return Object.fromEntries(
    PERMISSIONS.map((permission) => [
      permission,
      checked.permissions[permission] ?? (permission === 'start_exercise' ? ['*'] : approvers),
    ]),
  ) as Record<Permission, string[]>;
}

function toService(name: string, service: ServiceFile): Service {
  const backups = service.backups
    ? (({ max_age, ...rest }) => ({ ...rest, maxAgeSeconds: seconds(max_age) }))(service.backups)
    : null;
  return {
    name,
    rtoSeconds: seconds(service.rto),
    rpoSeconds: seconds(service.rpo),
    strategy: service.strategy,
    pitr: service.pitr ?? null,
    snapshots: service.snapshots ?? null,
    appScaling: service.app_scaling ?? null,
    runbooks: service.runbooks,
    database: service.database,
    dns: service.dns ?? null,
    backups,
    healthCheck: service.health_check
      ? {
          url: service.health_check.url,
          expectStatus: service.health_check.expect_status,
          timeoutSeconds: seconds(service.health_check.timeout),
        }
      : null,
  };
}

/** Rules that span keys: names that must refer to something else in the file. */
function crossCheck(config: ConfigFile, file: string): void {
  const services = Object.keys(config.services);
  const names = new Set<string>();
  config.schedules.forEach((entry, i) => {
    if (names.has(entry.name)) {
      throw new ConfigError(
        `schedules[${i}].name`,
        `"${entry.name}" is used by another schedule: names must be unique`,
        file,
      );
    }
    names.add(entry.name);
    if (entry.service !== undefined && !services.includes(entry.service)) {
      throw new ConfigError(
        `schedules[${i}].service`,
        `"${entry.service}" is not a configured service (known: ${services.join(', ') || 'none'})`,
        file,
      );
    }
  });
  if (config.schedules.length > 0 && !config.slack) {
    throw new ConfigError(
      'slack.channel',
      'is required: scheduled checks and reminders are posted there',
      file,
    );
  }
}

function parseYaml(text: string, file: string): unknown {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const error = doc.errors[0];
  if (error) {
    const { line, col } = lineCounter.linePos(error.pos[0]);
    throw new ConfigError('', `line ${line}, column ${col}: ${error.message.split('\n')[0]}`, file);
  }
  return doc.toJS() as unknown;
}

function issueToError(issues: z.core.$ZodIssue[], raw: unknown, file: string): ConfigError {
  // An unknown key usually explains a "missing" one beside it (rto_minutes for rto): report it first.
  const issue = issues.find((candidate) => candidate.code === 'unrecognized_keys') ?? issues[0];
  if (!issue) return new ConfigError('', 'is not valid', file);
  const keyPath = formatKeyPath(issue.path);
  const value = valueAt(raw, issue.path);
  if (issue.code === 'unrecognized_keys') {
    const key = issue.keys[0] ?? '';
    // Never "did you mean" the key itself: one lifeboat knows elsewhere is misplaced, not misspelled.
    const closest = closestNames(key, KNOWN_KEYS).find((name) => name !== key);
    const hint = closest
      ? ` (did you mean ${closest}?)`
      : KNOWN_KEYS.includes(key)
        ? ` (${key} belongs elsewhere in lifeboat.yml, not here)`
        : '';
    return new ConfigError(formatKeyPath([...issue.path, key]), `unknown key${hint}`, file);
  }
  const expected = requirement(issue);
  if (value === undefined) {
    return new ConfigError(
      keyPath,
      `is required (${expected.replace(/^(is not|must be) /, '')})`,
      file,
    );
  }
  if (value !== null && typeof value === 'object') return new ConfigError(keyPath, expected, file);
  return new ConfigError(keyPath, `${JSON.stringify(redact(value))} ${expected}`, file);
}

/** What the key should have been, as "is not …" / "must be …". */
function requirement(issue: z.core.$ZodIssue): string {
  const isZodDefault = /^(Invalid|Too (big|small)|Expected)/.test(issue.message);
  if (!isZodDefault) return issue.message;
  if (issue.code === 'invalid_value') {
    return `is not one of: ${issue.values.map((v) => String(v)).join(', ')}`;
  }
  if (issue.code === 'invalid_type') return `is not ${article(issue.expected)}`;
  if (issue.code === 'invalid_format' && issue.format === 'url') {
    return 'is not a URL like http://127.0.0.1:4569';
  }
  if (issue.code === 'too_small' || issue.code === 'too_big') {
    const bound =
      issue.code === 'too_small'
        ? `at least ${String(issue.minimum)}`
        : `at most ${String(issue.maximum)}`;
    return `must be ${bound}`;
  }
  return 'does not match any allowed form';
}

function article(expected: string): string {
  if (expected === 'array') return 'a list';
  if (expected === 'object') return 'a mapping of keys';
  return /^[aeiou]/.test(expected) ? `an ${expected}` : `a ${expected}`;
}

function formatKeyPath(keys: readonly PropertyKey[]): string {
  return keys
    .map((key, i) => (typeof key === 'number' ? `[${key}]` : `${i === 0 ? '' : '.'}${String(key)}`))
    .join('');
}

function valueAt(raw: unknown, keys: readonly PropertyKey[]): unknown {
  let node = raw;
  for (const key of keys) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<PropertyKey, unknown>)[key];
  }
  return node;
}

function seconds(durationText: string): number {
  return parseDurationSeconds(durationText) ?? 0;
}
