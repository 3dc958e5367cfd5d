// `/dr status [service]`: readiness per service — whether a replica follows the writer (TWO
// PRIMARIES, UNPROTECTED, NO WRITER) and its lag against the RPO, runs in flight, and the last run
// of each kind. It looks, and records what it saw; it never acts.

import { formatAgo, formatDuration } from '../src/duration.js';
import { RUN_KINDS } from '../src/run-kind.js';
import { latestResults } from '../src/checks/results.js';
import { usesAws } from '../src/checks/aws-region.js';
import { checkReplication } from '../src/checks/lag.js';
import { clip, escape, slackTime } from '../src/mrkdwn.js';
import { STALE_AFTER_MS, walkerOf } from '../src/engine/executor-lease.js';
import type { Sql } from '../src/store/db.js';
import { listInstances } from '../src/store/instances.js';
import { currentProtections } from '../src/store/protection.js';
import type { Schedule, Service } from '../src/config.js';
import {
  lastDoneRun,
  lastRunOfEachKind,
  listRunsInFlight,
  type RunRecord,
} from '../src/store/runs.js';
import { describeExpectation, expectRecovery, recoveryFactsFrom } from '../src/strategy.js';
import { pickService, providersOf, type Command, type Reply } from './command.js';

export const status: Command<Reply> = {
  name: 'status',
  acksFirst: true,
  usage: '/dr status [service]',
  summary: 'readiness: lag against the RPO, runs in flight, the last drill of each kind',
  async run(args, context) {
    const names =
      args.length === 0
        ? Object.keys(context.config.services)
        : [pickService(args, context, status.usage)];
    // What the store knows of every service, read at once: a few queries, not a few per service —
    // and each check only of the services that have it.
    const having = (has: (service: Service) => unknown) =>
      names.filter((name) => has(context.config.services[name]!));
    const [backups, restores, pitrs, snapshots, plans, protections, inFlight, lastRuns] =
      await Promise.all([
        latestResults(
          context.store,
          'backups',
          having((service) => service.backups),
        ),
        latestResults(
          context.store,
          'restore',
          having((service) => service.backups ?? service.pitr),
        ),
        latestResults(
          context.store,
          'pitr',
          having((service) => service.pitr),
        ),
        latestResults(
          context.store,
          'snapshots',
          having((service) => service.snapshots),
        ),
        latestResults(context.store, 'plan', names),
        currentProtections(context.store, names),
        listRunsInFlight(context.store),
        lastRunOfEachKind(context.store, names),
      ]);
    const providersFor = providersOf(context);
    const reminders = context.config.schedules.filter(
      (entry): entry is Schedule & { remind: string } => entry.remind !== null,
    );
    // Every service at once: a database that does not answer delays its own lines, not the rest;
    // the DR tests and the instances are read meanwhile.
    const [sections, testLines, instances] = await Promise.all([
      Promise.all(
        names.map(async (name) => {
          const service = context.config.services[name]!;
          const replication = await checkReplication(
            service,
            (promote) => providersFor(service, 'failover', promote).database!,
            context.store,
            context.clock(),
            protections.get(name) ?? null,
          );
          const alarm = ['TWO PRIMARIES', 'UNPROTECTED', 'NO WRITER'].includes(replication.state)
            ? `${name}: ${replication.state}`
            : null;
          const backup = backups.find((result) => result.service === name);
          const lines = [
            `*${name}* — RTO ${formatDuration(service.rtoSeconds)}, RPO ${formatDuration(service.rpoSeconds)}`,
            `• replication: ${escape(replication.summary).replace(/^(TWO PRIMARIES|UNPROTECTED|NO WRITER)/, '*$1*')}`,
          ];
          if (service.backups) {
            lines.push(
              `• backups: ${backup ? `${backup.ok ? 'ok' : 'FAILING'} — ${clip(backup.summary, 1000)} (checked ${backup.at.slice(0, 16).replace('T', ' ')} UTC)` : 'never checked: /dr backups check'}`,
            );
          }
          if (service.snapshots) {
            const snapshot = snapshots.find((result) => result.service === name);
            lines.push(
              `• snapshots: ${snapshot ? `${snapshot.ok ? 'ok' : 'FAILING'} — ${clip(snapshot.summary, 1000)} (checked ${snapshot.at.slice(0, 16).replace('T', ' ')} UTC)` : 'never checked: /dr backups check'}`,
            );
          }
          if (service.pitr) {
            const pitr = pitrs.find((result) => result.service === name);
            lines.push(
              `• point-in-time recovery: ${pitr ? `${pitr.ok ? 'ok' : 'FAILING'} — ${clip(pitr.summary, 1000)} (checked ${pitr.at.slice(0, 16).replace('T', ' ')} UTC)` : 'never checked: /dr backups check'}`,
            );
          }
          if (usesAws(service)) {
            const plan = plans.find((result) => result.service === name);
            lines.push(
              `• plan check (what a failover touches): ${plan ? `${plan.ok ? 'ok' : 'FAILING'} — ${clip(plan.summary, 1000)} (checked ${plan.at.slice(0, 16).replace('T', ' ')} UTC)` : 'never checked: lifeboat checks it every 30 minutes, or now with `lifeboat check config --live`'}`,
            );
          }
          // What the strategy, as measured, can expect — and where it falls short of the objectives.
          const expectation = expectRecovery(
            service.strategy,
            service,
            recoveryFactsFrom({
              lastRuns: lastRuns.filter((run) => run.service === name),
              backups: backup ?? null,
              restore: restores.find((result) => result.service === name) ?? null,
              lagSeconds: replication.lagSeconds,
              now: context.clock(),
            }),
          );
          lines.push(`• strategy: ${escape(describeExpectation(expectation))}`);
          for (const gap of expectation.gaps) lines.push(`• *${escape(gap)}*`);
          for (const run of inFlight.filter((each) => each.service === name))
            lines.push(
              `• in flight: ${run.kind} \`${run.id}\` (${run.status}), started by <@${run.startedBy}>, ${await walkerText(context.store, run.id, context.clock())}`,
            );
          for (const kind of RUN_KINDS) {
            const last = lastRuns.find((run) => run.service === name && run.kind === kind);
            lines.push(
              `• last ${kind}: ${last ? `${last.finishedAt!.slice(0, 10)} ${last.status}${last.rtoSeconds === null ? '' : `, RTO ${formatDuration(last.rtoSeconds)}`}` : 'never'}`,
            );
          }
          return { lines, alarm };
        }),
      ),
      Promise.all(
        reminders.map(async (entry) =>
          testLine(entry, await lastDoneRun(context.store, entry.remind), context.clock()),
        ),
      ),
      args.length === 0 ? instanceLines(context.store, context.clock()) : [],
    ]);
    const lines = sections.flatMap((section) => section.lines);
    const alarms = sections.flatMap((section) => (section.alarm ? [section.alarm] : []));
    if (testLines.length) lines.push('*DR tests*', ...testLines);
    lines.push(...instances);
    return { type: 'message', text: lines.join('\n') || 'no services configured', alarms };
  },
};

