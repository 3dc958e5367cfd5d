// One scheduled job of a config, as the scheduler would build it for a `check:` schedule entry —
// for tests that run a check's job by hand at the clock they choose.

import type { Config, Schedule } from '../../src/config.js';
import { buildJobs, type Job } from '../../src/schedule/jobs.js';

export function jobOf(config: Config, check: NonNullable<Schedule['check']>): Job {
  const name = `${check}-job`;
  const job = buildJobs({
    ...config,
    schedules: [
      {
        name,
        cron: '* * * * *',
        check,
        remind: null,
        service: null,
        timezone: 'UTC',
        pick: 'newest',
        withinSeconds: null,
        to: null,
        keep: 7,
      },
    ],
  }).find((each) => each.name === name);
  if (!job) throw new Error(`no job for check ${check}`);
  return job;
}
