// backup.copy-snapshot: the newest available snapshot of an RDS service in the primary's region
// (RDS's automated ones included) copied to the DR region and waited on there — a backup in the
// primary's region goes down with it. Running it again finds the copy already there.

import { ProviderError } from '../../errors.js';
import type { Action, ActionContext } from '../types.js';

function noSnapshots(context: ActionContext): string | null {
  if (context.providers.snapshots) return null;
  return `${context.service?.name ?? 'This run'} has no snapshots: in lifeboat.yml (an aws-rds service's RDS snapshots), so this step is skipped.`;
}

export const copySnapshot: Action = {
  name: 'backup.copy-snapshot',
  skipReason: noSnapshots,
  plan: (context) =>
    noSnapshots(context) ??
    `Copy the newest available snapshot in ${context.providers.snapshots!.primaryRegion} to ${context.providers.snapshots!.drRegion} (CopyDBSnapshot) and wait until it is available there. Creates a copy; changes nothing else.`,
  async run(context) {
    const store = context.providers.snapshots!;
    const source = (await store.list(store.primaryRegion)).find(
      (snapshot) => snapshot.status === 'available',
    );
    if (!source)
      throw new ProviderError(
        `RDS snapshots (${store.primaryRegion})`,
        'there is no available snapshot to copy',
        true,
      );
    const copy = await store.copyToDr(source, context.progress);
    return {
      summary: `${source.id} (${source.region}) copied to ${copy.region} as ${copy.id}: available`,
      details: { source: source.id, copy: copy.id, region: copy.region },
    };
  },
  async verify(context, outcome) {
    const store = context.providers.snapshots!;
    const id = String(outcome.details.copy);
    const found = (await store.list(store.drRegion)).find((snapshot) => snapshot.id === id);
    return found?.status === 'available'
      ? { ok: true, summary: `${id} is available in ${store.drRegion}` }
      : { ok: false, summary: `${id} is ${found?.status ?? 'not'} in ${store.drRegion}` };
  },
};
