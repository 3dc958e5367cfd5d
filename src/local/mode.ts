// Local mode: `npm start` without Slack tokens. The world under .lifeboat/ (a PostgreSQL pair, an
// S3 stand-in with a real backup, a generated config), the demo application writing payments,
// the real engine and Bolt app served exactly as for Slack — and the console, which is Slack for
// the Bolt app (its Web API) and a channel for the person at the browser.

import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { loadConfig } from '../config.js';
import { ConfigError } from '../errors.js';
import type { Logger } from '../log.js';
import { checkReadiness } from '../readiness.js';
import { serve, type Serving } from '../serve.js';
import { listRunsInFlight } from '../store/runs.js';
import { startConsoleServer, type ConsoleServer } from './console/server.js';
import { Workspace, type Person, type SavedWorkspace } from './console/workspace.js';
import { DemoApp } from './demo-app.js';
import {
  LOCAL_USERS,
  killPrimary,
  partitionPrimary,
  rebuildOldPrimary,
  rebuildPair,
  startLocalEnvironment,
  type LocalEnvironment,
} from './environment.js';
import { assertNotRunning, runningMarkerOf } from './running.js';
import { currentOsIdentity, osAccountOf } from '../people.js';
import { S3RVER_CREDENTIALS } from '../providers/aws/s3.js';
import { checkReplication } from '../checks/lag.js';
import { takeBackups } from '../checks/take.js';
import { classifyNodes } from '../actions/db/classify-nodes.js';
import { isLocking } from '../engine/conflicts.js';
import type { NodeProbe, ProbePurpose } from '../providers/types.js';
import { currentProtection, type ProtectionState } from '../store/protection.js';

/** What the panel says a server is: accepting writes, fenced read-only, a standby, or down. */
export type PanelRole = 'primary' | 'fenced' | 'standby' | 'down';
const PANEL_ROLE: Record<NodeProbe['role'], PanelRole> = {
  writable: 'primary',
  fenced: 'fenced',
  standby: 'standby',
  unreachable: 'down',
};
const SERVICE = 'payments-db';

export const PEOPLE: readonly Person[] = [
  { id: LOCAL_USERS.requester, name: 'alice', role: 'on-call engineer' },
  { id: LOCAL_USERS.approver, name: 'bob', role: 'SRE lead, second approver' },
];

export interface LocalModeOptions {
  /** .lifeboat/ */
  dir: string;
  runbooksDir: string;
  /** The console's port (0: any free one). */
  port: number;
  /** The process environment (AWS, PG settings); Slack's variables are set by local mode. */
  env: Record<string, string | undefined>;
  logger: Logger;
  /** Where the startup lines go. */
  print?: (line: string) => void;
}

export interface LocalMode {
  url: string;
  environment: LocalEnvironment;
  serving: Serving;
  workspace: Workspace;
  stop(): Promise<void>;
}

