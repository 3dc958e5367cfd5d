// `/dr history [N]`: the most recent runs, newest first, with their achieved RTO.

import { formatDuration } from '../src/duration.js';
import { shortExposure } from '../src/engine/run-view.js';
import { UsageError } from '../src/errors.js';
import { escape, mention, slackTime } from '../src/mrkdwn.js';
import { listRuns, type RunRecord } from '../src/store/runs.js';
import type { Command } from './command.js';

export const history: Command<RunRecord[]> = {
  name: 'history',
  usage: '/dr history [N]',
  summary: 'the last N runs (default 20), newest first, with their achieved RTO',
  run(args, { store }) {
    const [count, ...extra] = args;
    const limit = count === undefined ? 20 : Number(count);
    if (extra.length > 0 || !Number.isInteger(limit) || limit < 1) {
      throw new UsageError(`usage: ${history.usage} (N is a number of runs, like 20)`);
    }
    return listRuns(store, limit);
  },
  reply(runs) {
    if (runs.length === 0) return { type: 'message', text: 'No runs yet.' };
    const lines = runs.map(
      (run) =>
        `• \`${run.id}\` ${slackTime(run.startedAt)} ${run.kind}, runbook \`${escape(run.runbook)}\` by ${mention(run.startedBy)} — ${run.status}${run.rtoSeconds === null ? '' : `, RTO ${formatDuration(run.rtoSeconds)}`}${run.rpoExposureSeconds === null && !run.rpoExposureDetail ? '' : `, RPO ${shortExposure(run)}`}`,
    );
    return { type: 'message', text: ['*Recent runs*', ...lines].join('\n') };
  },
};
