// An engine on a real store in a temporary folder, with runbooks written from strings and a clock
// the test moves by hand.

import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseConfig, type Config, type StoreLocation } from '../../src/config.js';
import { Engine } from '../../src/engine/engine.js';
import type { RunView } from '../../src/engine/run-view.js';
import type { ActionRegistry } from '../../src/actions/registry.js';
import type { ProvidersFor } from '../../src/engine/step-runner.js';
import type { EngineEvent } from '../../src/engine/events.js';
import { resolveRunbookByName } from '../../src/runbook/library.js';
import { createServiceProviders } from '../../src/providers/index.js';
import { sqliteOf, type SqliteStore, type Store } from '../../src/store/db.js';
import { openStoreAt } from '../../src/store/open.js';
import { inject } from 'vitest';
import { makeTempDir } from './tmp.js';

/** The SQLite connection under a test engine that asked for SQLite (`store: 'sqlite'`). */
export function sqliteStoreOf(t: TestEngine): SqliteStore {
  const sqlite = sqliteOf(t.store);
  if (!sqlite) throw new Error('this test needs a SQLite store: makeEngine({ store: "sqlite" })');
  return sqlite;
}

/** The SQLite file of a config's store (the tests' stores are SQLite unless they say otherwise). */
export function storeFileOf(config: Config): string {
  if (config.store.kind !== 'sqlite') throw new Error('this test needs a SQLite store');
  return config.store.file;
}

export interface TestClock {
  (): Date;
  advance(ms: number): void;
  set(at: string): void;
}

export function testClock(start = '2026-11-24T03:00:00.000Z'): TestClock {
  let now = Date.parse(start);
  const clock = (() => new Date(now)) as TestClock;
  clock.advance = (ms) => (now += ms);
  clock.set = (at) => (now = Date.parse(at));
  return clock;
}

export interface TestEngine {
  engine: Engine;
  store: Store;
  config: Config;
  clock: TestClock;
  events: EngineEvent[];
  dir: string;
}

let schemas = 0;

/** The store a test engine gets: PostgreSQL when the run is on it (see store-setup.ts). */
function testStoreFor(configured: StoreLocation, only?: 'sqlite'): StoreLocation {
  const url = inject('storeUrl');
  if (only === 'sqlite' || url === null || configured.kind !== 'sqlite') return configured;
  return { kind: 'postgres', url, schema: `t_${process.pid}_${++schemas}` };
}

export async function makeEngine(options: {
  runbooks: Record<string, string>;
  configYaml: string;
  clock?: TestClock;
  providersFor?: ProvidersFor;
  sleep?: (ms: number) => Promise<void>;
  env?: Record<string, string>;
  actions?: ActionRegistry;
  /** What posts to slack.announcements (the bot's Web API in production). */
  announce?: (text: string) => Promise<{ channel: string; ts: string }>;
  /** Who this engine is when it walks a run (two engines play two processes). */
  executorId?: string;
  /** Another instance on the same store, config and runbooks: its own connection to the file. */
  sameStoreAs?: TestEngine;
  /**
   * The store's backend: what LIFEBOAT_TEST_STORE says (PostgreSQL, on the run's server, a schema
   * per engine), SQLite otherwise — or SQLite always, for a test of something only SQLite has.
   */
  store?: 'sqlite';
}): Promise<TestEngine> {
  const dir = options.sameStoreAs?.dir ?? makeTempDir();
  const runbooksDir = path.join(dir, 'runbooks');
  mkdirSync(runbooksDir, { recursive: true });
  for (const [name, text] of Object.entries(options.runbooks))
    writeFileSync(path.join(runbooksDir, `${name}.md`), text);
  const parsed = parseConfig(options.configYaml, path.join(dir, 'lifeboat.yml'), options.env ?? {});
  const config: Config = {
    ...parsed,
    store: options.sameStoreAs?.config.store ?? testStoreFor(parsed.store, options.store),
  };
  const store = await openStoreAt(config.store);
  const clock = options.clock ?? testClock();
  const engine = new Engine({
    store,
    config,
    clock,
    loadRunbook: (name) => resolveRunbookByName(name, runbooksDir),
    providersFor:
      options.providersFor ??
      ((service, kind, promote) => createServiceProviders(service, kind, { promote })),
    sleep: options.sleep ?? (() => Promise.resolve()),
    actions: options.actions,
    announce: options.announce,
    ...(options.executorId ? { executorId: options.executorId } : {}),
  });
  const events: EngineEvent[] = [];
  engine.on((event) => {
    events.push(event);
  });
  return { engine, store, config, clock, events, dir };
}

export function postgresConfig(primary: string, replica: string, extra = ''): string {
  return `approvals:
  approvers: [U0ALICE, U0BOB, U0CAROL]
  required: 1
  expires_after: 15m
cli:
  users: { alice: U0ALICE, bob: U0BOB, carol: U0CAROL }
services:
  payments-db:
    rto: 15m
    rpo: 1m
    database: { provider: postgres, primary: "${primary}", replica: "${replica}" }
${extra}`;
}

/**
 * Plays the people: completes manual steps as U0ALICE, approves as U0BOB, until the run stops
 * moving (or `stopAt` says so). Returns where it stopped.
 */
export async function playThrough(
  t: TestEngine,
  runId: string,
  stopAt?: (view: RunView) => boolean,
): Promise<RunView> {
  for (let turn = 0; turn < 100; turn++) {
    await t.engine.idle();
    const view = await t.engine.getRun(runId);
    const current = view.current;
    if (!current || (stopAt && stopAt(view))) return view;
    t.clock.advance(20_000);
    if (current.waitingOn === 'operator') {
      await t.engine.completeStep({
        key: `done-${current.index}`,
        actor: { user: 'U0ALICE' },
        runId,
        stepIndex: current.index,
      });
    } else if (current.waitingOn === 'approval') {
      const pending = current.approvals.find((a) => a.status === 'pending')!;
      await t.engine.decideApproval({
        key: `approve-${pending.id}`,
        actor: { user: 'U0BOB' },
        approvalId: pending.id,
        decision: 'approve',
      });
    } else {
      return view;
    }
  }
  throw new Error(`run ${runId} did not stop moving in 100 turns`);
}
