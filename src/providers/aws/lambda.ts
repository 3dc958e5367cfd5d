// One Lambda invocation, waited for (RequestResponse, the log tail asked for), with a client whose
// request timeout is the action's own: a function may run for minutes, a connection may not hang.

import type { InvokeCommandOutput } from '@aws-sdk/client-lambda';
import { lambdaSdk } from './sdk.js';

export interface Invocation {
  functionName: string;
  qualifier: string | null;
  region: string;
  payload: unknown;
  timeoutSeconds: number;
}

export async function invokeLambda(invocation: Invocation): Promise<InvokeCommandOutput> {
  const sdk = lambdaSdk();
  const client = new sdk.LambdaClient({
    region: invocation.region,
    maxAttempts: 1,
    requestHandler: {
      connectionTimeout: 3_000,
      requestTimeout: invocation.timeoutSeconds * 1000,
      throwOnRequestTimeout: true,
    },
  });
  try {
    return await client.send(
      new (lambdaSdk().InvokeCommand)({
        FunctionName: invocation.functionName,
        ...(invocation.qualifier ? { Qualifier: invocation.qualifier } : {}),
        InvocationType: 'RequestResponse',
        LogType: 'Tail',
        Payload: Buffer.from(JSON.stringify(invocation.payload)),
      }),
    );
  } finally {
    client.destroy();
  }
}
