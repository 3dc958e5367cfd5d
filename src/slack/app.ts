// The Slack adapter: `/dr` commands, buttons and modals, wired to the engine. No rules live here —
// it parses, calls the engine, renders. Every handler acks first and works after (Slack wants an
// answer within 3 s), and every error becomes an ephemeral reply through error-reply.ts.

import { App, LogLevel, type RespondFn } from '@slack/bolt';
import type { WebClient } from '@slack/web-api';
import { findCommand, COMMANDS } from '../../commands/index.js';
import { runbook as runbookCommand } from '../../commands/exercise.js';
import type { Reply } from '../../commands/command.js';
import type { RunKind } from '../runbook/model.js';
import type { Config } from '../config.js';
import { formatDuration } from '../duration.js';
import type { RunRecord } from '../store/runs.js';
import { shortExposure } from '../engine/run-view.js';
import { ConfigError, UsageError } from '../errors.js';
import type { Engine } from '../engine/engine.js';
import type { Logger } from '../log.js';
import { errorReply } from './error-reply.js';
import { ActionId, BlockId, ViewId } from './ids.js';
import { ThreadPublisher } from './thread-publisher.js';
import { publishAppHome } from './app-home.js';
import { UserGroups } from './usergroups.js';
import type { Actor } from '../engine/core.js';
import { describeImpact, parseImpactTime } from '../impact-time.js';
import { confirmationModal, reasonModal } from './blocks/modals.js';
import { escape } from './blocks/kit.js';

export interface SlackAppDeps {
  config: Config;
  engine: Engine;
  logger?: Logger;
  /** Web API retries; tests shorten them. */
  retryConfig?: { retries: number; factor?: number; minTimeout?: number; maxTimeout?: number };
}

export interface SlackApp {
  app: App;
  publisher: ThreadPublisher;
  client: WebClient;
}

/** The tokens and secret have the right shape: checked before anything talks to Slack. */
export function checkSlackEnvironment(env: Config['env']): void {
  if (!env.slackBotToken?.startsWith('xoxb-'))
    throw new ConfigError('SLACK_BOT_TOKEN', 'is missing or not a bot token (xoxb-…)');
  if (env.slackAppToken !== null && !env.slackAppToken.startsWith('xapp-'))
    throw new ConfigError('SLACK_APP_TOKEN', 'is not an app-level token (xapp-…)');
  if (env.slackAppToken === null && !env.slackSigningSecret)
    throw new ConfigError(
      'SLACK_SIGNING_SECRET',
      'is required in HTTP mode (or set SLACK_APP_TOKEN for Socket Mode)',
    );
}

