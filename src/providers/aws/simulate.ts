// Whether lifeboat's own identity may make the calls that change things — promote, fence, switch —
// asked of IAM's policy simulator (SimulatePrincipalPolicy) without making them: AWS has no dry
// run for them, and a missing permission found mid-disaster is an outage. The simulator needs
// iam:SimulatePrincipalPolicy on lifeboat's own role; without it the answer is "not checked".

import { iamSdk } from './sdk.js';
import { apiHandler, type AwsTimeouts } from './timeouts.js';
import { namingCalls, withAwsRetry } from './retry.js';

import type { PermissionAsk as Ask } from '../types.js';

export interface Decision extends Ask {
  decision: string; // allowed | explicitDeny | implicitDeny
}

/**
 * The IAM principal behind STS caller `arn`: a user as it is, an assumed role as its role (the
 * role's path, if it has one, is not in the session ARN: then the simulator says no such entity).
 */
export function principalOf(arn: string): string | null {
  const role = /^arn:([^:]+):sts::(\d+):assumed-role\/([^/]+)\//.exec(arn);
  if (role) return `arn:${role[1]}:iam::${role[2]}:role/${role[3]}`;
  return /^arn:[^:]+:iam::\d+:(user|role)\//.test(arn) ? arn : null;
}

/** IAM's endpoint region in the partition of `arn`. */
function iamRegion(arn: string): string {
  const partition = arn.split(':')[1];
  if (partition === 'aws-us-gov') return 'us-gov-west-1';
  if (partition === 'aws-cn') return 'cn-north-1';
  return 'us-east-1';
}

export async function simulatePermissions(
  principal: string,
  asks: Ask[],
  timeouts?: AwsTimeouts,
): Promise<Decision[]> {
  const client = namingCalls(
    new (iamSdk().IAMClient)({
      region: iamRegion(principal),
      maxAttempts: 1,
      requestHandler: apiHandler(timeouts),
    }),
  );
  return Promise.all(
    asks.map(async (ask) => {
      const output = await withAwsRetry(
        `IAM policy simulation of ${principal}`,
        () =>
          client.send(
            new (iamSdk().SimulatePrincipalPolicyCommand)({
              PolicySourceArn: principal,
              ActionNames: [ask.action],
              ResourceArns: [ask.resource],
            }),
          ),
        { attempts: 2 },
      );
      return { ...ask, decision: output.EvaluationResults?.[0]?.EvalDecision ?? 'unknown' };
    }),
  );
}
