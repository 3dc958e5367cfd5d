// `lifeboat check backups|lag [--service S]`: run a check now, print each service's result, exit
// 1 when any fails. Results are stored like the scheduled ones.

import { loadConfig } from '../config.js';
import { UsageError } from '../errors.js';
import { createEngine } from '../engine/create.js';
import { checkBackups } from '../checks/backups.js';
import { recordRestore, restoreTest } from '../checks/restore.js';
import { parseDurationSeconds } from '../duration.js';
import { describeLag } from '../actions/db/describe-lag.js';
import type { Io } from './io.js';
import { status } from '../../commands/status.js';

type Env = Record<string, string | undefined>;

export async function runCheck(
  what: string,
  options: { service?: string; pick?: 'newest' | 'random'; within?: string },
  io: Io,
  env: Env,
): Promise<number> {
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
    const lines: { ok: boolean; text: string }[] = [];
    if (what === 'backups') {
      const results = await checkBackups(
        config,
        engine.store.db,
        (service, kind) => engine.providersFor(service!, kind),
        new Date(),
        options.service,
      );
      for (const result of results)
        lines.push({ ok: result.ok, text: `${result.service}: ${result.summary}` });
      if (results.length === 0)
        lines.push({ ok: true, text: 'no service has backups: configured' });
    } else if (what === 'lag') {
      for (const service of Object.values(config.services)) {
        if (options.service && service.name !== options.service) continue;
        const database = engine.providersFor(service, 'failover').database;
        if (!database) continue;
        const lag = await database.measureLag().catch((error: Error) => error);
        if (lag instanceof Error) {
          lines.push({ ok: false, text: `${service.name}: ${lag.message}` });
        } else {
          const ok =
            !lag.targetIsReplica ||
            (lag.lagSeconds !== null && lag.lagSeconds <= service.rpoSeconds);
          lines.push({ ok, text: `${service.name}: ${describeLag(lag, service.rpoSeconds)}` });
        }
      }
    } else if (what === 'restore') {
      for (const service of Object.values(config.services)) {
        if (!service.backups || (options.service && service.name !== options.service)) continue;
        const store = engine.providersFor(service, 'restore-test').backups;
        if (!store) continue;
        const report = await restoreTest(service, store, {
          pick: options.pick ?? 'newest',
          withinSeconds: options.within ? (parseDurationSeconds(options.within) ?? null) : null,
          now: new Date(),
        });
        recordRestore(engine.store.db, report);
        lines.push({ ok: report.ok, text: `${service.name}: ${report.summary}` });
      }
      if (lines.length === 0) lines.push({ ok: true, text: 'no service has backups: configured' });
    } else {
      throw new UsageError(`unknown check "${what}": use backups, restore or lag`);
    }
    for (const line of lines) io.out(`${line.ok ? 'ok  ' : 'FAIL'}  ${line.text}`);
    return lines.every((line) => line.ok) ? 0 : 1;
  } finally {
    engine.store.close();
  }
}

/** `lifeboat status`: the same readiness as `/dr status`, for a terminal. */
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
    io.out((reply as { text: string }).text.replace(/\*/g, ''));
    return 0;
  } finally {
    engine.store.close();
  }
}
