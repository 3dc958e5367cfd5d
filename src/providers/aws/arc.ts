// Route 53 Application Recovery Controller (`mode: routing-control`): flip the DR cell's routing
// control through the data-plane cluster, trying each cluster endpoint in turn — the data plane is
// spread over five regions, which is why it is the right switch in a regional disaster.

import type { Route53RecoveryClusterClient } from '@aws-sdk/client-route53-recovery-cluster';
import { recoveryClusterSdk } from './sdk.js';
import { ProviderError } from '../../errors.js';
import type { DnsProvider } from '../types.js';
import { withAwsRetry, type RetryOptions } from './retry.js';

export interface RoutingControlDns {
  routing_control_arn: string;
  cluster_endpoints: { url: string; region: string }[];
}

/**
 * `state` is what the switch sets: On routes traffic to the DR cell (failover), Off routes it back
 * (failback). Pair the control in ARC with a safety rule that keeps exactly one cell on.
 */
export function createRoutingControlProvider(
  dns: RoutingControlDns,
  options: {
    state: 'On' | 'Off';
    clientFor: (endpoint: { url: string; region: string }) => Route53RecoveryClusterClient;
    retry?: RetryOptions;
  },
): DnsProvider {
  const name = `routing control ${dns.routing_control_arn}`;

  async function onAnyEndpoint<T>(
    call: (client: Route53RecoveryClusterClient) => Promise<T>,
  ): Promise<T> {
    const failures: string[] = [];
    for (const endpoint of dns.cluster_endpoints) {
      try {
        return await withAwsRetry(
          `${name} via ${endpoint.url}`,
          () => call(options.clientFor(endpoint)),
          { attempts: 2, ...options.retry },
        );
      } catch (error) {
        failures.push((error as Error).message);
      }
    }
    throw new ProviderError(name, `no cluster endpoint answered: ${failures.join('; ')}`, false);
  }

  const currentState = () =>
    onAnyEndpoint(
      async (client) =>
        (
          await client.send(
            new (recoveryClusterSdk().GetRoutingControlStateCommand)({
              RoutingControlArn: dns.routing_control_arn,
            }),
          )
        ).RoutingControlState,
    );

  return {
    name,
    describeSwitch: () =>
      `Set ${name} to ${options.state} through the ARC cluster (${dns.cluster_endpoints.length} endpoints, tried in turn).`,
    check: async () => `${name} is ${(await currentState()) ?? 'in an unknown state'}`,
    writeAsks: () =>
      Promise.resolve([
        {
          action: 'route53-recovery-cluster:UpdateRoutingControlState',
          resource: dns.routing_control_arn,
        },
      ]),
    async pointsAt() {
      const state = await currentState();
      return {
        ok: state === options.state,
        summary: `${name} is ${state ?? 'unknown'}${state === options.state ? '' : `, expected ${options.state}`}`,
      };
    },
    async switchTo() {
      await onAnyEndpoint((client) =>
        client.send(
          new (recoveryClusterSdk().UpdateRoutingControlStateCommand)({
            RoutingControlArn: dns.routing_control_arn,
            RoutingControlState: options.state,
          }),
        ),
      );
      return { detail: `${name} set to ${options.state}` };
    },
  };
}