export function createSlackApp(deps: SlackAppDeps): SlackApp {
  const { config, engine, logger } = deps;
  const env = config.env;
  checkSlackEnvironment(env);
  const socketMode = env.slackAppToken !== null;

  const app = new App({
    token: env.slackBotToken!,
    ...(socketMode
      ? { socketMode: true, appToken: env.slackAppToken! }
      : { signingSecret: env.slackSigningSecret!, port: env.port }),
    logLevel: LogLevel.WARN,
    // serve() checks the token first, with retries (verify-token.ts); Bolt's own check in the
    // constructor cannot be retried and would crash the process when Slack is down.
    tokenVerificationEnabled: false,
    clientOptions: {
      ...(env.slackApiUrl ? { slackApiUrl: env.slackApiUrl } : {}),
      ...(deps.retryConfig ? { retryConfig: deps.retryConfig } : {}),
    },
  });
  const publisher = new ThreadPublisher({
    client: app.client,
    engine,
    defaultChannel: config.slackChannel,
    logger,
  });
  publisher.attach();
  const usergroups = new UserGroups(app.client, config, { logger });

  // A command that answers without I/O (help, runbook, history, starting a drill: a local SQLite
  // commit) answers inside the ack itself — one HTTP round trip, nothing left to do after. One that
  // waits on the network (status, backups, the confirmation modal) acks first and answers after.
  app.command('/dr', async ({ command, ack, respond, client }) => {
    const [name = 'help', ...args] = command.text.trim().split(/\s+/).filter(Boolean);
    const context = {
      config,
      store: engine.store,
      user: command.user_id,
      actor: await usergroups.actorOf(command.user_id),
      clock: engine.clock,
      engine,
      key: `slash:${command.trigger_id}`,
    };
    const failed = (error: unknown) =>
      errorReply(error, logger, { command: command.text, user: command.user_id });
    const found = findCommand(name);
    let answer: unknown;
    try {
      if (!found) {
        throw new UsageError(
          `unknown command "${name}". Commands: ${COMMANDS.map((c) => c.name).join(', ')} — \`/dr help\` for usage`,
        );
      }
      answer = found.run(args, context);
    } catch (error) {
      await ack({ response_type: 'ephemeral', text: failed(error) });
      return;
    }
    if (!(answer instanceof Promise)) {
      const reply = toReply(name, answer);
      if (reply.type !== 'confirm') {
        if (reply.type === 'started') publisher.bindChannel(reply.runId, command.channel_id);
        await ack({ response_type: 'ephemeral', text: reply.text });
        return;
      }
    }
    await ack();
    try {
      const reply = toReply(name, await answer);
      if (reply.type === 'confirm') {
        await openConfirmation(client, command.trigger_id, command.channel_id, reply);
        return;
      }
      if (reply.type === 'started') publisher.bindChannel(reply.runId, command.channel_id);
      await ephemeral(respond, reply.text);
    } catch (error) {
      await ephemeral(respond, failed(error));
    }
  });

  async function openConfirmation(
    client: WebClient,
    triggerId: string,
    channel: string,
    reply: Extract<Reply, { type: 'confirm' }>,
  ) {
    const preview = engine.previewPlan(reply.runbook, reply.service, reply.kind);
    const meta: ConfirmationMeta = {
      kind: reply.kind,
      service: reply.service,
      runbook: reply.runbook,
      channel,
    };
    const metadata = JSON.stringify(meta);
    const opened = await client.views.open({
      trigger_id: triggerId,
      view: confirmationModal(reply, preview.lines, 'measuring replication lag…', metadata),
    });
    // Lag takes a network round trip or two: show the modal first, then fill it in.
    const lag = await engine
      .measureLagFor(reply.service, reply.kind)
      .catch((error: Error) => `lag unknown: ${error.message}`);
    if (opened.view?.id) {
      await client.views.update({
        view_id: opened.view.id,
        hash: opened.view.hash,
        view: confirmationModal(reply, preview.lines, lag, JSON.stringify({ ...meta, lag })),
      });
    }
  }

  /** What the confirmation modal carries between its submissions. */
  interface ConfirmationMeta {
    kind: RunKind;
    service: string;
    runbook: string;
    channel: string;
    lag?: string;
    /** The impact time as typed and as read, once shown back to the person. */
    echoed?: { text: string; at: string };
  }

  app.view(ViewId.failoverConfirm, async ({ ack, view, body }) => {
    const values = view.state.values;
    const impactText = (values[BlockId.impactTime]?.value?.value ?? '').trim();
    const now = engine.clock();
    const impact = parseImpactTime(impactText, now);
    if (typeof impact === 'string') {
      await ack({ response_action: 'errors', errors: { [BlockId.impactTime]: impact } });
      return;
    }
    const meta = JSON.parse(view.private_metadata) as ConfirmationMeta;
    if (impact !== null && meta.echoed?.text !== impactText) {
      // Show the time as read before anything starts: "23:59" must not quietly mean yesterday.
      const echoed = { text: impactText, at: impact.toISOString() };
      await ack({
        response_action: 'update',
        view: confirmationModal(
          meta,
          engine.previewPlan(meta.runbook, meta.service, meta.kind).lines,
          meta.lag ?? 'not measured',
          JSON.stringify({ ...meta, echoed }),
          { text: impactText, reading: describeImpact(impact, now) },
        ),
      });
      return;
    }
    await ack();
    const impactAt = impact === null ? undefined : new Date(meta.echoed?.at ?? impact);
    try {
      const result = engine.startRun({
        key: `view:${view.id}`,
        actor: await usergroups.actorOf(body.user.id),
        runbook: meta.runbook,
        service: meta.service,
        kind: meta.kind,
        impactAt,
      });
      publisher.bindChannel(result.runId, meta.channel);
    } catch (error) {
      await app.client.chat.postEphemeral({
        channel: meta.channel,
        user: body.user.id,
        text: errorReply(error, logger, { view: view.callback_id }),
      });
    }
  });

  // Bolt runs every listener's matchers on every request: one listener for all our buttons (and
  // one for the "why?" modals) keeps each request's path short.
  type ButtonHandler = (value: string, actor: Actor, key: string, triggerId: string) => unknown;
  const buttons = new Map<string, ButtonHandler>();
  const onButton = (actionId: string, handle: ButtonHandler) => buttons.set(actionId, handle);
  const runStep = (value: string) => {
    const [runId = '', step = '0'] = value.split(':');
    return { runId, stepIndex: Number(step) };
  };

  onButton(ActionId.stepDone, (value, actor, key) =>
    engine.completeStep({ key, actor, ...runStep(value) }),
  );
  onButton(ActionId.stepRetry, (value, actor, key) =>
    engine.retryStep({ key, actor, ...runStep(value) }),
  );
  onButton(ActionId.approvalApprove, (value, actor, key) =>
    engine.decideApproval({ key, actor, approvalId: value, decision: 'approve' }),
  );
  onButton(ActionId.approvalDeny, (value, actor, key) =>
    engine.decideApproval({ key, actor, approvalId: value, decision: 'deny' }),
  );
  // A reminder's Start button: the same path as `/dr runbook start <name>` (a failover or failback
  // still opens the confirmation).
  onButton(ActionId.reminderStart, async (value, actor, key, triggerId) => {
    const reply = await runbookCommand.run(['start', value], {
      config,
      store: engine.store,
      user: actor.user,
      actor,
      clock: engine.clock,
      engine,
      key,
    });
    if (reply.type === 'confirm')
      return openConfirmation(app.client, triggerId, config.slackChannel ?? '', reply);
    if (reply.type === 'started' && config.slackChannel)
      publisher.bindChannel(reply.runId, config.slackChannel);
    return undefined;
  });

  const asks = [
    [ActionId.stepSkip, ViewId.stepSkip, 'Skip step', 'Why skip it? (goes into the report)'],
    [ActionId.stepNote, ViewId.stepNote, 'Add a note', 'Note'],
    [ActionId.runAbort, ViewId.runAbort, 'Abort run', 'Why abort it?'],
    [
      ActionId.gateOverride,
      ViewId.gateOverride,
      'Override the RPO gate',
      'Why promote despite the lag? A second person must approve.',
    ],
    [
      ActionId.fenceOverride,
      ViewId.fenceOverride,
      'Promote unfenced',
      'Why promote while the old primary still accepts writes? There are two primaries until it is fenced. A second person must approve.',
    ],
    [
      ActionId.stopUnfence,
      ViewId.stopUnfence,
      'Stop and unfence',
      'Why stop? The run ends and the old primary takes writes again (the replica was not promoted).',
    ],
  ] as const;
  /** Names what a reason is for: the step (with its text) or the run. */
  const subjectOf = (value: string): string | undefined => {
    const [runId = '', step] = value.split(':');
    try {
      const view = engine.getRun(runId);
      if (step === undefined) return `Run ${runId}: ${view.runbook.title}`;
      const target = view.steps[Number(step)];
      return target ? `Step ${target.index + 1} of ${runId}: ${target.text}` : undefined;
    } catch {
      return undefined;
    }
  };
  for (const [actionId, viewId, title, label] of asks) {
    onButton(actionId, (value, _user, _key, triggerId) =>
      app.client.views.open({
        trigger_id: triggerId,
        view: reasonModal(viewId, title, label, value, subjectOf(value)),
      }),
    );
  }
  const askViews: string[] = asks.map(([, viewId]) => viewId);
  app.view(exactly(askViews), async ({ ack, view, body }) => {
    const viewId = view.callback_id;
    const reason = (view.state.values[BlockId.reason]?.value?.value ?? '').trim();
    if (!reason) {
      // Slack requires the field, but spaces pass: say so in the modal, never close it silently.
      await ack({
        response_action: 'errors',
        errors: {
          [BlockId.reason]:
            viewId === ViewId.stepNote
              ? 'Write the note: an empty one is not saved.'
              : 'Write a reason: it goes into the report and the audit log.',
        },
      });
      return;
    }
    await ack();
    const user = body.user.id;
    const key = `view:${view.id}`;
    const actor = await usergroups.actorOf(user);
    try {
      if (viewId === ViewId.runAbort || viewId === ViewId.stopUnfence)
        engine.abortRun({
          key,
          actor,
          runId: view.private_metadata,
          reason,
          unfence: viewId === ViewId.stopUnfence,
        });
      else {
        const target = runStep(view.private_metadata);
        if (viewId === ViewId.stepSkip) engine.skipStep({ key, actor, ...target, reason });
        if (viewId === ViewId.stepNote) engine.addNote({ key, actor, ...target, text: reason });
        if (viewId === ViewId.gateOverride || viewId === ViewId.fenceOverride)
          engine.overrideGate({ key, actor, ...target, reason });
      }
    } catch (error) {
      const runId = view.private_metadata.split(':')[0] ?? '';
      const channel = engine.store.db
        .prepare("SELECT channel FROM slack_messages WHERE run_id = ? AND ref = 'header'")
        .get(runId) as { channel: string } | undefined;
      if (channel)
        await app.client.chat.postEphemeral({
          channel: channel.channel,
          user,
          text: errorReply(error, logger, { view: viewId }),
        });
    }
  });

  app.action(exactly([...buttons.keys()]), async ({ ack, body, action, respond }) => {
    await ack();
    const button = action as { action_id: string; value?: string; action_ts?: string };
    const user = body.user.id;
    try {
      await buttons.get(button.action_id)?.(
        button.value ?? '',
        await usergroups.actorOf(user),
        `click:${button.action_id}:${button.value}:${user}:${button.action_ts}`,
        (body as { trigger_id: string }).trigger_id,
      );
    } catch (error) {
      await ephemeral(respond, errorReply(error, logger, { action: button.action_id, user }));
    }
  });

  app.event('app_home_opened', async ({ event, client }) => {
    if (event.tab !== 'home') return;
    await publishAppHome(client, engine, event.user).catch((error: unknown) =>
      logger?.error({ err: error, user: event.user }, 'could not publish App Home'),
    );
  });

  app.error(async (error) => {
    logger?.error({ err: error }, 'unhandled error in a Slack listener');
    return Promise.resolve();
  });

  return { app, publisher, client: app.client };
}

/** A pattern matching exactly these ids. */
function exactly(ids: readonly string[]): RegExp {
  return new RegExp(`^(${ids.map((id) => id.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|')})$`);
}

async function ephemeral(respond: RespondFn, text: string): Promise<void> {
  await respond({ response_type: 'ephemeral', replace_original: false, text });
}

/** Commands that return data (shared with the CLI) are rendered here; the rest answer a Reply. */
function toReply(name: string, result: unknown): Reply {
  if (name !== 'history') return result as Reply;
  const runs = result as RunRecord[];
  if (runs.length === 0) return { type: 'message', text: 'No runs yet.' };
  const lines = runs.map(
    (run) =>
      `• \`${run.id}\` ${run.startedAt.slice(0, 16).replace('T', ' ')} ${run.kind}, runbook \`${escape(run.runbook)}\` — ${run.status}${run.rtoSeconds === null ? '' : `, RTO ${formatDuration(run.rtoSeconds)}`}${run.rpoExposureSeconds === null && !run.rpoExposureDetail ? '' : `, RPO ${shortExposure(run)}`}`,
  );
  return { type: 'message', text: ['*Recent runs*', ...lines].join('\n') };
}
