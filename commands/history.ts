// `/dr history [N]`: the most recent runs, newest first, with their achieved RTO.

import { UsageError } from '../src/errors.js';
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
    return listRuns(store.db, limit);
  },
};
