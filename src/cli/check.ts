// `lifeboat check config|backups|restore|lag [--service S]`: run a check now, print each result,
// exit 1 when any fails. Results of the service checks are stored like the scheduled ones.

import { loadConfig } from '../config.js';
import { UsageError } from '../errors.js';
import { createEngine } from '../engine/create.js';
import { checkBackups } from '../checks/backups.js';
import { runRestoreTests } from '../checks/restore.js';
import { checkLag } from '../checks/lag.js';
import type { CheckResult } from '../checks/backups.js';
import type { Service } from '../config.js';
import type { RunKind } from '../runbook/model.js';
import type { NodeName } from '../providers/types.js';
import { parseDurationSeconds } from '../duration.js';
import type { Io } from './io.js';
import { status } from '../../commands/status.js';
import { checkReadiness } from '../readiness.js';

type Env = Record<string, string | undefined>;

export async function runCheck(
  what: string,
  options: { service?: string; pick?: 'newest' | 'random'; within?: string },
  io: Io,
  env: Env,
): Promise<number> {
  if (what === 'config') return checkStartup(io, env);
  if (options.pick && options.pick !== 'newest' && options.pick !== 'random') {
    throw new UsageError(`--pick must be newest or random, not "${String(options.pick)}"`);
  }
  const config = loadConfig(env);
  if (options.service && !config.services[options.service]) {
    throw new UsageError(
      `no service "${options.service}" (known: ${Object.keys(config.services).join(', ') || 'none'})`,
    );
  }
  const engine = createEngine(config);
  try {
    const providersFor = (service: Service, kind: RunKind, promote?: NodeName) =>
      engine.providersFor(service, kind, promote);
    const now = new Date();
    let results: CheckResult[];
    if (what === 'backups') {
      results = await checkBackups(config, engine.store.db, providersFor, now, options.service);
    } else if (what === 'lag') {
      results = await checkLag(config, engine.store.db, providersFor, now, options.service);
    } else if (what === 'restore') {
      const withinSeconds = options.within ? (parseDurationSeconds(options.within) ?? null) : null;
      results = await runRestoreTests(
        config,
        engine.store.db,
        providersFor,
        { pick: options.pick ?? 'newest', withinSeconds, now },
        options.service,
      );
    } else {
      throw new UsageError(`unknown check "${what}": use config, backups, restore or lag`);
    }
    const lines = results.map((result) => ({
      ok: result.ok,
      text: `${result.service}: ${result.summary}`,
    }));
    if (lines.length === 0)
      lines.push({ ok: true, text: `no service is set up for a ${what} check` });
    for (const line of lines) io.out(`${line.ok ? 'ok  ' : 'FAIL'}  ${line.text}`);
    return lines.every((line) => line.ok) ? 0 : 1;
  } finally {
    engine.store.close();
  }
}

/**
 * `lifeboat check config`: what `npm start` checks before it serves Slack — config, runbooks and
 * the references between them, the store's schema and the audit chain — without serving.
 */
function checkStartup(io: Io, env: Env): number {
  const { problems, lines } = checkReadiness(env, new Date());
  for (const line of lines) io.out(`ok    ${line}`);
  for (const problem of problems) io.out(`FAIL  ${problem}`);
  return problems.length === 0 ? 0 : 1;
}

/**
 * `lifeboat status`: the same readiness as `/dr status`, for a terminal; exit 1 while a service has
 * two primaries, no replica, or no writer.
 */
export async function showStatus(service: string | undefined, io: Io, env: Env): Promise<number> {
  const config = loadConfig(env);
  const engine = createEngine(config);
  try {
    const reply = await status.run(service ? [service] : [], {
      config,
      store: engine.store,
      user: 'cli',
      clock: engine.clock,
      engine,
    });
    const { text, alarms = [] } = reply as { text: string; alarms?: string[] };
    io.out(text.replace(/\*/g, ''));
    return alarms.length === 0 ? 0 : 1;
  } finally {
    engine.store.close();
  }
}
