// Runs the jobs on their cron slots (node-cron, one task per job, never overlapping itself). With
// several bot processes on one store each slot fires once: the first to insert the slot's lease
// row runs it. After downtime a reminder that missed its slot fires once at start, not once per
// missed slot.

import { createTask, type ScheduledTask } from 'node-cron';
import { hostname } from 'node:os';
import type { Logger } from '../log.js';
import type { Sql } from '../store/db.js';
import { previousSlot } from './cron-time.js';
import { clip } from '../mrkdwn.js';
import type { Job, JobContext } from './jobs.js';

export interface SchedulerDeps {
  db: Sql;
  jobs: Job[];
  context: (now: Date) => JobContext;
  clock?: () => Date;
  owner?: string;
  logger?: Logger;
}

export class Scheduler {
  private tasks: ScheduledTask[] = [];
  private readonly clock: () => Date;
  private readonly owner: string;

  constructor(private readonly deps: SchedulerDeps) {
    this.clock = deps.clock ?? (() => new Date());
    this.owner = deps.owner ?? `${hostname()}:${process.pid}`;
  }

  /** Starts the cron tasks, then fires any reminder that missed its slot while we were down. */
  async start(): Promise<void> {
    for (const job of this.deps.jobs) {
      const task = createTask(job.cron, () => this.fire(job, minuteOf(this.clock())), {
        timezone: job.timezone,
        noOverlap: true,
        name: job.name,
      });
      await task.start();
      this.tasks.push(task);
    }
    await this.catchUp();
  }

  async stop(): Promise<void> {
    for (const task of this.tasks) await task.destroy();
    this.tasks = [];
  }

  /**
   * Runs `job` for `slot` unless another process (or an earlier call) already claimed that slot.
   * Returns what the job said, or null when it was not ours to run.
   */
  async fire(job: Job, slot: Date): Promise<string | null> {
    if (!(await this.claim(job.name, slot))) return null;
    const now = this.clock();
    let outcome: string;
    let succeeded = false;
    try {
      outcome = await job.run(this.deps.context(now));
      succeeded = true;
    } catch (error) {
      outcome = `failed: ${(error as Error).message}`;
      this.deps.logger?.error({ err: error, job: job.name, slot }, 'scheduled job failed');
      await this.deps
        .context(now)
        .notifier.post({
          text: `:warning: scheduled job *${job.name}* failed: ${clip((error as Error).message, 1000)}`,
        })
        .catch((postError: unknown) =>
          this.deps.logger?.error(
            { err: postError, job: job.name },
            'could not report the failed job',
          ),
        );
    }
    await this.deps.db.run(
      `INSERT INTO schedule_slots (schedule, last_slot) VALUES (?, ?)
       ON CONFLICT (schedule) DO UPDATE SET last_slot = excluded.last_slot
       WHERE excluded.last_slot > schedule_slots.last_slot`,
      job.name,
      slot.toISOString(),
    );
    if (succeeded)
      await this.deps.db.run(
        'UPDATE schedule_slots SET last_success_at = ? WHERE schedule = ?',
        this.clock().toISOString(),
        job.name,
      );
    this.deps.logger?.info({ job: job.name, slot, outcome }, 'scheduled job ran');
    return outcome;
  }

  /** Once per reminder: its latest slot, if it passed while no process was running. */
  async catchUp(): Promise<void> {
    const now = this.clock();
    for (const job of this.deps.jobs.filter((j) => j.catchesUp)) {
      const last = await this.deps.db.get<{ last_slot: string }>(
        'SELECT last_slot FROM schedule_slots WHERE schedule = ?',
        job.name,
      );
      const missed = previousSlot(job.cron, job.timezone, now);
      if (!missed) continue;
      if (!last) {
        // First start: remember where we are; there is no downtime to make up for.
        await this.deps.db.run(
          'INSERT INTO schedule_slots (schedule, last_slot) VALUES (?, ?) ON CONFLICT DO NOTHING',
          job.name,
          missed.toISOString(),
        );
        continue;
      }
      if (missed.getTime() > Date.parse(last.last_slot)) await this.fire(job, missed);
    }
  }

  /**
   * Claims `slot` of schedule `name` for this process. A slot's lease row is kept while it is
   * within LEASE_WINDOW_MS of the newest slot claimed for the schedule, and a slot older than that
   * window is never claimed (its row may be gone): whether a slot fires once depends only on the
   * slots themselves, never on how far the clock has moved past them.
   */
  private claim(name: string, slot: Date): Promise<boolean> {
    const db = this.deps.db;
    return db.transaction(async () => {
      const { newest } = (await db.get<{ newest: string | null }>(
        'SELECT MAX(slot) AS newest FROM schedule_leases WHERE schedule = ?',
        name,
      ))!;
      const newestMs = Math.max(slot.getTime(), newest ? Date.parse(newest) : 0);
      const horizon = new Date(newestMs - LEASE_WINDOW_MS).toISOString();
      if (slot.toISOString() < horizon) return false;
      const result = await db.run(
        `INSERT INTO schedule_leases (schedule, slot, owner, expires_at) VALUES (?, ?, ?, ?)
         ON CONFLICT DO NOTHING`,
        name,
        slot.toISOString(),
        this.owner,
        new Date(slot.getTime() + LEASE_WINDOW_MS).toISOString(),
      );
      await db.run('DELETE FROM schedule_leases WHERE schedule = ? AND slot < ?', name, horizon);
      return result.changes === 1;
    });
  }
}

/** How far behind the newest claimed slot a slot may still be claimed (and its lease kept). */
const LEASE_WINDOW_MS = 24 * 3_600_000;

function minuteOf(date: Date): Date {
  return new Date(Math.floor(date.getTime() / 60_000) * 60_000);
}
