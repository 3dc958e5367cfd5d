// GET /metrics on the real Bolt app: refused without the bearer token, and with it a Prometheus
// text page — parsed by a Prometheus text-format parser — holding what the store knows: the
// objectives and what the last drill achieved, the newest backup's age and the lag as the last
// checks saw them, protection, failing checks, runs in flight, the approval waiting, each
// schedule's last success.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { recordCheckResult } from '../../src/checks/results.js';
import { Scheduler } from '../../src/schedule/scheduler.js';
import { recordProtection } from '../../src/store/protection.js';
import { postgresConfig, testClock } from '../support/engine.js';
import { startSlackHarness } from '../support/slack-harness.js';

interface Family {
  name: string;
  metrics: { value: string; labels?: Record<string, string> }[];
}

const runbooks = {
  drill:
    '---\ntitle: Drill\nkind: drill\nservice: payments-db\n---\n## Go (10 minutes)\n1. Do it\n',
  restart:
    '---\ntitle: Restart\nkind: drill\nservice: payments-db\n---\n## Go\n1. Restart `action: run restart`\n',
};

describe('/metrics', () => {
  it('serves what the store knows, in Prometheus text format, to a scraper with the token only', async () => {
    const clock = testClock('2026-11-24T03:00:00.000Z');
    const h = await startSlackHarness({
      clock,
      runbooks,
      env: { METRICS_TOKEN: 'scrape-me' },
      configYaml: postgresConfig(
        'postgres://postgres@127.0.0.1:1/postgres',
        'postgres://postgres@127.0.0.1:2/postgres',
        'metrics: { bearer_token: { env: METRICS_TOKEN } }\nactions:\n  restart: { command: [/bin/true] }\n',
      ),
    });
    try {
      const { engine, store } = h.t;
      const alice = { user: 'U0ALICE' };
      // A drill recovered in 3 minutes.
      const drill = await engine.startRun({ key: 'd', actor: alice, runbook: 'drill' });
      clock.advance(180_000);
      await engine.completeStep({ key: 'd0', actor: alice, runId: drill.runId, stepIndex: 0 });
      // A run whose two-person step waits for a second person.
      await engine.startRun({ key: 'r', actor: alice, runbook: 'restart' });
      await h.settle();
      // What the checks saw.
      const at = clock().toISOString();
      await recordCheckResult(
        store,
        'backups',
        { service: 'payments-db', ok: true, summary: 'ok', at },
        {
          state: 'ok',
          newestAt: '2026-11-24T01:05:00.000Z',
        },
      );
      await recordCheckResult(
        store,
        'lag',
        { service: 'payments-db', ok: false, summary: 'lag over RPO', at },
        {
          state: 'over-rpo',
          lagSeconds: 95.5,
        },
      );
      await recordProtection(store, {
        service: 'payments-db',
        state: 'unprotected',
        writer: 'replica',
        detail: 'no replica follows the replica',
        at: clock(),
        runId: null,
      });
      const scheduler = new Scheduler({
        db: store,
        jobs: [],
        clock,
        context: (now) => ({
          config: h.t.config,
          engine,
          notifier: { post: () => Promise.resolve() },
          now,
        }),
      });
      await scheduler.fire(
        {
          name: 'backup-check',
          cron: '* * * * *',
          timezone: 'UTC',
          catchesUp: false,
          run: () => Promise.resolve('ok'),
        },
        new Date('2026-11-24T03:03:00.000Z'),
      );
      clock.advance(120_000); // 03:05: the approval has waited two minutes

      const anonymous = await fetch(`${h.url}/metrics`);
      expect(anonymous.status).toBe(401);
      expect(await anonymous.text()).toBe('metrics: send Authorization: Bearer <metrics token>\n');
      const wrong = await fetch(`${h.url}/metrics`, { headers: { Authorization: 'Bearer nope' } });
      expect(wrong.status).toBe(401);

      const response = await fetch(`${h.url}/metrics`, {
        headers: { Authorization: 'Bearer scrape-me' },
      });
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
      const families: Family[] = parsePrometheusTextFormat(await response.text()).map((family) => ({
        name: family.name,
        metrics: family.metrics.map((metric) => ({
          value: metric.value ?? '',
          labels: metric.labels,
        })),
      }));
      const value = (name: string, labels: Record<string, string> = {}) => {
        const family = families.find((each) => each.name === name);
        const metric = family?.metrics.find((each) =>
          Object.entries(labels).every(([key, wanted]) => each.labels?.[key] === wanted),
        );
        return metric ? Number(metric.value) : undefined;
      };
      expect(value('lifeboat_rto_objective_seconds', { service: 'payments-db' })).toBe(900);
      expect(value('lifeboat_rpo_objective_seconds', { service: 'payments-db' })).toBe(60);
      expect(
        value('lifeboat_rto_achieved_seconds', { service: 'payments-db', kind: 'drill' }),
      ).toBe(180);
      expect(
        value('lifeboat_rto_achieved_seconds', { service: 'payments-db', kind: 'failover' }),
      ).toBeUndefined();
      expect(value('lifeboat_backup_newest_age_seconds', { service: 'payments-db' })).toBe(
        2 * 3600,
      );
      expect(value('lifeboat_replication_lag_seconds', { service: 'payments-db' })).toBe(95.5);
      expect(value('lifeboat_protected', { service: 'payments-db', writer: 'replica' })).toBe(0);
      expect(value('lifeboat_check_ok', { check: 'lag', service: 'payments-db' })).toBe(0);
      expect(value('lifeboat_check_ok', { check: 'backups', service: 'payments-db' })).toBe(1);
      expect(
        value('lifeboat_check_last_run_timestamp_seconds', {
          check: 'lag',
          service: 'payments-db',
        }),
      ).toBe(Date.parse('2026-11-24T03:03:00.000Z') / 1000);
      expect(value('lifeboat_runs_in_flight', { kind: 'drill' })).toBe(1);
      expect(value('lifeboat_approvals_pending')).toBe(1);
      expect(value('lifeboat_approval_oldest_waiting_seconds')).toBe(120);
      expect(
        value('lifeboat_schedule_last_success_timestamp_seconds', { schedule: 'backup-check' }),
      ).toBe(Date.parse('2026-11-24T03:03:00.000Z') / 1000);

      // The example Grafana dashboard asks only for what is served.
      const dashboard = readFileSync('examples/grafana-dashboard.json', 'utf8');
      const asked = new Set(dashboard.match(/lifeboat_[a-z_]+/g));
      const served = new Set(families.map((family) => family.name));
      expect([...asked].filter((name) => !served.has(name))).toEqual([]);
      expect(asked.size).toBeGreaterThanOrEqual(12);
    } finally {
      await h.stop();
    }
  });
});
