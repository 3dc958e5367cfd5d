// `/dr schedule`: the scheduled checks and DR-test reminders, with when each is next due.

import type { Schedule } from '../src/config.js';
import { UsageError } from '../src/errors.js';
import { nextSlot } from '../src/schedule/cron-time.js';
import type { Command, Reply } from './command.js';

export const schedule: Command<Reply> = {
  name: 'schedule',
  usage: '/dr schedule',
  summary: 'scheduled checks and DR-test reminders, and when each is next due',
  run(args, context) {
    if (args.length > 0) throw new UsageError(`usage: ${schedule.usage}`);
    const entries = context.config.schedules;
    const now = context.clock();
    if (entries.length === 0)
      return { type: 'message', text: 'Nothing is scheduled: add schedules: to lifeboat.yml.' };
    const lines = entries.map((entry) => {
      const next = nextDue(entry, now);
      const what = entry.check ? `check ${entry.check}` : `remind: ${entry.remind}`;
      return `• *${entry.name}* — ${what} · \`${entry.cron}\` ${entry.timezone} · next ${next.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
    });
    return { type: 'message', text: ['*Schedule*', ...lines].join('\n') };
  },
};

/** When a schedule entry next fires after `now`. */
export function nextDue(entry: Schedule, now: Date): Date {
  return nextSlot(entry.cron, entry.timezone, now);
}
