// Route 53 failover routing (`mode: failover-routing`), as the seed's multi-region setup has it: two
// record sets of one name, PRIMARY (with a health check) and SECONDARY. Route 53 answers SECONDARY
// while the PRIMARY's health check is unhealthy. lifeboat forces that: it disables the health check
// and inverts it — disabled alone counts as healthy, disabled and inverted as unhealthy, whatever
// the primary's real state (inverting alone would turn a dead primary healthy and send traffic
// back to it). A failback enables the check and stops inverting it, so Route 53 answers PRIMARY
// again once the primary passes. lifeboat never rewrites the records themselves.

import type { HealthCheck, ResourceRecordSet, Route53Client } from '@aws-sdk/client-route-53';
import { route53Sdk } from './sdk.js';
import { ProviderError } from '../../errors.js';
import type { DnsProvider } from '../types.js';
import { CHECK_BUDGET_MS, dnsName, recordSets, recordValue } from './route53.js';
import { withAwsRetry, type RetryOptions } from './retry.js';

export interface FailoverRoutingDns {
  zone_id: string;
  record: string;
  type: 'CNAME' | 'A' | 'AAAA';
}

/** Route 53 counts an endpoint healthy when more than 18% of its checkers see it healthy. */
const HEALTHY_SHARE = 0.18;

interface Member {
  role: 'PRIMARY' | 'SECONDARY';
  setIdentifier: string;
  value: string;
}
interface Pair {
  primary: Member & { healthCheckId: string };
  secondary: Member;
}

