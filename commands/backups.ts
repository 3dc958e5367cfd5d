// `/dr backups [check]`: the last backup check of each service, or a new one now.

import { UsageError } from '../src/errors.js';
import { checkBackups, latestResults, type CheckResult } from '../src/checks/backups.js';
import { createServiceProviders } from '../src/providers/index.js';
import { clip, escape } from '../src/mrkdwn.js';
import type { Command, Reply } from './command.js';

export const backups: Command<Reply> = {
  name: 'backups',
  acksFirst: true,
  usage: '/dr backups [check]',
  summary: 'the newest backup of each service: fresh, not shrunken — `check` checks now',
  async run(args, context) {
    if (args.length > 1 || (args[0] !== undefined && args[0] !== 'check'))
      throw new UsageError(`usage: ${backups.usage}`);
    const withBackups = Object.values(context.config.services).filter((service) => service.backups);
    if (withBackups.length === 0)
      return { type: 'message', text: 'No service has backups: in lifeboat.yml.' };
    const results =
      args[0] === 'check'
        ? await checkBackups(
            context.config,
            context.store,
            // The engine's providers carry local mode's S3 keys; without it, the SDK's chain.
            context.engine
              ? (service, kind) => context.engine!.providersFor(service, kind)
              : createServiceProviders,
            context.clock(),
          )
        : await latestResults(
            context.store,
            'backups',
            withBackups.map((service) => service.name),
          );
    const checked = new Set(results.map((result) => result.service));
    const never = withBackups
      .filter((service) => !checked.has(service.name))
      .map((service) => `• *${escape(service.name)}*: never checked — \`/dr backups check\``);
    return { type: 'message', text: ['*Backups*', ...results.map(line), ...never].join('\n') };
  },
};

function line(result: CheckResult): string {
  return `• ${result.ok ? ':white_check_mark:' : ':x:'} *${escape(result.service)}*: ${clip(result.summary, 1000)} _(checked ${result.at.slice(0, 16).replace('T', ' ')} UTC)_`;
}
