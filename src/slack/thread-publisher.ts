// Keeps each run's thread in Slack in step with the engine: a header message updated in place, one
// message per step, approval requests, notes, the final summary. Every message is rendered from
// the engine's current state, so a Slack outage only delays the thread: when Slack answers again,
// the next update shows where the run really is. The engine never waits on this.

import type { WebClient } from '@slack/web-api';
import type { Engine } from '../engine/engine.js';
import type { EngineEvent } from '../engine/events.js';
import type { RunView } from '../engine/run-view.js';
import type { Logger } from '../log.js';
import { getApproval } from '../store/approvals.js';
import { auditHead } from '../store/audit.js';
import { renderApproval } from './blocks/approval.js';
import { clip, mention, type Block } from './blocks/kit.js';
import { renderRunHeader } from './blocks/run-header.js';
import { renderRunSummary } from './blocks/run-summary.js';
import { renderStep } from './blocks/step.js';

export class ThreadPublisher {
  private readonly queues = new Map<string, Promise<void>>();
  private readonly channels = new Map<string, string>();
  private readonly plans = new Map<string, string | null>();
  /** The latest progress line of each running step (a replica catching up), shown in place. */
  private readonly progress = new Map<string, string>();

  constructor(
    private readonly deps: {
      client: WebClient;
      engine: Engine;
      defaultChannel: string | null;
      logger?: Logger;
    },
  ) {}

  /** Subscribes to the engine; returns the unsubscribe function. */
  attach(): () => void {
    return this.deps.engine.on((event) => this.enqueue(event.runId, () => this.apply(event)));
  }

  /** The channel a run's thread goes to (where `/dr` was typed). Call right after starting it. */
  bindChannel(runId: string, channel: string): void {
    this.channels.set(runId, channel);
  }

  /** Where the run's thread is, or will be: the channel to tell a person about it in. */
  async channelOf(runId: string): Promise<string | null> {
    return (
      (await this.headerOf(runId))?.channel ?? this.channels.get(runId) ?? this.deps.defaultChannel
    );
  }

  /** After a restart: bring the thread of every run in flight up to date. */
  reattach(runIds: string[]): void {
    for (const runId of runIds) this.enqueue(runId, () => this.refresh(runId));
  }

  /** Resolves when every queued Slack update has been attempted. */
  async flushed(): Promise<void> {
    while (this.queues.size > 0) await Promise.allSettled([...this.queues.values()]);
  }

  private enqueue(runId: string, job: () => Promise<void>): void {
    const previous = this.queues.get(runId) ?? Promise.resolve();
    const next = previous
      .then(job)
      .catch((error: unknown) =>
        this.deps.logger?.error(
          { err: error, run: runId },
          'could not update the run thread in Slack',
        ),
      )
      .finally(() => {
        if (this.queues.get(runId) === next) this.queues.delete(runId);
      });
    this.queues.set(runId, next);
  }

  private async apply(event: EngineEvent): Promise<void> {
    const runId = event.runId;
    const view = await this.deps.engine.getRun(runId);
    switch (event.type) {
      case 'run.started':
        await this.showHeader(view);
        return;
      case 'step.started':
      case 'action.started':
        this.plans.set(`${runId}:${event.stepIndex}`, event.plan);
        await this.showStep(view, event.stepIndex);
        break;
      case 'step.finished':
      case 'step.blocked':
        this.progress.delete(`${runId}:${event.stepIndex}`);
        await this.showStep(view, event.stepIndex);
        break;
      case 'action.progress':
        this.progress.set(`${runId}:${event.stepIndex}`, event.text);
        await this.showStep(view, event.stepIndex);
        return;
      case 'approval.requested':
        await this.show(
          view,
          `approval:${event.approval.id}`,
          renderApproval(view, event.approval, event.summary),
          'Approval needed',
          true,
        );
        await this.showStep(view, event.approval.stepIndex);
        break;
      case 'approval.decided': {
        const approval =
          (await getApproval(this.deps.engine.store, event.approval.id)) ?? event.approval;
        await this.show(
          view,
          `approval:${approval.id}`,
          renderApproval(view, approval, ''),
          `Approval ${approval.status}`,
          true,
        );
        break;
      }
      case 'note.added':
        await this.post(
          view,
          `:memo: note by ${mention(event.author)}${event.stepIndex === null ? '' : ` on step ${event.stepIndex + 1}`}: ${clip(event.text, 1000)}`,
        );
        break;
      case 'notify':
        await this.post(view, `:loudspeaker: ${clip(event.text, 2000)}`);
        break;
      case 'run.finished': {
        // The step it was on loses its buttons: Done or Skip on an ended run would only be refused.
        for (const step of view.steps)
          if (step.state === 'aborted') await this.showStep(view, step.index);
        const notes = await this.deps.engine.store.all<{ author: string; text: string }>(
          'SELECT author, text FROM notes WHERE run_id = ? ORDER BY id',
          runId,
        );
        const service = view.run.service
          ? this.deps.engine.config.services[view.run.service]
          : undefined;
        const objectives = service
          ? { rtoSeconds: service.rtoSeconds, rpoSeconds: service.rpoSeconds }
          : null;
        await this.show(
          view,
          'summary',
          // The head hash, published in the channel: a later cut of the log cannot hide it.
          renderRunSummary(view, objectives, notes, await auditHead(this.deps.engine.store)),
          `Run ${view.run.status}`,
          true,
        );
        break;
      }
    }
    await this.showHeader(view);
  }

