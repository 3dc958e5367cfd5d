// RDS ReplicaLag is a CloudWatch metric, not a DescribeDBInstances field: the newest datapoint
// of the per-minute maximum since `since`, or null when CloudWatch has none.

import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { cloudWatchSdk } from './sdk.js';
import { withAwsRetry, type RetryOptions } from './retry.js';

export async function latestReplicaLag(
  client: CloudWatchClient,
  instanceId: string,
  since: Date,
  now: Date,
  retry?: RetryOptions,
): Promise<{ value: number; at: Date } | null> {
  const output = await withAwsRetry(
    `CloudWatch ReplicaLag of ${instanceId}`,
    () =>
      client.send(
        new (cloudWatchSdk().GetMetricDataCommand)({
          StartTime: since,
          EndTime: now,
          ScanBy: 'TimestampDescending',
          MetricDataQueries: [
            {
              Id: 'lag',
              MetricStat: {
                Metric: {
                  Namespace: 'AWS/RDS',
                  MetricName: 'ReplicaLag',
                  Dimensions: [{ Name: 'DBInstanceIdentifier', Value: instanceId }],
                },
                Period: 60,
                Stat: 'Maximum',
              },
            },
          ],
        }),
      ),
    retry,
  );
  const result = output.MetricDataResults?.[0];
  const value = result?.Values?.[0];
  return value === undefined ? null : { value, at: result?.Timestamps?.[0] ?? now };
}
