// wait: pause the run for a duration (`action: wait 2m`); without one, the DNS TTL (or 60 s), so
// clients have picked up a DNS change before the next step checks it. The deadline is committed
// before waiting, so a restarted bot waits only for what is left.

import { formatDuration, parseDurationSeconds } from '../../duration.js';
import type { Action, ActionContext } from '../types.js';

function waitSeconds(context: ActionContext): number {
  const argument = context.step.actionArgument;
  if (argument) return parseDurationSeconds(argument) ?? 60;
  const dns = context.service?.dns;
  return dns && dns.mode === 'upsert' ? dns.ttl : 60;
}

export const wait: Action = {
  name: 'wait',
  plan: (context) => `Wait ${formatDuration(waitSeconds(context))} before the next step.`,
  prepare: (context) => ({
    until: new Date(context.clock().getTime() + waitSeconds(context) * 1000).toISOString(),
  }),
  async run(context) {
    const until = Date.parse(String(context.previous.until));
    const remainingMs = Math.max(0, until - context.clock().getTime());
    await context.sleep(remainingMs);
    return {
      summary: `waited ${formatDuration(waitSeconds(context))}`,
      details: { until: context.previous.until },
    };
  },
};
