// `/dr abort <run> <reason>` and `/dr report <run>`: act on or read one run.

import { UsageError } from '../src/errors.js';
import { renderReport } from '../src/report.js';
import { renderRtoChart, rtoHistory } from '../src/chart/rto-trend.js';
import { needEngine, type Command, type Reply } from './command.js';

export const abort: Command<Reply> = {
  name: 'abort',
  acksFirst: true,
  usage: '/dr abort <run> [--force] <reason>',
  summary: 'stop a run, saying why (--force: even while an infrastructure action runs)',
  async run(args, context) {
    const [runId, ...rest] = args;
    const force = rest[0] === '--force';
    const reason = force ? rest.slice(1) : rest;
    if (!runId || reason.length === 0) throw new UsageError(`usage: ${abort.usage}`);
    const result = await needEngine(context).abortRun({
      key: context.key ?? `abort:${runId}:${context.user}`,
      actor: context.actor ?? { user: context.user, via: 'slack' },
      runId,
      reason: reason.join(' '),
      force,
    });
    return { type: 'message', text: result.message };
  },
};

export const report: Command<Reply> = {
  name: 'report',
  acksFirst: true,
  usage: '/dr report <run>',
  summary: "a run's report: RTO and RPO against objectives, phases, timeline, approvals, notes",
  async run(args, context) {
    if (args.length !== 1) throw new UsageError(`usage: ${report.usage}`);
    const view = await needEngine(context).getRun(args[0]!);
    const text = await renderReport(view, context.store, context.config, 'slack', context.clock());
    const service = view.run.service ? context.config.services[view.run.service] : undefined;
    if (!service) return { type: 'message', text };
    // The service's RTO across its recoveries, as a picture (the report has it as a sparkline).
    const points = await rtoHistory(context.store, service.name);
    return {
      type: 'message',
      text,
      ...(points.length
        ? {
            image: {
              png: renderRtoChart(points, service.rtoSeconds),
              filename: `rto-${service.name}.png`,
              title: `${service.name}: achieved RTO of the last ${points.length} recoveries against the objective`,
            },
          }
        : {}),
    };
  },
};
