// An HTTP request tried again when nothing answers, when it times out, on 429 and on 5xx, with
// pauses that double — and given up at once on any other answer. Each try bounded by a timeout;
// the body read to a limit (a receiver that sends a gigabyte costs a megabyte here). Used where
// lifeboat calls a team's endpoint (http actions) and where it pages people.

import { formatDuration } from '../duration.js';

export interface HttpTry {
  /** null when nothing answered. */
  status: number | null;
  body: string;
  ms: number;
  /** Why nothing answered ("no answer within 10s", "no answer (ECONNREFUSED)"), else null. */
  error: string | null;
}

export interface TryOptions {
  /** How many tries in all (at least 1). */
  attempts: number;
  /** The pause before the second try; each later one doubles. */
  firstPauseMs: number;
  timeoutMs: number;
  sleep: (ms: number) => Promise<void>;
  /** The answers that end the tries as a success. */
  accept: (status: number) => boolean;
  readLimit?: number;
}

export const isRetryableStatus = (status: number): boolean => status === 429 || status >= 500;

/** Every try made, in order: the last is the outcome. */
export async function fetchWithTries(
  url: string,
  init: RequestInit,
  options: TryOptions,
): Promise<HttpTry[]> {
  const tries: HttpTry[] = [];
  for (let round = 0; round < Math.max(1, options.attempts); round++) {
    if (round > 0) await options.sleep(options.firstPauseMs * 2 ** (round - 1));
    const started = Date.now();
    try {
      const response = await fetch(url, {
        ...init,
        redirect: 'manual',
        signal: AbortSignal.timeout(options.timeoutMs),
      });
      const body = await readCapped(response, options.readLimit ?? 1024 * 1024);
      tries.push({ status: response.status, body, ms: Date.now() - started, error: null });
      if (options.accept(response.status) || !isRetryableStatus(response.status)) break;
    } catch (error) {
      const cause = (error as Error & { cause?: { code?: string } }).cause?.code;
      tries.push({
        status: null,
        body: '',
        ms: Date.now() - started,
        error:
          (error as Error).name === 'TimeoutError'
            ? `no answer within ${formatDuration(options.timeoutMs / 1000)}`
            : `no answer (${cause ?? (error as Error).message})`,
      });
    }
  }
  return tries;
}

async function readCapped(response: Response, limit: number): Promise<string> {
  const reader = response.body?.getReader() as ReadableStreamDefaultReader<Uint8Array> | undefined;
  if (!reader) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    size += value.length;
    if (size >= limit) {
      await reader.cancel();
      break;
    }
  }
  return Buffer.concat(chunks).toString('utf8');
}
