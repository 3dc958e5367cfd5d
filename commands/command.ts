// The shape every `/dr` subcommand shares. The Slack adapter, the CLI and the local console all
// dispatch through the table in index.ts; a command parses its arguments, calls the core and
// returns data for the adapter to render — it never renders or talks to Slack itself.

import type { Config } from '../src/config.js';
import type { Store } from '../src/store/db.js';

export interface CommandContext {
  config: Config;
  store: Store;
  /** The Slack user ID (or `--as` user) giving the command. */
  user: string;
  clock: () => Date;
}

export interface Command<Result> {
  name: string;
  /** One line, as shown in `/dr help` and in usage errors. */
  usage: string;
  summary: string;
  run(args: readonly string[], context: CommandContext): Result | Promise<Result>;
}
