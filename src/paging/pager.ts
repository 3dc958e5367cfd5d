// Pages people: engine events (a failover started, a step failed, an approval nobody decides, the
// run finished) and the scheduled checks' alerts (a check failing, UNPROTECTED, TWO PRIMARIES),
// each to the targets that want it. Sending never holds up a run or a job; a page that cannot be
// delivered is logged and posted to the channel — it never fails silently.

import type { Config, PagingTarget } from '../config.js';
import type { EngineEvent } from '../engine/events.js';
import type { Logger } from '../log.js';
import { getRun, type RunRecord } from '../store/runs.js';
import type { Sql } from '../store/db.js';
import { waitingApprovals } from '../store/approvals.js';
import type { PageAlert, PageEvent } from './alert.js';
import { sendAlert } from './send.js';

const EXERCISES = new Set(['drill', 'tabletop', 'restore-test']);
const RUN_EVENTS: PageEvent[] = ['run.started', 'run.failed', 'run.finished'];

/** A message for the channel, with what to page about (the scheduled jobs' notices are these). */
export interface PagedNotice {
  text: string;
  alert?: PageAlert;
}

/** Where messages go: the Slack channel (the scheduler's notifier has this shape). */
export interface Channel<N extends PagedNotice = PagedNotice> {
  post(notice: N): Promise<void>;
}

export interface PagerDeps {
  config: Config;
  clock: () => Date;
  logger?: Logger;
  sleep?: (ms: number) => Promise<void>;
  /** Where an undeliverable page is said (the Slack channel), besides the log. */
  fallback?: Channel;
}

interface Waiting {
  runId: string;
  stepIndex: number;
  requestedAt: number;
  summary: string;
  run: RunRecord | null;
  paged: boolean;
}

export class Pager {
  private readonly sending = new Set<Promise<void>>();
  private readonly runs = new Map<string, RunRecord>();
  private readonly waiting = new Map<string, Waiting>();

  constructor(private readonly deps: PagerDeps) {}

  /** Whether anyone is paged at all. */
  get enabled(): boolean {
    return (this.deps.config.paging?.targets.length ?? 0) > 0;
  }

  /** Sends `alert` to every target that wants it, in the background. */
  page(alert: PageAlert): void {
    const targets = this.targetsFor(alert);
    for (const target of targets) {
      const sent = this.deliver(target, alert).finally(() => this.sending.delete(sent));
      this.sending.add(sent);
    }
  }

  /** Resolves when every page under way has been delivered or given up on. */
  async idle(): Promise<void> {
    while (this.sending.size) await Promise.all([...this.sending]);
  }

  /** Follows the engine: returns the unsubscribe. */
  watch(engine: { on(listener: (event: EngineEvent) => void): () => void }): () => void {
    return engine.on((event) => this.onEngineEvent(event));
  }

  /** Wraps the scheduled jobs' notifier: posts as before, and pages the alert a notice carries. */
  notifier<N extends PagedNotice>(inner: Channel<N>): Channel<N> {
    return {
      post: async (notice: N) => {
        if (notice.alert) this.page(notice.alert);
        await inner.post(notice);
      },
    };
  }

  /**
   * Takes up the approvals already waiting in the store (a restarted bot, another instance's
   * runs): each is paged when it has waited long enough, counted from when it was asked for.
   */
  async trackPending(db: Sql): Promise<number> {
    const rows = await waitingApprovals(db, this.deps.clock());
    for (const row of rows) {
      if (this.waiting.has(row.id)) continue;
      const run = (await getRun(db, row.runId)) ?? null;
      if (run) this.runs.set(run.id, run);
      this.waiting.set(row.id, {
        runId: row.runId,
        stepIndex: row.stepIndex,
        requestedAt: Date.parse(row.requestedAt),
        summary: `approval ${row.id} of step ${row.stepIndex + 1}`,
        run,
        paged: false,
      });
    }
    return rows.length;
  }

  /** Pages each approval undecided for longer than paging.approval_waiting_after (once each). */
  checkWaitingApprovals(now: Date): void {
    const after = (this.deps.config.paging?.approvalWaitingAfterSeconds ?? 600) * 1000;
    for (const [id, waiting] of this.waiting) {
      if (waiting.paged || now.getTime() - waiting.requestedAt < after) continue;
      waiting.paged = true;
      const minutes = Math.round((now.getTime() - waiting.requestedAt) / 60_000);
      this.page({
        event: 'approval.waiting',
        action: 'trigger',
        dedupKey: `lifeboat-approval-${id}`,
        severity: waiting.run && !EXERCISES.has(waiting.run.kind) ? 'critical' : 'warning',
        summary: `lifeboat: ${describeRun(waiting.run, waiting.runId)}: step ${waiting.stepIndex + 1} has waited ${minutes} min for a second person's approval: ${waiting.summary}`,
        service: waiting.run?.service ?? null,
        runId: waiting.runId,
        details: { run: waiting.runId, step: String(waiting.stepIndex + 1), approval: id },
      });
    }
  }

