// What an action needs from the service, or a clear reason it cannot have it.

import { ProviderError } from '../errors.js';
import type { ActionContext } from './types.js';
import type { DatabaseProvider } from '../providers/types.js';

export function needDatabase(context: ActionContext): DatabaseProvider {
  if (context.providers.database) return context.providers.database;
  throw new ProviderError(
    context.service ? `service ${context.service.name}` : `run ${context.run.id}`,
    `${context.step.action} needs a service with a database: start the run for a configured service`,
    true,
  );
}
