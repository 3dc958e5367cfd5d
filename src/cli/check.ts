// `lifeboat check config|backups|restore|lag [--service S]`: run a check now, print each result,
// exit 1 when any fails. Results of the service checks are stored like the scheduled ones.

import { loadConfigCached } from '../config/cache.js';
import { UsageError } from '../errors.js';
import type { CheckResult } from '../checks/backups.js';
import type { Service } from '../config.js';
import type { RunKind } from '../runbook/model.js';
import type { NodeName } from '../providers/types.js';
import { parseDurationSeconds } from '../duration.js';
import type { Io } from './io.js';
import { createCliLogger } from './logger.js';
import { osAccountOf, type OsIdentity } from '../people.js';

type Env = Record<string, string | undefined>;

export async function runCheck(
  what: string,
  options: {
    service?: string;
    live?: boolean;
    pick?: 'newest' | 'random';
    within?: string;
    set?: string;
  },
  io: Io,
  env: Env,
  clock: () => Date,
): Promise<number> {
  if (what === 'config') return checkStartup(io, env, options, clock);
  if (options.live) throw new UsageError('--live only applies to check config');
  if (options.pick && options.pick !== 'newest' && options.pick !== 'random') {
    throw new UsageError(`--pick must be newest or random, not "${String(options.pick)}"`);
  }
  const config = await loadConfigCached(env);
  if (options.service && !config.services[options.service]) {
    throw new UsageError(unknownService(config, options.service));
  }
  const withinSeconds = parseWithin(options);
  const log = createCliLogger(io, env.LOG_LEVEL);
  const { createEngine } = await import('../engine/create.js');
  const engine = await createEngine(config, { logger: log.logger, clock });
  try {
    const providersFor = (service: Service, kind: RunKind, promote?: NodeName) =>
      engine.providersFor(service, kind, promote);
    const now = clock();
    let results: CheckResult[];
    // Each check loads what it needs (the restore test, pg_restore's runner) when it runs.
    if (what === 'backups') {
      const { checkBackups } = await import('../checks/backups.js');
      results = await checkBackups(config, engine.store, providersFor, now, options.service);
    } else if (what === 'lag') {
      const { checkServicesReplication } = await import('../checks/lag.js');
      results = await checkServicesReplication(
        config,
        engine.store,
        providersFor,
        now,
        options.service,
      );
    } else if (what === 'restore') {
      const { runRestoreTests } = await import('../checks/restore.js');
      results = await runRestoreTests(
        config,
        engine.store,
        providersFor,
        { pick: options.pick ?? 'newest', withinSeconds, now, set: options.set ?? null },
        options.service,
      );
    } else {
      throw new UsageError(`unknown check "${what}": use config, backups, restore or lag`);
    }
    if (results.length === 0) {
      // Nothing checked is not "ok": a cron job or a person asking must hear it.
      io.out(`not checked: ${nothingToCheck(what, options.service)}`);
      return 1;
    }
    return printResults(results, io, log.errors());
  } finally {
    await engine.store.close();
  }
}

/**
 * `lifeboat backup take [service]`: a backup of each service now, as the schedule takes them; the
 * audit log names the OS account (and its Slack user when cli.users maps it).
 */
export async function takeBackupsNow(
  only: string | undefined,
  io: Io,
  env: Env,
  clock: () => Date,
  identity: OsIdentity,
): Promise<number> {
  const config = await loadConfigCached(env);
  const [{ cannotTakeBackup }, { takeBackups }] = await Promise.all([
    import('../actions/backup/take.js'),
    import('../checks/take.js'),
  ]);
  if (only !== undefined) {
    const service = config.services[only];
    if (!service) throw new UsageError(unknownService(config, only));
    const refused = cannotTakeBackup(service);
    if (refused) throw new UsageError(refused);
  }
  const account = osAccountOf(identity, env);
  const user = config.cliUsers[account];
  const log = createCliLogger(io, env.LOG_LEVEL);
  const { createEngine } = await import('../engine/create.js');
  const engine = await createEngine(config, { logger: log.logger });
  try {
    const results = await takeBackups(
      config,
      engine.store,
      (service, kind) => engine.providersFor(service, kind),
      {
        clock,
        actor: user ? `${user} (cli:${account})` : `cli:${account}`,
        only,
        onProgress: (service, text) => io.err(`  … ${service}: ${text}`),
      },
    );
    if (results.length === 0) {
      io.out(
        'not taken: no service has backups lifeboat can take (a PostgreSQL database with backups:, or an RDS one with snapshots:)',
      );
      return 1;
    }
    return printResults(results, io, log.errors());
  } finally {
    await engine.store.close();
  }
}

