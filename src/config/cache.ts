// The CLI reads lifeboat.yml at every command, and validating it (the YAML, then zod's schema of
// the whole file) was half of a command's start-up. A file this same build has validated before,
// byte for byte and at the same path, is read back from the config cache instead (sealed-cache.ts:
// a private folder, entries encrypted with a key only the file's text gives).
//
// What is kept is the file's part only (ConfigFromFile), a pure function of the path and the text.
// The environment's part (Slack's tokens, the variables custom actions read) is filled in from the
// reading process's environment every time, and never written.

import { readFileSync } from 'node:fs';
import type { Config, ConfigFromFile } from '../config.js';
import { readSealed, sealedCache, writeSealed, type SealedCacheOptions } from '../sealed-cache.js';
import { configPath, withEnvironment } from './environment.js';

type Env = Record<string, string | undefined>;

export interface ConfigCacheOptions extends SealedCacheOptions {
  /** Validate the file afresh (and replace its entry) even when an entry holds. */
  refresh?: boolean;
}

/** loadConfig, through the config cache when there is one. Throws ConfigError as loadConfig does. */
export async function loadConfigCached(
  env: Env = process.env,
  options: ConfigCacheOptions = {},
): Promise<Config> {
  const cache = sealedCache('config', env, options);
  const file = configPath(env);
  let text: string | null = null;
  try {
    if (cache) text = readFileSync(file, 'utf8');
  } catch {
    // loadConfig says what is missing and what to do.
  }
  if (!cache || text === null) return (await import('../config.js')).loadConfig(env);
  const cached = options.refresh ? null : readSealed<ConfigFromFile>(cache, [file], text);
  if (cached) return withEnvironment(cached, env);
  const fromFile = (await import('../config.js')).parseConfigFile(text, file);
  writeSealed(cache, [file], text, fromFile);
  return withEnvironment(fromFile, env);
}
