// The application tier of a pilot light: an EC2 Auto Scaling group in the DR region kept at (near)
// zero, brought to the capacity that carries the full load — SetDesiredCapacity, then waited on
// until that many instances are InService and healthy, each change said as it happens.

import type { AutoScalingClient, AutoScalingGroup } from '@aws-sdk/client-auto-scaling';
import { ProviderError } from '../../errors.js';
import { pollUntil } from '../progress.js';
import type { AppScaling, OnProgress } from '../types.js';
import { withAwsRetry } from './retry.js';
import { autoScalingSdk } from './sdk.js';

export function createAppScaling(
  group: { group: string; region: string; desired: number },
  deps: {
    client: AutoScalingClient;
    clock: () => Date;
    sleep: (ms: number) => Promise<void>;
    pollSeconds: number;
    maxWaitSeconds: number;
  },
): AppScaling {
  const name = `Auto Scaling group ${group.group} (${group.region})`;
  const describe = async (): Promise<AutoScalingGroup> => {
    const output = await withAwsRetry(name, () =>
      deps.client.send(
        new (autoScalingSdk().DescribeAutoScalingGroupsCommand)({
          AutoScalingGroupNames: [group.group],
        }),
      ),
    );
    const found = output.AutoScalingGroups?.[0];
    if (!found) throw new ProviderError(name, 'does not exist', true);
    return found;
  };
  const healthy = (found: AutoScalingGroup) =>
    (found.Instances ?? []).filter(
      (instance) => instance.LifecycleState === 'InService' && instance.HealthStatus === 'Healthy',
    ).length;
  return {
    name,
    desired: group.desired,
    async state() {
      const found = await describe();
      return { desired: found.DesiredCapacity ?? 0, inService: healthy(found) };
    },
    async scaleUp(onProgress?: OnProgress) {
      const before = await describe();
      if ((before.MaxSize ?? 0) < group.desired)
        throw new ProviderError(
          name,
          `its MaxSize is ${before.MaxSize}, below the ${group.desired} instances the full load needs: raise it first`,
          true,
        );
      if ((before.DesiredCapacity ?? 0) < group.desired)
        await withAwsRetry(name, () =>
          deps.client.send(
            new (autoScalingSdk().SetDesiredCapacityCommand)({
              AutoScalingGroupName: group.group,
              DesiredCapacity: group.desired,
              HonorCooldown: false,
            }),
          ),
        );
      await pollUntil({
        resource: name,
        waitingFor: `${group.desired} healthy instances in service`,
        look: async () => {
          const found = await describe();
          const count = healthy(found);
          return { done: count >= group.desired ? true : null, status: `${count} in service` };
        },
        maxWaitSeconds: deps.maxWaitSeconds,
        pollMs: deps.pollSeconds * 1000,
        clock: deps.clock,
        sleep: deps.sleep,
        onProgress,
      });
      return {
        detail: `${name} from ${before.DesiredCapacity ?? 0} to ${group.desired} instances, all in service and healthy`,
      };
    },
  };
}
