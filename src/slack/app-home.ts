// App Home: readiness of every service, runs in flight and recent runs — published when someone
// opens the tab, from the same status command as `/dr status`.

import type { WebClient } from '@slack/web-api';
import { status } from '../../commands/status.js';
import type { Reply } from '../../commands/command.js';
import { formatDuration } from '../duration.js';
import type { Engine } from '../engine/engine.js';
import { listRuns } from '../store/runs.js';
import { renderRtoChart, rtoHistory, rtoSparkline } from '../chart/rto-trend.js';
import { createHash } from 'node:crypto';
import type { Logger } from '../log.js';
import { context, divider, escape, header, section, slackTime, type Block } from './blocks/kit.js';

/**
 * Uploads the chart `draw` makes and says its file id (null when it could not): App Home shows it
 * by id. `content` names what the chart shows: the same content is drawn and uploaded once.
 */
export type ChartUploader = (
  content: string,
  draw: () => Buffer,
  name: string,
  title: string,
) => Promise<string | null>;

export async function renderAppHome(
  engine: Engine,
  user: string,
  uploadChart?: ChartUploader,
): Promise<Block[]> {
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
  // Each service's achieved RTO across its recoveries against its objective: a line of text, and
  // the chart where it could be uploaded.
  const trends: string[] = [];
  const charts: Block[] = [];
  for (const service of Object.values(engine.config.services)) {
    const points = await rtoHistory(engine.store, service.name);
    trends.push(`• *${escape(service.name)}* ${escape(rtoSparkline(points, service.rtoSeconds))}`);
    if (!points.length || !uploadChart) continue;
    const title = `${service.name}: achieved RTO against the objective`;
    const id = await uploadChart(
      JSON.stringify([service.rtoSeconds, points.map((point) => [point.runId, point.rtoSeconds])]),
      () => renderRtoChart(points, service.rtoSeconds),
      `rto-${service.name}.png`,
      title,
    );
    if (id)
      charts.push({
        type: 'image',
        slack_file: { id },
        alt_text: title,
        title: { type: 'plain_text', text: title.slice(0, 2000) },
      });
  }
  return [
    header('lifeboat — disaster recovery readiness'),
    section(readiness.text),
    divider(),
    ...(trends.length ? [section(`*RTO trend*\n${trends.join('\n')}`), ...charts, divider()] : []),
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
  logger?: Logger,
): Promise<void> {
  await client.views.publish({
    user_id: user,
    view: {
      type: 'home',
      blocks: await renderAppHome(engine, user, chartUploader(client, logger)),
    },
  });
}

/**
 * Charts uploaded as private files (no channel), each drawn and uploaded once per content: opening
 * App Home again shows the same file until a new recovery changes the chart.
 */
const uploaded = new Map<string, string>();

function chartUploader(client: WebClient, logger?: Logger): ChartUploader {
  return async (content, draw, filename, title) => {
    const key = createHash('sha256').update(content).digest('hex');
    const known = uploaded.get(key);
    if (known) return known;
    try {
      const result = (await client.files.uploadV2({
        file: draw(),
        filename,
        title,
        alt_text: title,
      })) as {
        files?: { files?: { id?: string }[] }[];
      };
      const id = result.files?.[0]?.files?.[0]?.id ?? null;
      if (id) uploaded.set(key, id);
      return id;
    } catch (error) {
      logger?.warn(
        { err: error },
        'could not upload the RTO chart for App Home; it shows the trend line',
      );
      return null;
    }
  };
}