  private onEngineEvent(event: EngineEvent): void {
    if (event.type === 'run.started') {
      this.runs.set(event.runId, event.run);
      const exercise = EXERCISES.has(event.run.kind);
      this.page({
        event: 'run.started',
        action: 'trigger',
        dedupKey: runKey(event.runId),
        severity: exercise ? 'info' : 'critical',
        summary: `lifeboat: ${describeRun(event.run, event.runId)} started by ${event.run.startedBy} (runbook ${event.run.runbook})`,
        service: event.run.service,
        runId: event.runId,
        details: runDetails(event.run),
      });
    } else if (event.type === 'step.blocked') {
      const run = this.runs.get(event.runId) ?? null;
      const what = event.waitingOn === 'failure' ? 'failed' : `is held by the ${event.waitingOn}`;
      this.page({
        event: 'run.failed',
        action: 'trigger',
        dedupKey: runKey(event.runId),
        severity: run && EXERCISES.has(run.kind) ? 'warning' : 'critical',
        summary: `lifeboat: ${describeRun(run, event.runId)}: step ${event.stepIndex + 1} ${what}: ${oneLine(event.reason)}`,
        service: run?.service ?? null,
        runId: event.runId,
        details: { ...(run ? runDetails(run) : { run: event.runId }), reason: event.reason },
      });
    } else if (event.type === 'approval.requested') {
      if (event.approval.status === 'pending')
        this.waiting.set(event.approval.id, {
          runId: event.runId,
          stepIndex: event.approval.stepIndex,
          requestedAt: Date.parse(event.approval.requestedAt),
          summary: oneLine(event.summary),
          run: this.runs.get(event.runId) ?? null,
          paged: false,
        });
    } else if (event.type === 'approval.decided') {
      this.settleApproval(event.approval.id, `approval ${event.decision}d by ${event.by}`);
    } else if (event.type === 'run.finished') {
      for (const [id, waiting] of this.waiting)
        if (waiting.runId === event.runId) this.settleApproval(id, 'the run finished');
      this.runs.delete(event.runId);
      this.page({
        event: 'run.finished',
        alsoFor: RUN_EVENTS,
        action: 'resolve',
        dedupKey: runKey(event.runId),
        severity: 'info',
        summary: `lifeboat: ${describeRun(event.run, event.runId)} ${event.run.status}${event.run.outcome ? `: ${oneLine(event.run.outcome)}` : ''}`,
        service: event.run.service,
        runId: event.runId,
        details: runDetails(event.run),
      });
    }
  }

  private settleApproval(id: string, why: string): void {
    const waiting = this.waiting.get(id);
    this.waiting.delete(id);
    if (!waiting?.paged) return;
    this.page({
      event: 'approval.waiting',
      action: 'resolve',
      dedupKey: `lifeboat-approval-${id}`,
      severity: 'info',
      summary: `lifeboat: ${describeRun(waiting.run, waiting.runId)}: step ${waiting.stepIndex + 1}: ${why}`,
      service: waiting.run?.service ?? null,
      runId: waiting.runId,
      details: { run: waiting.runId, approval: id },
    });
  }

  private targetsFor(alert: PageAlert): PagingTarget[] {
    const wanted = new Set([alert.event, ...(alert.alsoFor ?? [])]);
    return (this.deps.config.paging?.targets ?? []).filter(
      (target) => !target.events || target.events.some((event) => wanted.has(event)),
    );
  }

  private async deliver(target: PagingTarget, alert: PageAlert): Promise<void> {
    const failure = await sendAlert(target, alert, {
      secret: (name) => this.deps.config.actionEnv[name],
      clock: this.deps.clock,
      sleep: this.deps.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms))),
    });
    if (failure === null) return;
    this.deps.logger?.error(
      { target: target.name, event: alert.event, dedupKey: alert.dedupKey, failure },
      'could not page',
    );
    await this.deps.fallback
      ?.post({
        text: `:warning: could not page ${target.name} (${target.type}) about ${alert.event}: ${failure}`,
      })
      .catch((error: unknown) =>
        this.deps.logger?.error({ err: error }, 'could not say so in the channel either'),
      );
  }
}

function runKey(runId: string): string {
  return `lifeboat-run-${runId}`;
}

function describeRun(run: RunRecord | null, runId: string): string {
  return run ? `${run.kind} of ${run.service ?? run.runbook} (run ${runId})` : `run ${runId}`;
}

function runDetails(run: RunRecord): Record<string, string> {
  return {
    run: run.id,
    kind: run.kind,
    runbook: run.runbook,
    service: run.service ?? '',
    started_by: run.startedBy,
    impact_at: run.impactAt,
  };
}

/** The first line, without Slack's markup characters doubling as text. */
function oneLine(text: string): string {
  return (text.split('\n')[0] ?? '').slice(0, 900);
}