  private async refresh(runId: string): Promise<void> {
    const view = await this.deps.engine.getRun(runId);
    await this.showHeader(view);
    if (view.current) await this.showStep(view, view.current.index);
  }

  private showHeader(view: RunView): Promise<void> {
    return this.show(
      view,
      'header',
      renderRunHeader(view, this.rtoObjective(view)),
      `${view.run.kind}: ${view.runbook.title}`,
    );
  }

  private async showStep(view: RunView, stepIndex: number): Promise<void> {
    const step = view.steps[stepIndex];
    if (!step) return;
    const plan = this.plans.get(`${view.run.id}:${stepIndex}`) ?? null;
    const progress = this.progress.get(`${view.run.id}:${stepIndex}`) ?? null;
    await this.show(
      view,
      `step:${stepIndex}`,
      renderStep(view, step, plan, progress),
      `Step ${stepIndex + 1}: ${step.text}`,
      true,
    );
  }

  /**
   * Posts the message the first time, updates it in place after that. `fallback` (what
   * notifications show) is plain words from the run — escaped here, since Slack parses it too.
   */
  private async show(
    view: RunView,
    ref: string,
    blocks: Block[],
    fallback: string,
    inThread = false,
  ): Promise<void> {
    const text = clip(fallback, 300);
    const db = this.deps.engine.store;
    const known = await db.get<{ channel: string; ts: string }>(
      'SELECT channel, ts FROM slack_messages WHERE run_id = ? AND ref = ?',
      view.run.id,
      ref,
    );
    if (known) {
      await this.deps.client.chat.update({ channel: known.channel, ts: known.ts, blocks, text });
      return;
    }
    let parent = inThread ? await this.headerOf(view.run.id) : null;
    if (inThread && !parent) {
      await this.showHeader(view); // the thread's first message was lost (Slack was down): post it now
      parent = await this.headerOf(view.run.id);
    }
    const channel = parent?.channel ?? this.channels.get(view.run.id) ?? this.deps.defaultChannel;
    if (!channel)
      throw new Error(`no channel for run ${view.run.id}: set slack.channel in lifeboat.yml`);
    const posted = await this.deps.client.chat.postMessage({
      channel,
      blocks,
      text,
      ...(parent ? { thread_ts: parent.ts } : {}),
    });
    if (!posted.ts || !posted.channel) throw new Error('chat.postMessage returned no ts');
    await db.run(
      `INSERT INTO slack_messages (run_id, ref, channel, ts) VALUES (?, ?, ?, ?)
       ON CONFLICT (run_id, ref) DO UPDATE SET channel = excluded.channel, ts = excluded.ts`,
      view.run.id,
      ref,
      posted.channel,
      posted.ts,
    );
  }

  private async post(view: RunView, text: string): Promise<void> {
    const parent = await this.headerOf(view.run.id);
    const channel = parent?.channel ?? this.channels.get(view.run.id) ?? this.deps.defaultChannel;
    if (!channel) return;
    await this.deps.client.chat.postMessage({
      channel,
      text,
      ...(parent ? { thread_ts: parent.ts } : {}),
    });
  }

  private async headerOf(runId: string): Promise<{ channel: string; ts: string } | null> {
    const row = await this.deps.engine.store.get<{ channel: string; ts: string }>(
      "SELECT channel, ts FROM slack_messages WHERE run_id = ? AND ref = 'header'",
      runId,
    );
    return row ?? null;
  }

  private rtoObjective(view: RunView): number | null {
    return view.run.service
      ? (this.deps.engine.config.services[view.run.service]?.rtoSeconds ?? null)
      : null;
  }
}