/** --within for a random pick: a duration, or a usage error — never silently "any age". */
function parseWithin(options: { pick?: string; within?: string }): number | null {
  if (options.within === undefined) return null;
  if (options.pick !== 'random')
    throw new UsageError(
      '--within only applies to --pick random (the window to pick a backup from)',
    );
  const seconds = parseDurationSeconds(options.within);
  if (seconds === null || seconds <= 0)
    throw new UsageError(
      `--within "${options.within}" is not a duration: use a number and a unit, like 30d, 12h or 90m`,
    );
  return seconds;
}

function nothingToCheck(what: string, service: string | undefined): string {
  const needs = what === 'lag' ? 'a database with a replica' : 'backups: in lifeboat.yml';
  return service
    ? `${service} has no ${needs}, so there is nothing to ${what === 'restore' ? 'restore' : 'check'}`
    : `no service has ${needs}, so there is nothing to ${what === 'restore' ? 'restore' : 'check'}`;
}

/**
 * `lifeboat check config`: what `npm start` checks before it serves Slack — config, runbooks and
 * the references between them, the store's schema and the audit chain — without serving.
 */
async function checkStartup(
  io: Io,
  env: Env,
  options: { service?: string; live?: boolean },
  clock: () => Date,
): Promise<number> {
  // The config validated afresh, the runbooks and the store: never from a cache.
  const { checkReadiness } = await import('../readiness.js');
  const { problems, lines } = await checkReadiness(env, clock(), { inspectOnly: true });
  for (const line of lines) io.out(`ok    ${line}`);
  for (const problem of problems) io.out(`FAIL  ${problem}`);
  if (!options.live) return problems.length === 0 ? 0 : 1;
  const config = await loadConfigCached(env);
  if (options.service && !config.services[options.service])
    throw new UsageError(unknownService(config, options.service));
  const { awsLiveDeps, checkPlanLive } = await import('../checks/live.js');
  const { createServiceProviders } = await import('../providers/index.js');
  const live = await checkPlanLive(
    config,
    awsLiveDeps((service, kind) => createServiceProviders(service, kind), clock()),
    options.service,
  );
  for (const line of live)
    io.out(
      `${line.state.padEnd(4)}  ${line.service ? `${line.service} ` : ''}${line.subject.padEnd(11)} ${line.text}`,
    );
  const failed = problems.length + live.filter((line) => line.state === 'FAIL').length;
  return failed === 0 ? 0 : 1;
}

/**
 * `lifeboat status`: the same readiness as `/dr status`, for a terminal; exit 1 while a service has
 * two primaries, no replica, or no writer.
 */
export async function showStatus(
  service: string | undefined,
  io: Io,
  env: Env,
  clock: () => Date,
): Promise<number> {
  const config = await loadConfigCached(env);
  // Reads and probes only: the store and the providers, not the engine and its actions.
  const [{ status }, { createServiceProviders }, { openStoreAt }] = await Promise.all([
    import('../../commands/status.js'),
    import('../providers/index.js'),
    import('../store/open.js'),
  ]);
  const store = await openStoreAt(config.store, { clock });
  try {
    const reply = await status.run(service ? [service] : [], {
      config,
      store,
      user: 'cli',
      clock,
      providersFor: (forService, kind, promote) =>
        createServiceProviders(forService, kind, { promote }),
    });
    const { text, alarms = [] } = reply as { text: string; alarms?: string[] };
    io.out(text.replace(/\*/g, ''));
    return alarms.length === 0 ? 0 : 1;
  } finally {
    await store.close();
  }
}

/** Each result on a line; exit 1 when any failed or the engine logged an error. */
function printResults(results: CheckResult[], io: Io, errors: number): number {
  for (const result of results)
    io.out(`${result.ok ? 'ok  ' : 'FAIL'}  ${result.service}: ${result.summary}`);
  return results.every((result) => result.ok) && errors === 0 ? 0 : 1;
}

function unknownService(config: { services: Record<string, unknown> }, name: string): string {
  return `no service "${name}" (known: ${Object.keys(config.services).join(', ') || 'none'})`;
}