/** Who walks a run in flight: the instance holding it and its fencing epoch, or nobody. */
async function walkerText(db: Sql, runId: string, now: Date): Promise<string> {
  const walker = await walkerOf(db, runId);
  if (!walker) return 'no instance walking it (it waits for people)';
  return `walked by \`${escape(walker.executor)}\` (epoch ${walker.epoch}${walker.seen ? `, seen ${formatAgo(walker.seen, now)}` : ''})`;
}

/** The instances serving this store, and whether each is still seen. */
async function instanceLines(db: Sql, now: Date): Promise<string[]> {
  const instances = await listInstances(db);
  if (instances.length === 0)
    return ['*Instances*', '• none serving this store (the bot is not running)'];
  return [
    '*Instances*',
    ...instances.map((instance) => {
      const silent = now.getTime() - Date.parse(instance.lastSeen) > STALE_AFTER_MS;
      return `• \`${escape(instance.id)}\` lifeboat ${escape(instance.version)}, up since ${slackTime(instance.startedAt)}, ${silent ? `*not seen for ${formatAgo(instance.lastSeen, now).replace(/ ago$/, '')}*: stopped or cut off` : `seen ${formatAgo(instance.lastSeen, now)}`}`;
    }),
  ];
}

/**
 * One DR test's standing: done for this period, due since its last slot, or OVERDUE when a whole
 * period (the two latest slots) passed without a successful run.
 */
async function testLine(entry: Schedule, last: RunRecord | null, now: Date): Promise<string> {
  // Loaded only with DR tests to report: node-cron is ~60 KB of every `lifeboat status` otherwise.
  const [{ previousSlot }, { nextDue }] = await Promise.all([
    import('../src/schedule/cron-time.js'),
    import('./schedule.js'),
  ]);
  const day = (date: Date | string) =>
    (typeof date === 'string' ? date : date.toISOString()).slice(0, 16).replace('T', ' ');
  const latest = previousSlot(entry.cron, entry.timezone, now);
  const before = latest
    ? previousSlot(entry.cron, entry.timezone, new Date(latest.getTime() - 60_000))
    : null;
  const lastAt = last ? Date.parse(last.finishedAt!) : null;
  const standing =
    latest === null || (lastAt !== null && lastAt >= latest.getTime())
      ? 'done for this period'
      : before === null || (lastAt !== null && lastAt >= before.getTime())
        ? `due since ${day(latest)} UTC`
        : `*OVERDUE* — no successful run since ${day(before)} UTC`;
  return `• \`${entry.remind}\`: ${standing}; last run ${last ? day(last.finishedAt!) : 'never'}; next reminder ${day(nextDue(entry, now))} UTC (${entry.name})`;
}
