// Retries for AWS calls, in one place: throttling and transient errors back off exponentially with
// full jitter; permanent errors (wrong state, access denied, no such resource) stop at once with
// AWS's message and the resource named. The SDK clients are built with maxAttempts 1, so this is
// the only retry layer.

import { ProviderError } from '../../errors.js';
import type { NodeName, NodeProbe } from '../types.js';

const RETRYABLE = new Set([
  'Throttling',
  'ThrottlingException',
  'ThrottledException',
  'RequestLimitExceeded',
  'TooManyRequestsException',
  'RequestThrottled',
  'RequestThrottledException',
  'SlowDown',
  'PriorRequestNotComplete',
  'ServiceUnavailable',
  'InternalFailure',
  'InternalError',
  'RequestTimeout',
  'RequestTimeoutException',
]);

const NETWORK = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'TimeoutError',
]);

export interface RetryOptions {
  attempts?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}

export function isRetryable(error: unknown): boolean {
  const e = error as {
    name?: string;
    code?: string;
    $metadata?: { httpStatusCode?: number };
    $retryable?: unknown;
  };
  if (e.$retryable) return true;
  if (e.name && RETRYABLE.has(e.name)) return true;
  if ((e.code && NETWORK.has(e.code)) || (e.name && NETWORK.has(e.name))) return true;
  const status = e.$metadata?.httpStatusCode;
  return status !== undefined && (status >= 500 || status === 429);
}

/** Calls `call`, retrying what is transient; wraps the final error as a ProviderError. */
export async function withAwsRetry<T>(
  resource: string,
  call: () => Promise<T>,
  options: RetryOptions = {},
): Promise<T> {
  const attempts = options.attempts ?? 6;
  const base = options.baseDelayMs ?? 200;
  const cap = options.maxDelayMs ?? 10_000;
  const sleep =
    options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const random = options.random ?? Math.random;
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      if (error instanceof ProviderError) throw error;
      if (!isRetryable(error) || attempt >= attempts)
        throw toProviderError(resource, error, attempt);
      await sleep(Math.floor(random() * Math.min(cap, base * 2 ** (attempt - 1))));
    }
  }
}

/** The SDK's own name of a call, e.g. "DescribeDBInstances", to be told in its errors. */
interface NamedCalls {
  middlewareStack: {
    add(
      middleware: (
        next: (args: unknown) => Promise<unknown>,
        context: { commandName?: string },
      ) => (args: unknown) => Promise<unknown>,
      options: { step: 'initialize'; name: string },
    ): void;
  };
}

/**
 * Makes every error of `client` carry the name of the call that failed, so a step that stops on a
 * timeout says which call in which region did not answer.
 */
export function namingCalls<T>(client: T): T {
  (client as unknown as NamedCalls).middlewareStack.add(
    (next, context) => async (args) => {
      try {
        return await next(args);
      } catch (error) {
        if (error && typeof error === 'object')
          Object.assign(error, { $call: context.commandName?.replace(/Command$/, '') });
        throw error;
      }
    },
    { step: 'initialize', name: 'lifeboatCallName' },
  );
  return client;
}

function toProviderError(resource: string, error: unknown, attempts: number): ProviderError {
  const e = error as { name?: string; message?: string; $call?: string };
  const name = e.name && e.name !== 'Error' ? `${e.name}: ` : '';
  const tries = attempts > 1 ? ` (after ${attempts} attempts)` : '';
  // A region that takes connections and never answers says so, not only "TimeoutError" (the
  // client's own timeout) or "AbortError" (a call's budget, an AbortSignal.timeout, ran out).
  const timedOut = e.name === 'TimeoutError' || e.name === 'AbortError';
  const silent = timedOut
    ? `${e.$call ?? 'the call'} did not answer in time — the region may be down or cut off; the step can be retried: `
    : '';
  return new ProviderError(
    resource,
    `${silent}${name}${e.message ?? String(error)}${tries}`,
    !timedOut && !isRetryable(error),
    { cause: error },
  );
}

/**
 * What `node` is when reading it failed: unreachable — either it did not answer, or AWS answered
 * that there is nothing lifeboat can use (no such resource, no permission, a cluster member),
 * said as what it is.
 */
export function unreadable(node: NodeName, name: string, error: unknown): NodeProbe {
  const answered = error instanceof ProviderError && error.permanent;
  return {
    node,
    name,
    role: 'unreachable',
    streaming: false,
    streamingFrom: null,
    walLsn: null,
    detail: `${name}${answered ? ':' : ' does not answer:'} ${(error as Error).message.replace(`${name}: `, '')}`,
  };
}
