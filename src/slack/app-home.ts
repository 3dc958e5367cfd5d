// App Home: readiness of every service, runs in flight and recent runs — published when someone
// opens the tab, from the same status command as `/dr status`.

import type { WebClient } from '@slack/web-api';
import { status } from '../../commands/status.js';
import type { Reply } from '../../commands/command.js';
import { formatDuration } from '../duration.js';
import type { Engine } from '../engine/engine.js';
import { listRuns } from '../store/runs.js';
import { rtoHistory, rtoSparkline } from '../chart/rto-trend.js';
import { context, divider, escape, header, section, slackTime, type Block } from './blocks/kit.js';

export async function renderAppHome(engine: Engine, user: string): Promise<Block[]> {
  const readiness = (await status.run([], {
    config: engine.config,
    store: engine.store,
    user,
    clock: engine.clock,
    engine,
  })) as Extract<Reply, { type: 'message' }>;
  const recent = await listRuns(engine.store, 10);
  const runs = recent.map(
    (run) =>
      `• \`${run.id}\` ${slackTime(run.startedAt)} — ${run.kind}, runbook \`${escape(run.runbook)}\`${run.service ? ` (${escape(run.service)})` : ''}: *${run.status}*${run.rtoSeconds === null ? '' : `, RTO ${formatDuration(run.rtoSeconds)}`}`,
  );
  // Each service's achieved RTO across its recoveries against its objective (`/dr report` has the chart).
  const trends = await Promise.all(
    Object.values(engine.config.services).map(
      async (service) =>
        `• *${escape(service.name)}* ${escape(rtoSparkline(await rtoHistory(engine.store, service.name), service.rtoSeconds))}`,
    ),
  );
  return [
    header('lifeboat — disaster recovery readiness'),
    section(readiness.text),
    divider(),
    ...(trends.length ? [section(`*RTO trend*\n${trends.join('\n')}`), divider()] : []),
    section(`*Recent runs*\n${runs.join('\n') || 'none yet'}`),
    context(
      '`/dr help` for commands · `/dr failover <service>` asks for confirmation, then for a second person',
    ),
  ];
}

export async function publishAppHome(
  client: WebClient,
  engine: Engine,
  user: string,
): Promise<void> {
  await client.views.publish({
    user_id: user,
    view: { type: 'home', blocks: await renderAppHome(engine, user) },
  });
}
