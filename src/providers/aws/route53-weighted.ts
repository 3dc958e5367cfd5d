// Route 53 weighted records (`mode: weighted`): one name, one record set per SetIdentifier, each with
// a weight — an active-passive pair has the primary's at, say, 100 and the DR one's at 0. A switch
// gives the record set that points at the promoted database the active weight and every other one
// 0, in one change batch (Route 53 applies a batch whole or not at all), then waits until INSYNC.
// Everything else about each record set (TTL, health check, alias target) is written back as read.

import type { ResourceRecordSet } from '@aws-sdk/client-route-53';
import { ProviderError } from '../../errors.js';
import type { DnsProvider } from '../types.js';
import { changeRecords, dnsName, recordSets, recordValue, type Route53Options } from './route53.js';

export interface WeightedDns {
  zone_id: string;
  record: string;
  type: 'CNAME' | 'A' | 'AAAA';
  /** The weight the record set in use gets; the others get 0. */
  weight: number;
}

export function createRoute53WeightedProvider(
  dns: WeightedDns,
  options: Route53Options,
): DnsProvider {
  const name = `Route 53 weighted ${dns.type} ${dns.record} (zone ${dns.zone_id})`;

  const readSets = async (quick = false): Promise<ResourceRecordSet[]> => {
    const sets = await recordSets(options.client, dns, name, { quick, retry: options.retry });
    const weighted = sets.filter((set) => set.Weight !== undefined);
    if (weighted.length < 2 || weighted.length !== sets.length)
      throw new ProviderError(
        name,
        `has ${sets.length} record set(s), ${weighted.length} of them weighted: mode weighted needs two or more weighted record sets of this name and type (one per endpoint)`,
        true,
      );
    return weighted;
  };

  const weights = (sets: ResourceRecordSet[]) =>
    sets.map((set) => `${set.SetIdentifier} ${recordValue(set)} weight ${set.Weight}`).join(', ');

  const setAt = (sets: ResourceRecordSet[], endpoint: string) => {
    const found = sets.find((set) => dnsName(recordValue(set)) === dnsName(endpoint));
    if (!found)
      throw new ProviderError(
        name,
        `no weighted record set points at ${endpoint} (${weights(sets)}): lifeboat moves the weight between them and does not rewrite them — add one for ${endpoint}`,
        true,
      );
    return found;
  };

  /** Whether all the weight is on `endpoint`'s record set. */
  const onlyOn = (sets: ResourceRecordSet[], target: ResourceRecordSet) =>
    sets.every((set) => (set === target ? (set.Weight ?? 0) > 0 : set.Weight === 0));

  return {
    name,
    describeSwitch: (endpoint) =>
      `Give the weighted record set of ${dns.type} ${dns.record} (zone ${dns.zone_id}) that points at ${endpoint} weight ${dns.weight} and every other one weight 0, in one change, then wait until Route 53 reports INSYNC.`,
    check: async () => `${dns.record}: ${weights(await readSets(true))}`,
    writeAsks: (partition) =>
      Promise.resolve([
        {
          action: 'route53:ChangeResourceRecordSets',
          resource: `arn:${partition}:route53:::hostedzone/${dns.zone_id}`,
        },
      ]),
    async pointsAt(endpoint) {
      const sets = await readSets();
      const target = setAt(sets, endpoint);
      return {
        ok: onlyOn(sets, target),
        summary: `${dns.record}: ${weights(sets)}`,
      };
    },
    async switchTo(endpoint, switchOptions) {
      const sets = await readSets();
      const target = setAt(sets, endpoint);
      if (onlyOn(sets, target))
        return { detail: `${dns.record} already sends all its weight to ${endpoint}` };
      const id = await changeRecords(
        name,
        dns.zone_id,
        sets.map((set) => ({
          Action: 'UPSERT' as const,
          ResourceRecordSet: { ...set, Weight: set === target ? dns.weight : 0 },
        })),
        options,
        switchOptions?.onProgress,
      );
      return {
        detail: `${dns.record} sends all its weight to ${endpoint} (${target.SetIdentifier} weight ${dns.weight}, the others 0; change ${id} INSYNC)`,
      };
    },
  };
}
