// GET /metrics: what lifeboat knows, in Prometheus text format (prom-client), read from the store
// at each scrape — the objectives beside what the last drills and failovers achieved, the newest
// backup's age and the replication lag as the last checks saw them (with when that was), the
// protection state, failing checks, runs in flight, approvals waiting, each schedule's last
// success. A value lifeboat does not have is absent, never a made-up 0.

import { Gauge, Registry } from 'prom-client';
import type { Config } from './config.js';
import { latestResults } from './checks/results.js';
import { RUN_KINDS } from './run-kind.js';
import type { Sql } from './store/db.js';
import { currentProtections } from './store/protection.js';
import { listRunsInFlight } from './store/runs.js';
import { waitingApprovals } from './store/approvals.js';

const CHECKS = ['backups', 'backup-take', 'restore', 'lag', 'plan', 'pitr', 'snapshots'] as const;

export interface Metrics {
  contentType: string;
  text(): Promise<string>;
}

export function createMetrics(config: Config, db: Sql, clock: () => Date): Metrics {
  const registry = new Registry();
  const services = Object.values(config.services);
  const names = services.map((service) => service.name);
  const gauge = (
    name: string,
    help: string,
    labelNames: string[],
    collect: (g: Gauge) => Promise<void> | void,
  ) =>
    new Gauge({
      name,
      help,
      labelNames,
      registers: [registry],
      async collect() {
        this.reset();
        await collect(this);
      },
    });

  gauge(
    'lifeboat_rto_objective_seconds',
    'The recovery time objective of each service.',
    ['service'],
    (g) => {
      for (const service of services) g.set({ service: service.name }, service.rtoSeconds);
    },
  );
  gauge(
    'lifeboat_rpo_objective_seconds',
    'The recovery point objective of each service.',
    ['service'],
    (g) => {
      for (const service of services) g.set({ service: service.name }, service.rpoSeconds);
    },
  );
  gauge(
    'lifeboat_rto_achieved_seconds',
    'The RTO the latest run of each kind achieved (impact to recovery verified).',
    ['service', 'kind'],
    async (g) => {
      for (const service of names)
        for (const kind of RUN_KINDS) {
          const row = await db.get<{ rto_seconds: number }>(
            `SELECT rto_seconds FROM runs WHERE service = ? AND kind = ? AND finished_at IS NOT NULL
               AND rto_seconds IS NOT NULL ORDER BY finished_at DESC LIMIT 1`,
            service,
            kind,
          );
          if (row) g.set({ service, kind }, row.rto_seconds);
        }
    },
  );
  gauge(
    'lifeboat_rpo_exposure_seconds',
    'The data the latest promotion of each kind may have lost; bound="lower-bound" when it could be more.',
    ['service', 'kind', 'bound'],
    async (g) => {
      for (const service of names)
        for (const kind of RUN_KINDS) {
          const row = await db.get<{ seconds: number; bound: string | null }>(
            `SELECT rpo_exposure_seconds AS seconds, rpo_exposure_bound AS bound FROM runs
              WHERE service = ? AND kind = ? AND finished_at IS NOT NULL
                AND rpo_exposure_seconds IS NOT NULL ORDER BY finished_at DESC LIMIT 1`,
            service,
            kind,
          );
          if (row) g.set({ service, kind, bound: row.bound ?? 'exact' }, row.seconds);
        }
    },
  );
  gauge(
    'lifeboat_backup_newest_age_seconds',
    'Age now of the newest backup the last backup check found (a newer one since is not counted: see lifeboat_check_last_run_timestamp_seconds).',
    ['service'],
    async (g) => {
      const now = clock().getTime();
      for (const result of await latestResults(db, 'backups', names)) {
        const newestAt = result.details?.newestAt;
        if (typeof newestAt === 'string')
          g.set({ service: result.service }, Math.max(0, (now - Date.parse(newestAt)) / 1000));
      }
    },
  );
  gauge(
    'lifeboat_replication_lag_seconds',
    'Replication lag as the last lag check measured it (absent when it could not be measured).',
    ['service'],
    async (g) => {
      for (const result of await latestResults(db, 'lag', names)) {
        const lag = result.details?.lagSeconds;
        if (typeof lag === 'number') g.set({ service: result.service }, lag);
      }
    },
  );
  gauge(
    'lifeboat_protected',
    '1 when a replica follows the writer, 0 when UNPROTECTED (absent until lifeboat has looked).',
    ['service', 'writer'],
    async (g) => {
      for (const [service, episode] of await currentProtections(db, names))
        g.set({ service, writer: episode.writer ?? 'none' }, episode.state === 'protected' ? 1 : 0);
    },
  );
  const checkGauges: [string, string, (ok: boolean, at: string) => number][] = [
    ['lifeboat_check_ok', 'The last result of each check: 1 ok, 0 failing.', (ok) => (ok ? 1 : 0)],
    [
      'lifeboat_check_last_run_timestamp_seconds',
      'When each check last ran (Unix seconds).',
      (_ok, at) => Date.parse(at) / 1000,
    ],
  ];
  for (const [name, help, value] of checkGauges)
    gauge(name, help, ['check', 'service'], async (g) => {
      for (const check of CHECKS)
        for (const result of await latestResults(db, check, names))
          g.set({ check, service: result.service }, value(result.ok, result.at));
    });
  gauge(
    'lifeboat_runs_in_flight',
    'Runs started and not finished, by kind.',
    ['kind'],
    async (g) => {
      const runs = await listRunsInFlight(db);
      for (const kind of RUN_KINDS) g.set({ kind }, runs.filter((run) => run.kind === kind).length);
    },
  );
  const waiting = () => waitingApprovals(db, clock());
  gauge('lifeboat_approvals_pending', 'Approvals asked for and not yet decided.', [], async (g) => {
    g.set((await waiting()).length);
  });
  gauge(
    'lifeboat_approval_oldest_waiting_seconds',
    'How long the oldest undecided approval has waited (0 when none waits).',
    [],
    async (g) => {
      const [oldest] = await waiting();
      g.set(oldest ? Math.max(0, (clock().getTime() - Date.parse(oldest.requestedAt)) / 1000) : 0);
    },
  );
  gauge(
    'lifeboat_schedule_last_success_timestamp_seconds',
    'When each scheduled job last ran to the end (Unix seconds); absent if it never has.',
    ['schedule'],
    async (g) => {
      const rows = await db.all<{ schedule: string; last_success_at: string | null }>(
        'SELECT schedule, last_success_at FROM schedule_slots',
      );
      for (const row of rows)
        if (row.last_success_at)
          g.set({ schedule: row.schedule }, Date.parse(row.last_success_at) / 1000);
    },
  );
  return { contentType: registry.contentType, text: () => registry.metrics() };
}
