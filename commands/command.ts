// The shape every `/dr` subcommand shares. The Slack adapter, the CLI and the local console all
// dispatch through the table in index.ts; a command parses its arguments, calls the core and
// returns data for the adapter to render — it never talks to Slack itself.

import type { Config } from '../src/config.js';
import { NotFound, UsageError } from '../src/errors.js';
import type { Engine } from '../src/engine/engine.js';
import type { Actor } from '../src/engine/core.js';
import type { RunKind } from '../src/runbook/model.js';
import type { Store } from '../src/store/db.js';

export interface CommandContext {
  config: Config;
  store: Store;
  /** The Slack user ID (or `--as` user) giving the command. */
  user: string;
  /** The person as the adapter resolved them (user groups); else `{ user, via: 'slack' }`. */
  actor?: Actor;
  clock: () => Date;
  /** Present where runs can be started or changed (Slack, console, break-glass). */
  engine?: Engine;
  /**
   * A service's providers where no engine is at hand: the CLI's `status`, which reads and probes
   * only, does not load the engine and its actions.
   */
  providersFor?: Engine['providersFor'];
  /** Idempotency key of this request (a retried slash command carries the same one). */
  key?: string;
}

/** The commands named after the runs that promote a database (/dr failover, failback, switchover). */
export const CONFIRMED_KINDS = ['failover', 'failback', 'switchover'] as const;
export type ConfirmedKind = (typeof CONFIRMED_KINDS)[number];

/** What a command answers: a message for the person, a confirmation to show, or a started run. */
export type Reply =
  /** `alarms`: what is wrong right now (TWO PRIMARIES …): the CLI exits non-zero on them. */
  | { type: 'message'; text: string; alarms?: string[]; image?: ReplyImage }
  | { type: 'confirm'; kind: RunKind; service: string; runbook: string }
  | { type: 'started'; runId: string; text: string };

/** A picture that goes with a message (an RTO chart): uploaded in Slack, inline in the console. */
export interface ReplyImage {
  png: Buffer;
  filename: string;
  title: string;
}

export interface Command<Result> {
  name: string;
  /** One line, as shown in `/dr help` and in usage errors. */
  usage: string;
  summary: string;
  run(args: readonly string[], context: CommandContext): Result | Promise<Result>;
  /**
   * It waits on the network or reads much of the store (an async `run`): the Slack adapter acks
   * before running it and answers through response_url. The rest answer inside the ack.
   */
  acksFirst?: true;
  /**
   * How a chat shows a command that returns data (`history`: the CLI prints its own table from the
   * same data). A command without one returns a Reply.
   */
  reply?(result: Result): Reply;
}

export function needEngine(context: CommandContext): Engine {
  if (!context.engine) throw new Error('this command needs the run engine');
  return context.engine;
}

/** A service's providers: the context's own, else the engine's. */
export function providersOf(context: CommandContext): Engine['providersFor'] {
  if (context.providersFor) return context.providersFor;
  const engine = needEngine(context);
  return (service, kind, promote) => engine.providersFor(service, kind, promote);
}

/** The named service, or the only one configured; otherwise a usage error listing them. */
export function pickService(
  args: readonly string[],
  context: CommandContext,
  usage: string,
): string {
  const services = Object.keys(context.config.services);
  const [name, ...extra] = args;
  if (extra.length > 0) throw new UsageError(`usage: ${usage}`);
  if (name === undefined) {
    if (services.length === 1) return services[0]!;
    throw new UsageError(
      `which service? usage: ${usage} (known: ${services.join(', ') || 'none configured'})`,
    );
  }
  if (!services.includes(name))
    throw new NotFound(`no service "${name}" (known: ${services.join(', ') || 'none configured'})`);
  return name;
}
