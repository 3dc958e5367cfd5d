// The scheduled jobs, one per `schedules:` entry: checks (backups, replication lag, runbook
// staleness) that post only when something changes, and DR-test reminders that stay quiet while a
// real failover is in flight. A job's own failure (S3 unreachable) is reported as that check
// failing; it never stops the scheduler.

import { readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { backupStore } from '../store/copy.js';
import type { Config, Schedule } from '../config.js';
import { formatDuration } from '../duration.js';
import { ConfigError } from '../errors.js';
import type { Engine } from '../engine/engine.js';
import { isLocking } from '../engine/conflicts.js';
import { checkBackups, recordCheckResult } from '../checks/backups.js';
import { checkServicesReplication } from '../checks/lag.js';
import { awsLiveDeps, checkPlanLive, planResults } from '../checks/live.js';
import { usesAws } from '../checks/aws-region.js';
import { runRestoreTests } from '../checks/restore.js';
import { takeBackups } from '../checks/take.js';
import { loadRunbookLibrary } from '../runbook/library.js';
import { checkRunbookReferences, isStale } from '../runbook/references.js';
import { listRuns, listRunsInFlight } from '../store/runs.js';
import { REMIND_EVERY_MS, nextAlert, type AlertDecision } from './alerts.js';
import type { PageAlert, PageEvent } from '../paging/alert.js';
import { clip, escape } from '../mrkdwn.js';
import { auditHead, recordAuditCheckpoint, verifyAuditLog } from '../store/audit.js';
import type { Notifier } from './notifier.js';

export interface JobContext {
  config: Config;
  engine: Engine;
  notifier: Notifier;
  now: Date;
}

export interface Job {
  name: string;
  cron: string;
  timezone: string;
  /** Reminders catch up once after downtime; checks just run at their next slot. */
  catchesUp: boolean;
  run(context: JobContext): Promise<string>;
}

/** Runbook staleness runs weekly (Mondays 09:00 UTC) unless `schedules:` says otherwise. */
export const DEFAULT_STALENESS: Schedule = {
  name: 'runbook-staleness',
  cron: '0 9 * * 1',
  check: 'staleness',
  remind: null,
  service: null,
  timezone: 'UTC',
  pick: 'newest',
  withinSeconds: null,
  to: null,
  keep: 7,
};

/** The audit log's head is published daily (00:05 UTC) unless `schedules:` says otherwise. */
export const DEFAULT_AUDIT_ANCHOR: Schedule = {
  name: 'audit-anchor',
  cron: '5 0 * * *',
  check: 'audit',
  remind: null,
  service: null,
  timezone: 'UTC',
  pick: 'newest',
  withinSeconds: null,
  to: null,
  keep: 7,
};

/**
 * The plan is checked against AWS every 30 minutes (like ARC's plan evaluation) when a service
 * uses AWS, unless `schedules:` says otherwise.
 */
export const DEFAULT_PLAN_CHECK: Schedule = {
  ...DEFAULT_STALENESS,
  name: 'plan-check',
  cron: '*/30 * * * *',
  check: 'plan',
};

export function buildJobs(config: Config): Job[] {
  const has = (check: Schedule['check']) => config.schedules.some((entry) => entry.check === check);
  const aws = Object.values(config.services).some(usesAws);
  const entries = [
    ...config.schedules,
    ...(has('staleness') ? [] : [DEFAULT_STALENESS]),
    ...(has('audit') ? [] : [DEFAULT_AUDIT_ANCHOR]),
    ...(has('plan') || !aws ? [] : [DEFAULT_PLAN_CHECK]),
  ];
  return entries.map((entry) => ({
    name: entry.name,
    cron: entry.cron,
    timezone: entry.timezone,
    catchesUp: entry.remind !== null,
    run: (context) => runEntry(entry, context),
  }));
}

async function runEntry(entry: Schedule, context: JobContext): Promise<string> {
  if (entry.remind !== null) return remind(entry.remind, context);
  switch (entry.check) {
    case 'backups':
      return backupsCheck(entry.service, context);
    case 'lag':
      return lagCheck(entry.service, context);
    case 'plan':
      return planCheck(entry.service, context);
    case 'staleness':
      return stalenessCheck(context);
    case 'restore':
      return restoreCheck(entry, context);
    case 'backup-take':
      return backupTake(entry.service, context);
    case 'audit':
      return anchorAuditLog(context);
    case 'store-backup':
      return storeBackup(entry, context);
    default:
      throw new ConfigError(`schedules.${entry.name}.check`, `"${entry.check}" has no job`);
  }
}

const HEADLINE: Record<Exclude<AlertDecision, null>, string> = {
  failure: ':x: *failing*',
  changed: ':x: *still failing, differently*',
  'still-failing': ':x: *still failing* (daily reminder)',
  recovered: ':white_check_mark: *recovered*',
};

async function backupsCheck(only: string | null, context: JobContext): Promise<string> {
  const db = context.engine.store;
  const results = await checkBackups(
    context.config,
    db,
    (service, kind) => context.engine.providersFor(service, kind),
    context.now,
    only ?? undefined,
  );
  for (const result of results) {
    const decision = await nextAlert(db, result.check, result.service, result, context.now);
    if (decision)
      await context.notifier.post({
        text: `${HEADLINE[decision]} ${result.check === 'pitr' ? 'point-in-time recovery check' : result.check === 'snapshots' ? 'snapshot check' : 'backup check'} of *${escape(result.service)}*: ${clip(result.summary, 1000)}`,
        alert: checkAlert(result.check, result.service, decision, result.summary),
      });
  }
  return `${results.filter((r) => r.ok).length}/${results.length} services have good backups`;
}

async function backupTake(only: string | null, context: JobContext): Promise<string> {
  const db = context.engine.store;
  const results = await takeBackups(
    context.config,
    db,
    (service, kind) => context.engine.providersFor(service, kind),
    { clock: () => context.now, actor: 'system', only },
  );
  for (const result of results) {
    const decision = await nextAlert(db, 'backup-take', result.service, result, context.now);
    if (decision)
      await context.notifier.post({
        text: `${HEADLINE[decision]} backup of *${escape(result.service)}*: ${clip(result.summary, 1000)}`,
        alert: checkAlert('backup-take', result.service, decision, result.summary),
      });
  }
  return (
    results.map((result) => `${result.service}: ${result.ok ? 'taken' : 'FAILED'}`).join(', ') ||
    'no service has backups lifeboat can take'
  );
}

async function lagCheck(only: string | null, context: JobContext): Promise<string> {
  const db = context.engine.store;
  const results = await checkServicesReplication(
    context.config,
    db,
    (service, kind, promote) => context.engine.providersFor(service, kind, promote),
    context.now,
    only,
  );
  for (const result of results) {
    // A failover, failback or switchover in flight passes through "no writer" and "unprotected"
    // on purpose: its thread says so. Two primaries are never on purpose.
    const isRunInFlight = (await listRunsInFlight(db, result.service)).some(isLocking);
    if (isRunInFlight && result.state !== 'TWO PRIMARIES') continue;
    const repeatMs =
      result.state === 'UNPROTECTED'
        ? context.config.alerts.unprotectedRepeatSeconds * 1000
        : REMIND_EVERY_MS;
    const decision = await nextAlert(db, 'lag', result.service, result, context.now, repeatMs);
    if (!decision) continue;
    const headline =
      result.state === 'TWO PRIMARIES' && decision !== 'recovered'
        ? ':rotating_light: *TWO PRIMARIES*'
        : result.state === 'UNPROTECTED' && decision !== 'recovered'
          ? `:warning: *UNPROTECTED*${decision === 'still-failing' ? ' (reminder)' : ''}`
          : HEADLINE[decision];
    await context.notifier.post({
      text: `${headline} replication of *${escape(result.service)}*: ${escape(result.summary)}`,
      alert: replicationAlert(result.service, result.state, decision, result.summary),
    });
  }
  const failing = results.filter((result) => !result.ok);
  return failing.length === 0
    ? 'replication within RPO'
    : failing.map((result) => `${result.service}: ${result.state}`).join(', ');
}

async function planCheck(only: string | null, context: JobContext): Promise<string> {
  const lines = await checkPlanLive(
    context.config,
    awsLiveDeps((service, kind) => context.engine.providersFor(service, kind), context.now),
    only ?? undefined,
  );
  const results = planResults(lines, context.config, context.now);
  for (const result of results) {
    await recordCheckResult(context.engine.store, 'plan', result, { state: result.state });
    const decision = await nextAlert(
      context.engine.store,
      'plan',
      result.service,
      result,
      context.now,
    );
    if (decision)
      await context.notifier.post({
        text: `${HEADLINE[decision]} plan check of *${escape(result.service)}* (what a failover would touch): ${clip(result.summary, 1000)}`,
        alert: checkAlert('plan', result.service, decision, result.summary),
      });
  }
  return `${results.filter((r) => r.ok).length}/${results.length} services' plans check out`;
}

async function restoreCheck(entry: Schedule, context: JobContext): Promise<string> {
  const db = context.engine.store;
  const reports = await runRestoreTests(
    context.config,
    db,
    (service, kind) => context.engine.providersFor(service, kind),
    { pick: entry.pick, withinSeconds: entry.withinSeconds, now: context.now },
    entry.service,
  );
  for (const report of reports) {
    const decision = await nextAlert(db, 'restore', report.service, report, context.now);
    if (decision)
      await context.notifier.post({
        text: `${HEADLINE[decision]} restore test of *${escape(report.service)}*: ${clip(report.summary, 1000)}`,
        alert: checkAlert('restore', report.service, decision, report.summary),
      });
  }
  return (
    reports.map((report) => `${report.service}: ${report.ok ? 'ok' : 'FAILED'}`).join(', ') ||
    'no service has backups'
  );
}

/** A scheduled check's page: opened while it fails (repeats update it), resolved when it recovers. */
function checkAlert(
  check: string,
  service: string,
  decision: Exclude<AlertDecision, null>,
  summary: string,
): PageAlert {
  const recovered = decision === 'recovered';
  return {
    event: 'check.failing',
    action: recovered ? 'resolve' : 'trigger',
    dedupKey: `lifeboat-check-${check}-${service}`,
    severity: recovered ? 'info' : 'error',
    summary: `lifeboat: ${check} check of ${service} ${recovered ? 'recovered' : 'failing'}: ${summary.split('\n')[0] ?? ''}`,
    service,
    runId: null,
    details: { check, service, summary },
  };
}

/** Replication's page: TWO PRIMARIES and UNPROTECTED are their own events; one incident per service. */
function replicationAlert(
  service: string,
  state: string,
  decision: Exclude<AlertDecision, null>,
  summary: string,
): PageAlert {
  const recovered = decision === 'recovered';
  const event: PageEvent =
    state === 'TWO PRIMARIES'
      ? 'two-primaries'
      : state === 'UNPROTECTED'
        ? 'unprotected'
        : 'check.failing';
  return {
    event,
    ...(recovered
      ? { alsoFor: ['two-primaries', 'unprotected', 'check.failing'] as PageEvent[] }
      : {}),
    action: recovered ? 'resolve' : 'trigger',
    dedupKey: `lifeboat-replication-${service}`,
    severity: recovered ? 'info' : event === 'two-primaries' ? 'critical' : 'error',
    summary: `lifeboat: replication of ${service}: ${recovered ? 'recovered' : state}: ${summary.split('\n')[0] ?? ''}`,
    service,
    runId: null,
    details: { service, state, summary },
  };
}

/**
 * The audit log's head, published where the database cannot reach: posted to the channel and
 * written to every backups bucket. `lifeboat audit verify --since <hash>` then proves that
 * nothing after it was cut, even by someone who rebuilt the head row to match.
 */
async function anchorAuditLog(context: JobContext): Promise<string> {
  const db = context.engine.store;
  const verified = await verifyAuditLog(db);
  if (!verified.ok) {
    await context.notifier.post({
      text: `:rotating_light: *The audit log is broken* at event #${verified.brokenAt}: ${escape(verified.reason)}. Run \`lifeboat audit verify\`.`,
    });
    return `broken at #${verified.brokenAt}`;
  }
  await recordAuditCheckpoint(db, { seq: verified.count, hash: verified.headHash }, context.now);
  const head = await auditHead(db);
  const at = context.now.toISOString();
  const record = JSON.stringify({ seq: head.seq, hash: head.hash, events: verified.count, at });
  const written: string[] = [];
  const failed: string[] = [];
  const buckets = new Set<string>();
  for (const service of Object.values(context.config.services)) {
    if (!service.backups || buckets.has(service.backups.bucket)) continue;
    buckets.add(service.backups.bucket);
    const store = context.engine.providersFor(service, 'restore-test').backups;
    if (!store) continue;
    await store
      .putAnchor(`${at.slice(0, 10)}-${head.seq}.json`, record)
      .then((where) => written.push(where))
      .catch((error: unknown) =>
        failed.push(`${service.backups!.bucket}: ${(error as Error).message}`),
      );
  }
  await context.notifier.post({
    text:
      `:anchor: Audit log head #${head.seq} \`${head.hash}\` (${at.slice(0, 16).replace('T', ' ')} UTC). ` +
      `Later, \`lifeboat audit verify --since ${head.hash}\` proves nothing after it was cut.` +
      (written.length ? ` Also written to ${written.join(', ')}.` : '') +
      (failed.length ? ` Could not write it to ${clip(failed.join('; '), 500)}.` : ''),
  });
  return `anchored #${head.seq}${failed.length ? `, ${failed.length} bucket(s) failed` : ''}`;
}

/**
 * A proven copy of the whole store into `to:`, named by its time; the oldest beyond `keep:` are
 * removed. A failure throws: the scheduler posts it to the channel.
 */
async function storeBackup(entry: Schedule, context: JobContext): Promise<string> {
  const folder = entry.to!;
  const stamp = context.now.toISOString().replace(/[-:]/g, '').slice(0, 15);
  const copy = await backupStore(context.engine.store, path.join(folder, `lifeboat-${stamp}Z.db`));
  const copies = readdirSync(folder)
    .filter((name) => /^lifeboat-\d{8}T\d{6}Z\.db$/.test(name))
    .sort();
  const removed = copies.slice(0, Math.max(0, copies.length - entry.keep));
  for (const name of removed) rmSync(path.join(folder, name));
  return `backed up to ${copy.file}: ${copy.runs} runs, ${copy.auditEvents} audit events, chain intact; ${removed.length} older cop${removed.length === 1 ? 'y' : 'ies'} removed`;
}

async function stalenessCheck(context: JobContext): Promise<string> {
  const library = loadRunbookLibrary(context.config.runbooksDir);
  const problems = [
    ...library.runbooks
      .filter((runbook) => isStale(runbook, context.now))
      .map((runbook) => `\`${runbook.name}\` was last reviewed ${runbook.reviewed ?? 'never'}`),
    ...library.errors.map((error) => error.message),
    ...checkRunbookReferences(context.config, library.runbooks),
  ];
  if (problems.length > 0) {
    await context.notifier.post({
      text: `:spiral_note_pad: *Runbooks need attention* (a plan nobody updates is useless):\n${problems.map((p) => `• ${clip(p, 300)}`).join('\n')}`,
    });
  }
  return `${problems.length} runbook problem(s)`;
}

async function remind(name: string, context: JobContext): Promise<string> {
  const db = context.engine.store;
  const runbook = loadRunbookLibrary(context.config.runbooksDir).runbooks.find(
    (r) => r.name === name,
  );
  if (!runbook) throw new Error(`reminder for runbook "${name}", which does not exist`);
  const real = (await listRunsInFlight(db, runbook.service)).filter(isLocking);
  if (real.length > 0) return `quiet: ${real[0]!.kind} ${real[0]!.id} in flight`;
  const last = (await listRuns(db, 500)).find(
    (run) => run.runbook === name && run.finishedAt !== null,
  );
  const objective = runbook.service
    ? context.config.services[runbook.service]?.rtoSeconds
    : undefined;
  const history = last
    ? `Last run ${last.finishedAt!.slice(0, 10)}: ${last.status}${last.rtoSeconds === null ? '' : `, RTO ${formatDuration(last.rtoSeconds)}${objective === undefined ? '' : last.rtoSeconds <= objective ? ' (met the objective)' : ` (MISSED the ${formatDuration(objective)} objective)`}`}.`
    : 'It has never been run.';
  await context.notifier.post({
    text: `:alarm_clock: *DR test due:* ${clip(runbook.title, 150)} (\`${escape(name)}\`, ${runbook.kind}). ${history}`,
    startRunbook: name,
  });
  return 'reminded';
}
