// db.scale-up: the pilot-light strategy's second move — the standby runs small to cost little, and
// once promoted it is given the class that carries the full load (`database.scale_up` of an RDS
// service), waited on until RDS runs it as that class. The application's own scaling is the
// team's (a step of theirs, or a custom action). Changes infrastructure: two-person approval.

import { ProviderError } from '../../errors.js';
import { needDatabase } from '../need.js';
import type { Action, ActionContext } from '../types.js';

function classOf(context: ActionContext): string | null {
  const database = context.service?.database;
  return database?.provider === 'aws-rds' ? (database.scale_up?.instance_class ?? null) : null;
}

export const scaleUp: Action = {
  name: 'db.scale-up',
  skipReason: (context) => {
    const database = context.providers.database;
    if (!database) return 'This run has no database to scale.';
    if (!database.scaleUp)
      return `${database.targetName} is self-managed: lifeboat cannot resize it — scale the server up yourself (a step of your runbook), or leave it as it is.`;
    if (!classOf(context))
      return `${context.service?.name ?? 'The service'} has no database.scale_up.instance_class in lifeboat.yml, so its DR database stays the size it is.`;
    return null;
  },
  plan: (context) =>
    `Scale ${context.providers.database?.targetName ?? 'the promoted database'} up to ${classOf(context) ?? 'its configured class'}: ModifyDBInstance (ApplyImmediately), then wait until it runs as that class. A short interruption while RDS moves it.`,
  async run(context) {
    const database = needDatabase(context);
    const instanceClass = classOf(context)!;
    if (!database.scaleUp)
      throw new ProviderError(database.targetName, 'cannot be scaled by lifeboat', true);
    const result = await database.scaleUp(database.target, instanceClass, {
      onProgress: context.progress,
    });
    return { summary: result.detail, details: { instanceClass } };
  },
  async verify(context, outcome) {
    const database = needDatabase(context);
    const now = (await database.instanceClass?.(database.target)) ?? null;
    const wanted = String(outcome.details.instanceClass);
    return now === wanted
      ? { ok: true, summary: `${database.targetName} runs as ${now}` }
      : {
          ok: false,
          summary: `${database.targetName} runs as ${now ?? 'an unknown class'}, not ${wanted}`,
        };
  },
};
