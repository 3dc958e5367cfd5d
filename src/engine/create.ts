// The engine wired to a config: its store, its runbooks folder, real providers. What the CLI, the
// Slack app and local mode start from.

import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import { createServiceProviders, type ProviderOptions } from '../providers/index.js';
import { openStoreAt } from '../store/open.js';
import { runbookFilesOrNone } from '../runbook/files.js';
import type { ActionRegistry } from '../actions/registry.js';
import { Engine } from './engine.js';

export async function createEngine(
  config: Config,
  options: {
    logger?: Logger;
    actions?: ActionRegistry;
    clock?: () => Date;
    providers?: ProviderOptions;
    announce?: (text: string) => Promise<{ channel: string; ts: string }>;
  } = {},
): Promise<Engine> {
  const store = await openStoreAt(config.store, { clock: options.clock });
  return new Engine({
    store,
    config,
    // The markdown parser is loaded when a run starts or a plan is shown, not for `run status` —
    // and by the bundled CLI only for a runbook the runbook cache does not hold.
    loadRunbook: async (name) => {
      const { cachedRunbookReader } = await import('../runbook/cache.js');
      const reader = await cachedRunbookReader(() => runbookFilesOrNone(config.runbooksDir));
      return reader.resolveRunbookByName(name, config.runbooksDir);
    },
    providersFor: (service, kind, promote) =>
      createServiceProviders(service, kind, { ...options.providers, promote }),
    actions: options.actions,
    clock: options.clock,
    logger: options.logger,
    announce: options.announce,
  });
}
