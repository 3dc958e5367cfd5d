// After a promotion the service is unprotected: nothing follows the new primary. db.rebuild-replica
// makes the other node a replica of it again (RDS: lifeboat creates the read replica; self-managed
// PostgreSQL: a person runs the commands shown), db.verify-replica checks that it streams from the
// writer within the RPO — and only then is the service protected again.

import { ProviderError } from '../../errors.js';
import type { DatabaseProvider, NodeName } from '../../providers/types.js';
import { needDatabase } from '../need.js';
import type { Action, ActionContext } from '../types.js';

/** Before this run's promotion the writer is the source; after it, the promoted target. */
export function writerAndStandby(
  context: ActionContext,
  database: DatabaseProvider,
): { writer: NodeName; standby: NodeName } {
  const promoted = context.earlier('db.promote')?.state === 'done';
  return promoted
    ? { writer: database.target, standby: database.source }
    : { writer: database.source, standby: database.target };
}

export const rebuildReplica: Action = {
  name: 'db.rebuild-replica',
  plan: (context) => {
    const database = context.providers.database;
    if (!database) return 'Rebuild the old primary as a replica of the current writer.';
    const { writer, standby } = writerAndStandby(context, database);
    return database.rebuild.mode === 'automatic'
      ? database.rebuild.describe(standby, writer)
      : `Rebuild ${database.nameOf(standby)} as a streaming standby of ${database.nameOf(writer)} by hand (the commands are in the step); db.verify-replica checks it afterwards.`;
  },
  instructions: (context) => {
    const database = context.providers.database;
    if (!database || database.rebuild.mode !== 'manual') return null;
    const { writer, standby } = writerAndStandby(context, database);
    return database.rebuild.instructions(standby, writer);
  },
  async run(context) {
    const database = needDatabase(context);
    if (database.rebuild.mode !== 'automatic')
      throw new ProviderError(database.targetName, 'is rebuilt by hand: mark the step done', true);
    const { writer, standby } = writerAndStandby(context, database);
    const result = await database.rebuild.run(standby, writer, { onProgress: context.progress });
    return { summary: result.detail, details: { standby, writer } };
  },
  async verify(context, outcome) {
    const database = needDatabase(context);
    const probe = await database.probe(outcome.details.standby as NodeName);
    return probe.role === 'standby'
      ? { ok: true, summary: probe.detail }
      : { ok: false, summary: `${probe.detail}: not a replica after the rebuild` };
  },
};

export const verifyReplica: Action = {
  name: 'db.verify-replica',
  plan: (context) => {
    const database = context.providers.database;
    if (!database) return 'Check that a replica streams from the current writer within the RPO.';
    const { writer, standby } = writerAndStandby(context, database);
    return `Check that ${database.nameOf(standby)} streams from ${database.nameOf(writer)} with lag within the RPO; the service counts as protected again only then. Read-only.`;
  },
  async run(context) {
    const database = needDatabase(context);
    const { writer, standby } = writerAndStandby(context, database);
    const status = await database.replicaStatus(standby, writer, context.service?.rpoSeconds ?? 0);
    if (!status.ok)
      throw new ProviderError(`service ${context.service?.name ?? '?'}`, status.detail, false);
    return {
      summary: status.detail,
      details: { standby, writer, lagSeconds: status.lagSeconds, lagBytes: status.lagBytes },
      protection: { state: 'protected', writer, detail: status.detail },
    };
  },
};