export function createRoute53FailoverProvider(
  dns: FailoverRoutingDns,
  options: { client: Route53Client; retry?: RetryOptions },
): DnsProvider {
  const name = `Route 53 failover ${dns.type} ${dns.record} (zone ${dns.zone_id})`;
  /** `quick`: one attempt on a short budget (the check before a promotion must not wait long). */
  const send = <T>(call: (signal?: AbortSignal) => Promise<T>, quick = false) =>
    quick
      ? withAwsRetry(name, () => call(AbortSignal.timeout(CHECK_BUDGET_MS)), {
          ...options.retry,
          attempts: 1,
        })
      : withAwsRetry(name, () => call(), options.retry);

  const readPair = async (quick = false): Promise<Pair> => {
    const sets = await recordSets(options.client, dns, name, { quick, retry: options.retry });
    const primary = sets.find((set) => set.Failover === 'PRIMARY');
    const secondary = sets.find((set) => set.Failover === 'SECONDARY');
    if (!primary || !secondary)
      throw new ProviderError(
        name,
        `has ${sets.length ? sets.map(describeSet).join(' and ') : 'no record'}, not a PRIMARY and a SECONDARY failover record: mode failover-routing switches between the two (see examples/terraform)`,
        true,
      );
    if (!primary.HealthCheckId)
      throw new ProviderError(
        name,
        `its PRIMARY record (${primary.SetIdentifier}) has no health check: Route 53 fails a PRIMARY over only through its health check — attach one`,
        true,
      );
    return {
      primary: { ...member(primary, 'PRIMARY'), healthCheckId: primary.HealthCheckId },
      secondary: member(secondary, 'SECONDARY'),
    };
  };

  const healthCheck = async (id: string, quick = false): Promise<HealthCheck> => {
    const output = await send(
      (abortSignal) =>
        options.client.send(new (route53Sdk().GetHealthCheckCommand)({ HealthCheckId: id }), {
          abortSignal,
        }),
      quick,
    );
    if (!output.HealthCheck)
      throw new ProviderError(name, `health check ${id} was not found`, true);
    return output.HealthCheck;
  };

  /** What the checkers see of the PRIMARY: "healthy (14 of 16 checkers)". */
  const observed = async (
    id: string,
    quick = false,
  ): Promise<{ healthy: boolean; detail: string }> => {
    const output = await send(
      (abortSignal) =>
        options.client.send(new (route53Sdk().GetHealthCheckStatusCommand)({ HealthCheckId: id }), {
          abortSignal,
        }),
      quick,
    );
    const observations = output.HealthCheckObservations ?? [];
    const passing = observations.filter((o) =>
      (o.StatusReport?.Status ?? '').startsWith('Success'),
    ).length;
    const healthy = observations.length > 0 && passing / observations.length > HEALTHY_SHARE;
    return {
      healthy,
      detail: `${healthy ? 'passes' : 'fails'} (${passing} of ${observations.length} checkers see it healthy)`,
    };
  };

  /** Which record Route 53 answers with now, and why. */
  const answered = async (pair: Pair, quick = false): Promise<{ serving: Member; why: string }> => {
    const id = pair.primary.healthCheckId;
    const check = await healthCheck(id, quick);
    const config = check.HealthCheckConfig;
    if (config?.Disabled && config.Inverted)
      return {
        serving: pair.secondary,
        why: `the PRIMARY's health check ${id} is disabled and inverted: unhealthy whatever the primary's state`,
      };
    if (config?.Disabled)
      return {
        serving: pair.primary,
        why: `the PRIMARY's health check ${id} is disabled: Route 53 counts it healthy`,
      };
    const seen = await observed(id, quick);
    const healthy = config?.Inverted ? !seen.healthy : seen.healthy;
    return {
      serving: healthy ? pair.primary : pair.secondary,
      why: `the PRIMARY's health check ${id} ${seen.detail}${config?.Inverted ? ', inverted' : ''}`,
    };
  };

  const memberAt = (pair: Pair, endpoint: string): Member | null =>
    [pair.primary, pair.secondary].find((m) => dnsName(m.value) === dnsName(endpoint)) ?? null;

  const notAMember = (pair: Pair, endpoint: string) =>
    new ProviderError(
      name,
      `its failover records point at ${pair.primary.value} (PRIMARY) and ${pair.secondary.value} (SECONDARY), not at ${endpoint}: lifeboat switches between them and does not rewrite them — point the SECONDARY record at ${endpoint}`,
      true,
    );

  return {
    name,
    describeSwitch: (endpoint) =>
      `Make Route 53 answer ${dns.type} ${dns.record} (zone ${dns.zone_id}) with the failover record that points at ${endpoint}: to the SECONDARY by disabling and inverting the PRIMARY's health check (unhealthy whatever the primary's state); back to the PRIMARY by enabling it and no longer inverting it. The records themselves are not changed.`,
    check: async () => {
      const pair = await readPair(true);
      const { serving, why } = await answered(pair, true);
      return `${dns.record}: PRIMARY ${pair.primary.value}, SECONDARY ${pair.secondary.value}; Route 53 answers ${serving.role}: ${why}`;
    },
    async writeAsks(partition) {
      const { primary } = await readPair(true);
      return [
        {
          action: 'route53:UpdateHealthCheck',
          resource: `arn:${partition}:route53:::healthcheck/${primary.healthCheckId}`,
        },
      ];
    },
    async pointsAt(endpoint) {
      const pair = await readPair();
      const wanted = memberAt(pair, endpoint);
      if (!wanted) return { ok: false, summary: notAMember(pair, endpoint).reason };
      const { serving, why } = await answered(pair);
      return {
        ok: serving === wanted,
        summary: `Route 53 answers ${dns.record} with the ${serving.role} record (${serving.value}): ${why}`,
      };
    },
    async switchTo(endpoint) {
      const pair = await readPair();
      const wanted = memberAt(pair, endpoint);
      if (!wanted) throw notAMember(pair, endpoint);
      const id = pair.primary.healthCheckId;
      const check = await healthCheck(id);
      const force = wanted.role === 'SECONDARY';
      const config = check.HealthCheckConfig;
      if (Boolean(config?.Disabled) === force && Boolean(config?.Inverted) === force)
        return {
          detail: `${dns.record} already fails over to ${wanted.role} (${wanted.value}): health check ${id} is ${force ? 'disabled and inverted' : 'enabled and not inverted'}`,
        };
      await send(() =>
        options.client.send(
          new (route53Sdk().UpdateHealthCheckCommand)({
            HealthCheckId: id,
            // Refused if someone changed the check since it was read: nothing is overwritten.
            HealthCheckVersion: check.HealthCheckVersion,
            Disabled: force,
            Inverted: force,
          }),
        ),
      );
      return {
        detail: force
          ? `${dns.record} fails over to the SECONDARY record (${wanted.value}): the PRIMARY's health check ${id} is disabled and inverted, so Route 53 counts it unhealthy whatever the primary's state`
          : `${dns.record} fails back to the PRIMARY record (${wanted.value}): its health check ${id} is enabled and no longer inverted, so Route 53 answers PRIMARY while the primary passes it`,
      };
    },
  };
}

function member(set: ResourceRecordSet, role: Member['role']): Member {
  return { role, setIdentifier: set.SetIdentifier ?? '', value: recordValue(set) };
}

function describeSet(set: ResourceRecordSet): string {
  const policy = set.Failover
    ? `a ${set.Failover} failover record`
    : set.Weight !== undefined
      ? `a weighted record (weight ${set.Weight})`
      : set.SetIdentifier
        ? 'a routing-policy record'
        : 'a plain record';
  return `${policy}${set.SetIdentifier ? ` (${set.SetIdentifier})` : ''}`;
}