export async function startLocalMode(options: LocalModeOptions): Promise<LocalMode> {
  const print = options.print ?? (() => undefined);
  const markerFile = runningMarkerOf(options.dir);
  assertNotRunning(options.dir, 'start another');
  const savedFile = path.join(options.dir, 'console.json');
  const workspace = new Workspace(PEOPLE, readSaved(savedFile));
  const saver = debounce(() => writeAtomically(savedFile, JSON.stringify(workspace.save())), 200);
  workspace.on('change', () => saver.call());

  const signingSecret = randomBytes(32).toString('hex');
  let environment: LocalEnvironment | null = null;
  let serving: Serving | null = null;
  let busy: string | null = null;
  const states: Record<'primary' | 'standby', PanelRole> = { primary: 'down', standby: 'down' };
  let protection: { state: ProtectionState; detail: string; since: string | null } | null = null;
  let consoleServer: ConsoleServer | null = null;
  const infraChanged = () => consoleServer?.infraChanged();
  const demo = new DemoApp(
    () => environment!.pair,
    infraChanged,
    500,
    () => environment?.partitionedSince !== null,
  );

  const infra = () => ({
    ready: serving !== null,
    busy,
    disasterAt: environment?.primaryDownSince?.toISOString() ?? null,
    partitionedAt: environment?.partitionedSince?.toISOString() ?? null,
    primary: { port: environment?.pair.primary.port ?? null, state: states.primary },
    standby: { port: environment?.pair.standby.port ?? null, state: states.standby },
    protection,
    app: { ...demo.snapshot(), healthy: demo.healthy() },
    s3: environment?.s3Endpoint ?? null,
  });

  /** The one server that takes writes, or null when none does or both do. */
  const soleWriter = (): 'primary' | 'standby' | null =>
    states.standby === 'primary' && states.primary !== 'primary'
      ? 'standby'
      : states.primary === 'primary' && states.standby !== 'primary'
        ? 'primary'
        : null;

  const exclusive = async (what: string, work: () => Promise<string>): Promise<string> => {
    if (!environment || !serving) return 'Local mode is still starting.';
    if (busy) return `Busy: ${busy}`;
    busy = what;
    infraChanged();
    try {
      // Who is up and who writes, looked at afresh as a decision: the panel's once-a-second status
      // look may have run out of time on a busy machine, and must not be taken for a server down.
      await probe('decision');
      return await work();
    } finally {
      busy = null;
      await probe();
    }
  };

  const server = await startConsoleServer(
    {
      workspace,
      // The app listens on a port of its own choosing once local mode is up; nothing is sent before.
      appUrl: () => (serving?.port ? `http://127.0.0.1:${serving.port}` : null),
      signingSecret,
      logger: options.logger,
      controls: {
        infra,
        healthy: () => demo.healthy(),
        disaster: () =>
          exclusive('killing the primary…', async () => {
            if (states.primary === 'down')
              return 'The primary is already down. "Rebuild the pair" brings it back.';
            const at = new Date();
            await killPrimary(environment!, at);
            return `The primary (port ${environment!.pair.primary.port}) was killed at ${at.toISOString().slice(11, 19)} UTC (pg_ctl stop -m immediate). Writes fail from now on: try /dr status, then /dr failover payments-db.`;
          }),
        partition: () =>
          exclusive('cutting the demo app off from the primary…', () => {
            if (states.primary !== 'primary')
              return Promise.resolve(
                'The primary does not take writes now: a partition needs a live primary. "Rebuild the pair" brings it back.',
              );
            const at = new Date();
            partitionPrimary(environment!, at);
            return Promise.resolve(
              `At ${at.toISOString().slice(11, 19)} UTC the demo app lost the primary (port ${environment!.pair.primary.port}), which lives on and still accepts writes from anyone who reaches it: a partition, not a crash. /dr failover payments-db now has to fence it before promoting the standby.`,
            );
          }),
        restore: () =>
          exclusive('rebuilding the pair…', async () => {
            const running = (await listRunsInFlight(serving!.engine.store)).filter(isLocking);
            if (running.length > 0)
              return `Run ${running[0]!.id} (${running[0]!.kind}) is still in flight: finish or abort it before rebuilding the pair.`;
            await demo.stop();
            await rebuildPair(environment!);
            demo.start();
            await recordProtection();
            return `A fresh primary (port ${environment!.pair.primary.port}) and streaming standby (port ${environment!.pair.standby.port}) are up; the demo app writes to the primary again.`;
          }),
        backup: () =>
          exclusive('taking a backup…', async () => {
            const writer = soleWriter();
            if (writer === null)
              return 'A backup needs one server that takes writes: none does, or both do.';
            // What `lifeboat backup take` does: the real path, manifest and audit included.
            const engine = serving!.engine;
            const [result] = await takeBackups(
              engine.config,
              engine.store,
              (service, kind) => engine.providersFor(service, kind),
              { clock: () => new Date(), actor: LOCAL_USERS.requester, only: SERVICE },
            );
            if (!result?.taken)
              return `No backup taken: ${result?.summary ?? 'nothing to back up'}`;
            return `pg_dump of the ${writer} (port ${environment!.pair[writer].port}): ${result.taken.bytes} bytes in ${result.taken.where}, its SHA-256 and ${Object.keys(result.taken.tables).length} tables' row counts in a manifest beside it. /dr backups check sees it now.`;
          }),
        rebuildOldPrimary: () =>
          exclusive('rebuilding the old writer as a standby…', async () => {
            const writer = soleWriter();
            if (writer === null || protection?.state !== 'unprotected')
              return 'That is for after a failover or failback: one server writing, nothing following it.';
            await rebuildOldPrimary(environment!, writer);
            await recordProtection();
            const rebuilt = writer === 'standby' ? 'old primary' : 'standby';
            return `The ${rebuilt} (port ${environment!.pair[writer === 'standby' ? 'primary' : 'standby'].port}) is now a streaming standby of the ${writer}: payments-db is protected again${writer === 'standby' ? ', and /dr failback payments-db can promote it back' : ''}.`;
          }),
      },
    },
    options.port,
  );
  consoleServer = server;

  let monitor: NodeJS.Timeout | null = null;
  const database = () =>
    serving!.engine.providersFor(serving!.engine.config.services[SERVICE]!, 'failover').database!;
  /** What both servers are now, for the panel: a status look every second; a decision look first in every panel action. */
  const probe = async (purpose: ProbePurpose = 'status') => {
    if (!environment || !serving) return;
    const [primary, replica] = await Promise.all([
      database().probe('primary', purpose),
      database().probe('replica', purpose),
    ]);
    const seen = classifyNodes(primary, replica);
    const episode = await currentProtection(serving.engine.store, SERVICE);
    const next = {
      state: seen.state,
      detail: seen.detail,
      since: episode?.state === seen.state ? episode.startedAt : null,
    };
    const changed =
      PANEL_ROLE[primary.role] !== states.primary ||
      PANEL_ROLE[replica.role] !== states.standby ||
      JSON.stringify(next) !== JSON.stringify(protection);
    states.primary = PANEL_ROLE[primary.role];
    states.standby = PANEL_ROLE[replica.role];
    protection = next;
    if (changed) infraChanged();
  };
  /** What lifeboat's own replication check would record, right away (not at the next minute). */
  const recordProtection = async () => {
    const engine = serving!.engine;
    const service = engine.config.services[SERVICE]!;
    await checkReplication(
      service,
      (promote) => engine.providersFor(service, 'failover', promote).database!,
      engine.store,
      new Date(),
    );
  };

  try {
    print(`starting local mode in ${options.dir}: PostgreSQL primary + standby, S3 stand-in…`);
    environment = await startLocalEnvironment(options.dir, options.runbooksDir, {
      healthCheckUrl: `${server.url}/demo/health`,
      cliAccount: osAccountOf(currentOsIdentity(), options.env),
    });
    if (!environment.pgRoot.startsWith(path.resolve(options.dir)))
      print(
        `  PostgreSQL data in ${environment.pgRoot}: the postgres user cannot reach ${options.dir}`,
      );
    const env = {
      ...options.env,
      LIFEBOAT_CONFIG: environment.configFile,
      SLACK_BOT_TOKEN: 'xoxb-local-console',
      SLACK_APP_TOKEN: '',
      SLACK_SIGNING_SECRET: signingSecret,
      SLACK_API_URL: `${server.url}/api/`,
      PORT: String(server.port),
    };
    const readiness = await checkReadiness(env, new Date());
    for (const line of readiness.lines) print(`  ${line}`);
    if (readiness.problems.length > 0)
      throw new ConfigError('', `local mode is not ready:\n${readiness.problems.join('\n')}`);
    serving = await serve(
      loadConfig(env),
      options.logger,
      { port: 0, host: '127.0.0.1' },
      { s3Credentials: S3RVER_CREDENTIALS },
    );
    await probe();
    demo.start();
    monitor = setInterval(() => void probe(), 1000);
  } catch (error) {
    await server.close();
    await environment?.stop();
    throw error;
  }

  const started = { environment, serving };
  writeAtomically(markerFile, JSON.stringify({ pid: process.pid, url: server.url }));
  return {
    url: server.url,
    ...started,
    workspace,
    stop: async () => {
      rmSync(markerFile, { force: true });
      if (monitor) clearInterval(monitor);
      await demo.stop();
      await started.serving.stop();
      await server.close();
      saver.flush();
      await started.environment.stop();
    },
  };
}

function readSaved(file: string): SavedWorkspace | undefined {
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as SavedWorkspace;
  } catch {
    return undefined; // a torn write: the channel starts empty, nothing else depends on it
  }
}

function writeAtomically(file: string, text: string): void {
  writeFileSync(`${file}.tmp`, text);
  renameSync(`${file}.tmp`, file);
}

function debounce(work: () => void, ms: number): { call(): void; flush(): void } {
  let timer: NodeJS.Timeout | null = null;
  return {
    call() {
      if (timer) return;
      timer = setTimeout(() => {
        timer = null;
        work();
      }, ms);
    },
    flush() {
      if (timer) clearTimeout(timer);
      timer = null;
      work();
    },
  };
}
