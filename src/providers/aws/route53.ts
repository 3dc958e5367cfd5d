// Route 53 record switch (`mode: upsert`): UPSERT the record to the promoted database's endpoint and
// wait until the change is INSYNC. Route 53's control plane lives in one region of each partition
// (us-east-1; us-gov-west-1 in GovCloud; cn-northwest-1 in China): in a regional disaster prefer
// `mode: routing-control` (arc.ts). Names and values match as DNS does: whatever the case, with or
// without the trailing dot.

import type { Change, ResourceRecordSet, Route53Client, RRType } from '@aws-sdk/client-route-53';
import { route53Sdk } from './sdk.js';
import { ProviderError } from '../../errors.js';
import type { DnsProvider, OnProgress } from '../types.js';
import { reportWhileWaiting } from '../progress.js';
import { withAwsRetry, type RetryOptions } from './retry.js';

export interface UpsertDns {
  zone_id: string;
  record: string;
  type: 'CNAME' | 'A' | 'AAAA';
  ttl: number;
}

/** How long the check before a promotion waits on Route 53's control plane (in us-east-1). */
export const CHECK_BUDGET_MS = 3000;

export interface Route53Options {
  client: Route53Client;
  /** How long a change may take to be INSYNC, and how often to look. */
  maxWaitSeconds?: number;
  pollSeconds?: number;
  retry?: RetryOptions;
  sleep?: (ms: number) => Promise<void>;
}

export function createRoute53Provider(dns: UpsertDns, options: Route53Options): DnsProvider {
  const name = `Route 53 ${dns.type} ${dns.record} (zone ${dns.zone_id})`;
  const fqdn = dnsName(dns.record);

  /** The record's values; `quick`: one attempt on a short budget (the check before a promotion). */
  const currentValues = async (quick = false): Promise<string[]> => {
    const sets = await recordSets(options.client, dns, name, { quick, retry: options.retry });
    const routed = sets.find((set) => set.SetIdentifier || set.AliasTarget);
    if (routed)
      throw new ProviderError(
        name,
        routed.AliasTarget
          ? `is an alias record (to ${routed.AliasTarget.DNSName}): mode upsert writes plain records and would replace it; point the alias's target instead, or use a plain ${dns.type} record`
          : `is a routing-policy record (SetIdentifier ${routed.SetIdentifier}${routed.Failover ? `, ${routed.Failover}` : ''}): mode upsert would add a plain record beside it, which Route 53 refuses${routed.Failover ? '; use mode: failover-routing' : ''}`,
        true,
      );
    return (sets[0]?.ResourceRecords ?? []).map((record) =>
      (record.Value ?? '').replace(/\.$/, ''),
    );
  };

  const pointsAt = async (endpoint: string) => {
    const values = await currentValues();
    const ok = values.some((value) => dnsName(value) === dnsName(endpoint));
    return {
      ok,
      summary: ok
        ? `${dns.record} points at ${endpoint}`
        : `${dns.record} points at ${values.join(', ') || 'nothing'}, not ${endpoint}`,
    };
  };

  return {
    name,
    describeSwitch: (endpoint) =>
      `UPSERT ${dns.type} ${dns.record} -> ${endpoint} (TTL ${dns.ttl} s) in hosted zone ${dns.zone_id}, then wait until Route 53 reports INSYNC.`,
    pointsAt,
    check: async () => {
      const values = await currentValues(true);
      return `${dns.record} points at ${values.join(', ') || 'nothing (no such record yet)'}`;
    },
    writeAsks: (partition) =>
      Promise.resolve([
        {
          action: 'route53:ChangeResourceRecordSets',
          resource: `arn:${partition}:route53:::hostedzone/${dns.zone_id}`,
        },
      ]),
    async switchTo(endpoint, switchOptions) {
      const onProgress = switchOptions?.onProgress;
      if ((await pointsAt(endpoint)).ok)
        return { detail: `${dns.record} already points at ${endpoint}` };
      const id = await changeRecords(
        name,
        dns.zone_id,
        [
          {
            Action: 'UPSERT',
            ResourceRecordSet: {
              Name: fqdn,
              Type: dns.type,
              TTL: dns.ttl,
              ResourceRecords: [{ Value: endpoint }],
            },
          },
        ],
        options,
        onProgress,
      );
      return { detail: `${dns.record} now points at ${endpoint} (change ${id} INSYNC)` };
    },
  };
}

