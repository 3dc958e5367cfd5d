// `/dr schedule`: the scheduled checks and DR-test reminders, with when each is next due.

import { createTask } from 'node-cron';
import type { Schedule } from '../src/config.js';
import { UsageError } from '../src/errors.js';
import type { Command, Reply } from './command.js';

export const schedule: Command<Reply> = {
  name: 'schedule',
  usage: '/dr schedule',
  summary: 'scheduled checks and DR-test reminders, and when each is next due',
  run(args, context) {
    if (args.length > 0) throw new UsageError(`usage: ${schedule.usage}`);
    const entries = context.config.schedules;
    if (entries.length === 0)
      return { type: 'message', text: 'Nothing is scheduled: add schedules: to lifeboat.yml.' };
    const lines = entries.map((entry) => {
      const next = nextDue(entry);
      const what = entry.check ? `check ${entry.check}` : `remind: ${entry.remind}`;
      return `• *${entry.name}* — ${what} · \`${entry.cron}\` ${entry.timezone} · next ${next ? `${next.toISOString().slice(0, 16).replace('T', ' ')} UTC` : 'never'}`;
    });
    return { type: 'message', text: ['*Schedule*', ...lines].join('\n') };
  },
};

/** When a schedule entry next fires, or null. */
export function nextDue(entry: Schedule): Date | null {
  const task = createTask(entry.cron, () => undefined, { timezone: entry.timezone });
  const [next] = task.getNextRuns(1); // getNextRun() answers null for a task that is not started
  void task.destroy();
  return next ?? null;
}
