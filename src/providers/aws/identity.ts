// Who lifeboat is on AWS: STS GetCallerIdentity, which needs no permission — it answers only
// whether the credentials the SDK found are valid, and whose they are.

import { stsSdk } from './sdk.js';
import { apiHandler, type AwsTimeouts } from './timeouts.js';
import { namingCalls, withAwsRetry } from './retry.js';

export async function awsCallerIdentity(
  region: string,
  timeouts?: AwsTimeouts,
): Promise<{ arn: string; account: string }> {
  const client = namingCalls(
    new (stsSdk().STSClient)({ region, maxAttempts: 1, requestHandler: apiHandler(timeouts) }),
  );
  const output = await withAwsRetry(
    `AWS credentials (STS in ${region})`,
    () => client.send(new (stsSdk().GetCallerIdentityCommand)({})),
    { attempts: 2 },
  );
  return { arn: output.Arn ?? 'unknown', account: output.Account ?? 'unknown' };
}