/**
 * ChangeResourceRecordSets in one batch, then GetChange until Route 53 reports it INSYNC (in
 * effect on all its servers), telling `onProgress`; the change's id.
 */
export async function changeRecords(
  name: string,
  zoneId: string,
  changes: Change[],
  options: Route53Options,
  onProgress?: OnProgress,
): Promise<string> {
  const change = await withAwsRetry(
    name,
    () =>
      options.client.send(
        new (route53Sdk().ChangeResourceRecordSetsCommand)({
          HostedZoneId: zoneId,
          ChangeBatch: { Comment: 'lifeboat failover', Changes: changes },
        }),
      ),
    options.retry,
  );
  const id = change.ChangeInfo?.Id;
  if (!id) throw new ProviderError(name, 'ChangeResourceRecordSets returned no change id', false);
  const maxWaitSeconds = options.maxWaitSeconds ?? 300;
  const pollMs = (options.pollSeconds ?? 5) * 1000;
  const sleep =
    options.sleep ?? ((ms: number) => new Promise((resolve) => setTimeout(resolve, ms)));
  const deadline = Date.now() + maxWaitSeconds * 1000;
  await reportWhileWaiting(`${name}: change ${id}`, onProgress, async (seen) => {
    for (;;) {
      const output = await withAwsRetry(
        name,
        () => options.client.send(new (route53Sdk().GetChangeCommand)({ Id: id })),
        options.retry,
      );
      const status = output.ChangeInfo?.Status ?? 'unknown';
      if (status === 'INSYNC') return;
      seen(status);
      if (Date.now() > deadline)
        throw new ProviderError(
          name,
          `change ${id} was still ${status}, not INSYNC, ${maxWaitSeconds} s after it was made`,
          false,
        );
      await sleep(pollMs);
    }
  });
  return id;
}

/**
 * Every record set named `dns.record` of `dns.type` (several with a routing policy: one per
 * SetIdentifier); `quick`: one attempt on a short budget (the check before a promotion).
 */
export async function recordSets(
  client: Route53Client,
  dns: { zone_id: string; record: string; type: string },
  name: string,
  options: { quick?: boolean; retry?: RetryOptions } = {},
): Promise<ResourceRecordSet[]> {
  const fqdn = dnsName(dns.record);
  const output = await withAwsRetry(
    name,
    () =>
      client.send(
        new (route53Sdk().ListResourceRecordSetsCommand)({
          HostedZoneId: dns.zone_id,
          StartRecordName: fqdn,
          StartRecordType: dns.type as RRType,
          MaxItems: 100,
        }),
        options.quick ? { abortSignal: AbortSignal.timeout(CHECK_BUDGET_MS) } : {},
      ),
    options.quick ? { ...options.retry, attempts: 1 } : options.retry,
  );
  return (output.ResourceRecordSets ?? []).filter(
    (set) => dnsName(set.Name ?? '') === fqdn && set.Type === dns.type,
  );
}

/** Where a record set points: its first value, or its alias target; without the trailing dot. */
export function recordValue(set: ResourceRecordSet): string {
  return (set.AliasTarget?.DNSName ?? set.ResourceRecords?.[0]?.Value ?? '').replace(/\.$/, '');
}

/** A DNS name as Route 53 compares it: lower case, ending in a dot. */
export function dnsName(name: string): string {
  const lower = name.toLowerCase();
  return lower.endsWith('.') ? lower : `${lower}.`;
}

/** The region of Route 53's control plane in the partition `region` belongs to. */
export function route53RegionFor(region: string | null): string {
  if (region?.startsWith('us-gov-')) return 'us-gov-west-1';
  if (region?.startsWith('cn-')) return 'cn-northwest-1';
  return 'us-east-1';
}
