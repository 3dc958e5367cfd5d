// What the Slack listeners share: the Bolt app, the engine they call, and the helpers that turn a
// Slack person into an engine Actor and an answer into an ephemeral reply. Each listener file
// (slash-command.ts, confirmation.ts, buttons.ts) registers itself on the app through this.

import type { App, RespondFn } from '@slack/bolt';
import type { Actor } from '../engine/core.js';
import type { AfterAcks } from './after-acks.js';
import type { Config } from '../config.js';
import type { Engine } from '../engine/engine.js';
import type { Logger } from '../log.js';
import type { ThreadPublisher } from './thread-publisher.js';
import type { UserGroups } from './usergroups.js';

export interface SlackWiring {
  app: App;
  config: Config;
  engine: Engine;
  logger?: Logger;
  publisher: ThreadPublisher;
  usergroups: UserGroups;
  /** What a listener awaits after its ack before working: its turn behind the unacked requests. */
  afterAcks: AfterAcks;
}

/** What a button does with its value, for the person who clicked it. */
export type ButtonHandler = (
  value: string,
  actor: Actor,
  key: string,
  triggerId: string,
) => unknown;

/** A step's button or modal value: "RUN:STEP". */
export function runStep(value: string): { runId: string; stepIndex: number } {
  const [runId = '', step = '0'] = value.split(':');
  return { runId, stepIndex: Number(step) };
}

/** A pattern matching exactly these ids. */
export function exactly(ids: readonly string[]): RegExp {
  return new RegExp(`^(${ids.map((id) => id.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|')})$`);
}

export async function ephemeral(respond: RespondFn, text: string): Promise<void> {
  await respond({ response_type: 'ephemeral', replace_original: false, text });
}
