// RDS ReplicaLag (seconds, per instance) and Aurora's AuroraGlobalDBReplicationLag (milliseconds,
// per secondary cluster) are CloudWatch metrics, not fields of a describe call: the newest
// datapoint of the per-minute maximum since `since`, or null when CloudWatch has none.

import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { cloudWatchSdk } from './sdk.js';
import { withAwsRetry, type RetryOptions } from './retry.js';

export function latestReplicaLag(
  client: CloudWatchClient,
  instanceId: string,
  since: Date,
  now: Date,
  retry?: RetryOptions,
): Promise<{ value: number; at: Date } | null> {
  return latestMaximum(
    client,
    { name: 'ReplicaLag', dimension: 'DBInstanceIdentifier', of: instanceId },
    since,
    now,
    retry,
  );
}

export async function latestMaximum(
  client: CloudWatchClient,
  metric: { name: string; dimension: string; of: string },
  since: Date,
  now: Date,
  retry?: RetryOptions,
): Promise<{ value: number; at: Date } | null> {
  const output = await withAwsRetry(
    `CloudWatch ${metric.name} of ${metric.of}`,
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
                  MetricName: metric.name,
                  Dimensions: [{ Name: metric.dimension, Value: metric.of }],
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
