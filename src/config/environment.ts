// What lifeboat takes from the environment rather than from lifeboat.yml: where the file is, Slack's
// tokens and the port, PostgreSQL's binaries, and the variables custom actions may read. No zod
// here: a config read back from the config cache is completed by this module, from the environment
// of the process that reads it, so no value of the environment is ever written to the cache.

import path from 'node:path';
import { ConfigError } from '../errors.js';

type Env = Record<string, string | undefined>;

export interface Environment {
  slackBotToken: string | null;
  slackAppToken: string | null;
  slackSigningSecret: string | null;
  slackApiUrl: string | null;
  port: number;
}

/** The config file's path: `LIFEBOAT_CONFIG`, else ./lifeboat.yml. */
export function configPath(env: Env = process.env): string {
  return path.resolve(env.LIFEBOAT_CONFIG || './lifeboat.yml');
}

/** PostgreSQL 15's binaries (local mode, restore tests, the test fixture): LIFEBOAT_PG_BIN. */
export function pgBinDir(env: Env = process.env): string {
  return env.LIFEBOAT_PG_BIN || '/usr/lib/postgresql/15/bin';
}

export function parseEnvironment(env: Env): Environment {
  const port = env.PORT ? Number(env.PORT) : 3000;
  if (!Number.isInteger(port) || port < 1 || port > 65_535) {
    throw new ConfigError('PORT', `${JSON.stringify(env.PORT)} is not a TCP port (1-65535)`);
  }
  return {
    slackBotToken: env.SLACK_BOT_TOKEN || null,
    slackAppToken: env.SLACK_APP_TOKEN || null,
    slackSigningSecret: env.SLACK_SIGNING_SECRET || null,
    slackApiUrl: env.SLACK_API_URL || null,
    port,
  };
}

/**
 * The file's part of a config completed with this environment: the values of the variables
 * custom actions may read (`actionEnvNames`, in the order the file implies) and Slack's settings.
 */
export function withEnvironment<T extends { actionEnvNames: string[] }>(
  fromFile: T,
  env: Env,
): Omit<T, 'actionEnvNames'> & {
  actionEnv: Record<string, string | undefined>;
  env: Environment;
} {
  const { actionEnvNames, ...rest } = fromFile;
  return {
    ...rest,
    actionEnv: Object.fromEntries(actionEnvNames.map((name) => [name, env[name]])),
    env: parseEnvironment(env),
  };
}
