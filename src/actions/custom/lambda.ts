// lambda NAME: an AWS Lambda function lifeboat.yml names (teams with ARC-style Lambda blocks keep
// them), invoked and waited for (RequestResponse) with an event filled with the run's facts and
// the idempotency key. A function error, a missing function or a refused call fails the step
// with what Lambda said; the function's log tail goes to the report.

import { formatDuration } from '../../duration.js';
import { ProviderError } from '../../errors.js';
import { invokeLambda } from '../../providers/aws/lambda.js';
import { fillDeep } from '../../template.js';
import type { LambdaAction } from '../../config.js';
import type { Action, ActionContext, RunStanding } from '../types.js';
import {
  definedOrNull,
  definitionOf,
  idempotencyKey,
  standingOf,
  templateValues,
  unbound,
} from './bound.js';
import { valueAtPath } from './http.js';

/** Throttled: the function did not run, so asking again is safe. */
const THROTTLED = new Set([
  'TooManyRequestsException',
  'ThrottlingException',
  'EC2ThrottledException',
]);
const PERMANENT = new Set([
  'ResourceNotFoundException',
  'AccessDeniedException',
  'InvalidParameterValueException',
  'RequestTooLargeException',
  'UnrecognizedClientException',
]);

function nameOf(definition: LambdaAction): string {
  return `${definition.function}${definition.qualifier ? `:${definition.qualifier}` : ''}`;
}

function eventOf(
  context: ActionContext,
  definition: LambdaAction,
  standing: RunStanding | null = null,
): Record<string, unknown> {
  const values = templateValues(context, standing);
  return {
    ...(fillDeep(definition.payload, values) as Record<string, unknown>),
    lifeboat: {
      run: context.run.id,
      kind: context.run.kind,
      runbook: context.run.runbook,
      service: context.service?.name ?? null,
      step: context.step.index + 1,
      attempt: context.attempt,
      idempotency_key: idempotencyKey(context),
    },
  };
}

export const lambdaAction: Action = {
  name: 'lambda',
  plan(context) {
    const definition = definedOrNull(context, 'lambda');
    if (!definition) return unbound(context);
    const json = definition.expectJson
      ? ` and ${definition.expectJson.path} = ${JSON.stringify(definition.expectJson.equals)} in what it returns`
      : '';
    return `Invoke the Lambda function ${nameOf(definition)} in ${definition.region} and wait for it (timeout ${formatDuration(definition.timeoutSeconds)}), with the event ${JSON.stringify(eventOf(context, definition))}; expect no function error${json}.${definition.description ? ` ${definition.description}` : ''}`;
  },
  prepare(context) {
    return { idempotencyKey: idempotencyKey(context) };
  },
  async run(context) {
    const definition = definitionOf(context, 'lambda');
    const who = `lambda ${nameOf(definition)} (${definition.region})`;
    const standing = await standingOf(context);
    const started = Date.now();
    const invoke = () =>
      invokeLambda({
        functionName: definition.function,
        qualifier: definition.qualifier,
        region: definition.region,
        payload: eventOf(context, definition, standing),
        timeoutSeconds: definition.timeoutSeconds,
      });
    let output: Awaited<ReturnType<typeof invoke>>;
    try {
      output = await invoke().catch(async (error: unknown) => {
        if (!THROTTLED.has((error as Error).name)) throw error;
        await context.sleep(2_000);
        return invoke();
      });
    } catch (error) {
      const name = (error as Error).name;
      throw new ProviderError(
        who,
        name === 'TimeoutError'
          ? `no answer within ${formatDuration(definition.timeoutSeconds)}: the function may still be running (the idempotency key lets a retry tell)`
          : `${name}: ${(error as Error).message}`,
        PERMANENT.has(name),
        { cause: error },
      );
    }
    const ms = Date.now() - started;
    const returned = output.Payload ? Buffer.from(output.Payload).toString('utf8') : '';
    const logs = output.LogResult ? Buffer.from(output.LogResult, 'base64').toString('utf8') : '';
    const details = {
      function: nameOf(definition),
      region: definition.region,
      statusCode: output.StatusCode ?? null,
      executedVersion: output.ExecutedVersion ?? null,
      output: { stdout: logs, stderr: '', droppedBytes: { stdout: 0, stderr: 0 } },
      response: { status: output.StatusCode ?? null, body: returned.slice(0, 4096) },
    };
    if (output.FunctionError) {
      let message = returned.slice(0, 300);
      try {
        const parsed = JSON.parse(returned) as { errorType?: string; errorMessage?: string };
        if (parsed.errorMessage) message = `${parsed.errorType ?? 'Error'}: ${parsed.errorMessage}`;
      } catch {
        // not JSON: shown as it came
      }
      throw new ProviderError(
        who,
        `the function failed (${output.FunctionError}): ${message}`,
        false,
        {
          details,
        },
      );
    }
    if (definition.expectJson) {
      const { path, equals } = definition.expectJson;
      let found: unknown;
      try {
        found = valueAtPath(JSON.parse(returned), path);
      } catch {
        found = undefined;
      }
      if (found !== equals)
        throw new ProviderError(
          who,
          `returned ${path} = ${found === undefined ? 'nothing (no such field, or not JSON)' : JSON.stringify(found)}, expected ${JSON.stringify(equals)}`,
          false,
          { details },
        );
    }
    return {
      summary: `${nameOf(definition)} returned in ${ms} ms (version ${output.ExecutedVersion ?? '?'})${definition.expectJson ? ` with ${definition.expectJson.path} = ${JSON.stringify(definition.expectJson.equals)}` : ''}`,
      details,
    };
  },
};
