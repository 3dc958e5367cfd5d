// The AWS SDK clients load when a service first uses AWS, not when lifeboat starts: a CLI command
// or a bot with only PostgreSQL services never pays their ~300 ms and 40 MiB. The packages are
// CommonJS, so require() loads them in place, synchronously; the types come from `import type`.

import type * as AutoScaling from '@aws-sdk/client-auto-scaling';
import type * as CloudWatch from '@aws-sdk/client-cloudwatch';
import type * as Iam from '@aws-sdk/client-iam';
import type * as Lambda from '@aws-sdk/client-lambda';
import type * as Rds from '@aws-sdk/client-rds';
import type * as Route53 from '@aws-sdk/client-route-53';
import type * as RecoveryCluster from '@aws-sdk/client-route53-recovery-cluster';
import type * as S3 from '@aws-sdk/client-s3';
import type * as Sts from '@aws-sdk/client-sts';
import { lazyRequire as lazy } from '../../lazy-require.js';

export const cloudWatchSdk = lazy<typeof CloudWatch>('@aws-sdk/client-cloudwatch');
export const rdsSdk = lazy<typeof Rds>('@aws-sdk/client-rds');
export const route53Sdk = lazy<typeof Route53>('@aws-sdk/client-route-53');
export const recoveryClusterSdk = lazy<typeof RecoveryCluster>(
  '@aws-sdk/client-route53-recovery-cluster',
);
export const s3Sdk = lazy<typeof S3>('@aws-sdk/client-s3');
export const stsSdk = lazy<typeof Sts>('@aws-sdk/client-sts');
export const iamSdk = lazy<typeof Iam>('@aws-sdk/client-iam');
export const autoScalingSdk = lazy<typeof AutoScaling>('@aws-sdk/client-auto-scaling');
export const lambdaSdk = lazy<typeof Lambda>('@aws-sdk/client-lambda');
