// The team's own actions (`actions:` in lifeboat.yml): a command or an HTTP request, checked here
// into one shape per kind. A key that belongs to the other kind is named, not ignored.

import { parseDurationSeconds } from '../duration.js';
import { ConfigError } from '../errors.js';
import { TEMPLATE_VARIABLES, stringsIn, unknownPlaceholders } from '../template.js';
import type { ConfigFile } from './schema.js';

type ActionFile = ConfigFile['actions'][string];

export type HeaderValue = string | { env: string; prefix: string };

interface Common {
  name: string;
  description: string | null;
  /** two-person unless the config says none: the runbook cannot lower it. */
  approval: 'two-person' | 'none';
  timeoutSeconds: number;
}

export interface CommandAction extends Common {
  kind: 'run';
  command: string[];
  verify: string[] | null;
  /** The only variables of lifeboat's environment the command sees (besides PATH and HOME). */
  env: string[];
  cwd: string | null;
}

export interface HttpAction extends Common {
  kind: 'http';
  url: string;
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  headers: Record<string, HeaderValue>;
  body: string | Record<string, unknown> | null;
  expectStatus: number[];
  expectJson: { path: string; equals: string | number | boolean | null } | null;
  retries: number;
  backoffSeconds: number;
}

export interface LambdaAction extends Common {
  kind: 'lambda';
  /** The function's name or ARN. */
  function: string;
  region: string;
  qualifier: string | null;
  /** Sent as the event, its strings filled with the run's facts (and the idempotency key added). */
  payload: Record<string, unknown>;
  expectJson: { path: string; equals: string | number | boolean | null } | null;
}

export type CustomAction = CommandAction | HttpAction | LambdaAction;

const ONLY_RUN = ['command', 'verify', 'cwd'] as const;
const ONLY_LAMBDA = ['function', 'region', 'qualifier', 'payload'] as const;
const ONLY_HTTP = [
  'url',
  'method',
  'body',
  'expect_status',
  'expect_json',
  'retries',
  'backoff',
] as const;

export function toCustomActions(
  actions: ConfigFile['actions'],
  file: string,
): Record<string, CustomAction> {
  return Object.fromEntries(
    Object.entries(actions).map(([name, action]) => [name, toCustomAction(name, action, file)]),
  );
}

function toCustomAction(name: string, action: ActionFile, file: string): CustomAction {
  const at = `actions.${name}`;
  const seconds = (text: string | undefined, fallback: number) =>
    text === undefined ? fallback : (parseDurationSeconds(text) ?? fallback);
  for (const [key, value] of Object.entries(action)) {
    const unknown = stringsIn(value).flatMap(unknownPlaceholders)[0];
    if (unknown !== undefined)
      throw new ConfigError(
        `${at}.${key}`,
        `{{${unknown}}} is not something lifeboat fills in (known: ${TEMPLATE_VARIABLES.map((name) => `{{${name}}}`).join(', ')})`,
        file,
      );
  }
  const common = {
    name,
    description: action.description ?? null,
    approval: action.approval,
  };
  const misplaced = (keys: readonly string[], kind: string) => {
    const key = keys.find((each) => (action as Record<string, unknown>)[each] !== undefined);
    if (key) throw new ConfigError(`${at}.${key}`, `belongs to ${kind}, not to this action`, file);
  };
  const kinds = [
    action.command && 'command:',
    action.url && 'url:',
    action.function && 'function:',
  ];
  const given = kinds.filter(Boolean);
  if (given.length > 1)
    throw new ConfigError(
      at,
      `has ${given.join(' and ')} — an action is one command, HTTP request or Lambda function`,
      file,
    );
  if (action.function) {
    misplaced(
      [...ONLY_RUN, ...ONLY_HTTP.filter((key) => key !== 'expect_json')],
      'another kind of action',
    );
    if (Object.keys(action.headers).length || action.env.length)
      throw new ConfigError(
        `${at}.${action.env.length ? 'env' : 'headers'}`,
        'belongs to another kind of action: a Lambda function gets what it needs in payload:',
        file,
      );
    if (!action.region)
      throw new ConfigError(
        `${at}.region`,
        'is required (the AWS region of the function, like us-west-2)',
        file,
      );
    return {
      kind: 'lambda',
      ...common,
      timeoutSeconds: seconds(action.timeout, 60),
      function: action.function,
      region: action.region,
      qualifier: action.qualifier ?? null,
      payload: action.payload ?? {},
      expectJson: action.expect_json ?? null,
    };
  }
  if (action.command) {
    misplaced(ONLY_HTTP, 'an HTTP action (url:)');
    misplaced(ONLY_LAMBDA, 'a Lambda action (function:)');
    if (Object.keys(action.headers).length)
      throw new ConfigError(
        `${at}.headers`,
        'belongs to an HTTP action (url:), not to this action',
        file,
      );
    return {
      kind: 'run',
      ...common,
      timeoutSeconds: seconds(action.timeout, 300),
      command: action.command,
      verify: action.verify ?? null,
      env: action.env,
      cwd: action.cwd ?? null,
    };
  }
  if (action.url) {
    misplaced(ONLY_RUN, 'a command action (command:)');
    misplaced(ONLY_LAMBDA, 'a Lambda action (function:)');
    if (action.env.length)
      throw new ConfigError(
        `${at}.env`,
        'belongs to a command action (command:); an HTTP action reads secrets in headers: { NAME: { env: VAR } }',
        file,
      );
    const status = action.expect_status;
    return {
      kind: 'http',
      ...common,
      timeoutSeconds: seconds(action.timeout, 10),
      url: action.url,
      method: action.method ?? (action.body === undefined ? 'GET' : 'POST'),
      headers: action.headers,
      body: action.body ?? null,
      expectStatus: status === undefined ? [] : Array.isArray(status) ? status : [status],
      expectJson: action.expect_json ?? null,
      retries: action.retries ?? 2,
      backoffSeconds: seconds(action.backoff, 1),
    };
  }
  throw new ConfigError(
    at,
    'needs command: (a program and its arguments, like [kubectl, rollout, restart, deploy/app]), url: (an HTTP request) or function: (an AWS Lambda function)',
    file,
  );
}
