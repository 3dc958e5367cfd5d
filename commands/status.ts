// `/dr status [service]`: readiness per service — replication lag against the RPO, runs in flight,
// and the last run of each kind.

import { formatDuration } from '../src/duration.js';
import { latestResults } from '../src/checks/backups.js';
import { listRuns, listRunsInFlight } from '../src/store/runs.js';
import { pickService } from './failover.js';
import { nextDue } from './schedule.js';
import { needEngine, type Command, type Reply } from './command.js';

export const status: Command<Reply> = {
  name: 'status',
  usage: '/dr status [service]',
  summary: 'readiness: lag against the RPO, runs in flight, the last drill of each kind',
  async run(args, context) {
    const names =
      args.length === 0
        ? Object.keys(context.config.services)
        : [pickService(args, context, status.usage)];
    const lines: string[] = [];
    for (const name of names) {
      const service = context.config.services[name]!;
      const lag = await needEngine(context)
        .measureLagFor(name, 'failover')
        .catch((error: Error) => `lag unknown: ${error.message}`);
      const backup = latestResults(context.store.db, 'backups').find(
        (result) => result.service === name,
      );
      lines.push(
        `*${name}* — RTO ${formatDuration(service.rtoSeconds)}, RPO ${formatDuration(service.rpoSeconds)}`,
        `• replication: ${lag}`,
      );
      if (service.backups) {
        lines.push(
          `• backups: ${backup ? `${backup.ok ? 'ok' : 'FAILING'} — ${backup.summary} (checked ${backup.at.slice(0, 16).replace('T', ' ')} UTC)` : 'never checked: /dr backups check'}`,
        );
      }
      for (const run of listRunsInFlight(context.store.db, name))
        lines.push(
          `• in flight: ${run.kind} \`${run.id}\` (${run.status}), started by <@${run.startedBy}>`,
        );
      const recent = listRuns(context.store.db, 200).filter(
        (run) => run.service === name && run.finishedAt,
      );
      for (const kind of ['failover', 'drill', 'tabletop', 'restore-test'] as const) {
        const last = recent.find((run) => run.kind === kind);
        lines.push(
          `• last ${kind}: ${last ? `${last.finishedAt!.slice(0, 10)} ${last.status}${last.rtoSeconds === null ? '' : `, RTO ${formatDuration(last.rtoSeconds)}`}` : 'never'}`,
        );
      }
    }
    const reminders = context.config.schedules.filter((entry) => entry.remind !== null);
    if (reminders.length) {
      lines.push(
        '*Next DR tests due*',
        ...reminders.map(
          (entry) =>
            `• \`${entry.remind}\`: ${nextDue(entry)?.toISOString().slice(0, 16).replace('T', ' ') ?? 'never'} UTC (${entry.name})`,
        ),
      );
    }
    return { type: 'message', text: lines.join('\n') || 'no services configured' };
  },
};
