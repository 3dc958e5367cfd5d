// http NAME: a request lifeboat.yml defines (a status page, a deploy hook, a team's own API):
// headers whose secrets come from the environment, a body filled with the run's facts, the
// expected status and optionally one JSON value of the answer. A refused connection, a timeout,
// 429 or 5xx is tried again with growing pauses; any other wrong answer fails at once. Every
// attempt carries the same Idempotency-Key, so the receiver can tell a retry.

import { formatDuration } from '../../duration.js';
import { ProviderError } from '../../errors.js';
import { fetchWithTries, isRetryableStatus } from '../../providers/http-tries.js';
import { fillDeep, fillTemplate, type TemplateValues } from '../../template.js';
import type { HttpAction } from '../../config.js';
import type { Action, ActionContext, RunStanding } from '../types.js';
import {
  standingOf,
  definedOrNull,
  definitionOf,
  unbound,
  envValue,
  idempotencyKey,
  templateValues,
} from './bound.js';

const KEEP_BODY = 4096;
const READ_LIMIT = 1024 * 1024;

function urlOf(definition: HttpAction, values: TemplateValues): string {
  const encoded = Object.fromEntries(
    Object.entries(values).map(([name, value]) => [name, encodeURIComponent(value ?? '')]),
  ) as TemplateValues;
  return fillTemplate(definition.url, encoded);
}

function requestOf(
  context: ActionContext,
  definition: HttpAction,
  standing: RunStanding | null,
): { url: string; init: RequestInit } {
  const values = templateValues(context, standing);
  const headers = new Headers();
  for (const [name, value] of Object.entries(definition.headers))
    headers.set(
      name,
      typeof value === 'string'
        ? fillTemplate(value, values)
        : `${value.prefix}${envValue(context, value.env, `http ${definition.name}`)}`,
    );
  if (!headers.has('idempotency-key')) headers.set('Idempotency-Key', idempotencyKey(context));
  let body: string | undefined;
  if (typeof definition.body === 'string') {
    body = fillTemplate(definition.body, values);
    if (!headers.has('content-type')) headers.set('Content-Type', 'text/plain; charset=utf-8');
  } else if (definition.body !== null) {
    body = JSON.stringify(fillDeep(definition.body, values));
    if (!headers.has('content-type')) headers.set('Content-Type', 'application/json');
  }
  return { url: urlOf(definition, values), init: { method: definition.method, headers, body } };
}

function expected(definition: HttpAction): string {
  return definition.expectStatus.length ? definition.expectStatus.join(' or ') : '2xx';
}

function statusOk(definition: HttpAction, status: number): boolean {
  return definition.expectStatus.length
    ? definition.expectStatus.includes(status)
    : status >= 200 && status < 300;
}

/** The value at `items[0].state`-style `path`, or undefined. */
export function valueAtPath(value: unknown, path: string): unknown {
  let node = value;
  for (const [, key, index] of path.matchAll(/([^.[\]]+)|\[(\d+)\]/g)) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string, unknown>)[key ?? Number(index)];
  }
  return node;
}

export const httpAction: Action = {
  name: 'http',
  plan(context) {
    const definition = definedOrNull(context, 'http');
    if (!definition) return unbound(context);
    const url = urlOf(definition, templateValues(context));
    const secrets = Object.entries(definition.headers)
      .filter(([, value]) => typeof value !== 'string')
      .map(([name, value]) => `${name} from $${(value as { env: string }).env}`);
    const json = definition.expectJson
      ? ` and ${definition.expectJson.path} = ${JSON.stringify(definition.expectJson.equals)} in the answer`
      : '';
    return `${definition.method} ${url}${secrets.length ? ` (${secrets.join(', ')})` : ''}, expect HTTP ${expected(definition)}${json}; timeout ${formatDuration(definition.timeoutSeconds)} a try, ${definition.retries} retr${definition.retries === 1 ? 'y' : 'ies'} on no answer, 429 or 5xx, Idempotency-Key ${idempotencyKey(context)}.${definition.description ? ` ${definition.description}` : ''}`;
  },
  prepare(context) {
    return { idempotencyKey: idempotencyKey(context) };
  },
  async run(context) {
    const definition = definitionOf(context, 'http');
    const { url, init } = requestOf(context, definition, await standingOf(context));
    const who = `http ${definition.name}`;
    const tries = await fetchWithTries(url, init, {
      attempts: definition.retries + 1,
      firstPauseMs: definition.backoffSeconds * 1000,
      timeoutMs: definition.timeoutSeconds * 1000,
      sleep: context.sleep,
      accept: (status) => statusOk(definition, status),
      readLimit: READ_LIMIT,
    });
    const last = tries.at(-1)!;
    const answer = last.status === null ? null : { ...last, status: last.status };
    // How the tries before the outcome went ("HTTP 503", "no answer (ECONNREFUSED)").
    const before = tries.slice(0, -1).map((each) => each.error ?? `HTTP ${each.status}`);
    const response = answer && {
      status: answer.status,
      body: answer.body.slice(0, KEEP_BODY),
      ms: answer.ms,
    };
    const details = { request: { method: init.method, url }, attempts: tries.length, response };
    if (!answer)
      throw new ProviderError(
        who,
        `${init.method} ${url}: ${[...before, last.error].join('; ')} (${tries.length} tries)`,
        false,
        {
          details,
        },
      );
    if (!statusOk(definition, answer.status))
      throw new ProviderError(
        who,
        `${init.method} ${url} answered HTTP ${answer.status}, expected ${expected(definition)}${before.length ? ` (after ${before.join(', ')})` : ''}${answer.body.trim() ? `: ${answer.body.trim().slice(0, 300)}` : ''}`,
        !isRetryableStatus(answer.status),
        { details },
      );
    if (definition.expectJson) {
      const { path, equals } = definition.expectJson;
      let found: unknown;
      try {
        found = valueAtPath(JSON.parse(answer.body), path);
      } catch {
        throw new ProviderError(
          who,
          `${url} answered HTTP ${answer.status} but not JSON, and ${path} was to be ${JSON.stringify(equals)}`,
          true,
          { details },
        );
      }
      if (found !== equals)
        throw new ProviderError(
          who,
          `${url} answered ${path} = ${found === undefined ? 'nothing (no such field)' : JSON.stringify(found)}, expected ${JSON.stringify(equals)}`,
          false,
          { details },
        );
    }
    return {
      summary: `${init.method} ${url} answered HTTP ${answer.status} in ${answer.ms} ms${definition.expectJson ? ` with ${definition.expectJson.path} = ${JSON.stringify(definition.expectJson.equals)}` : ''}${before.length ? ` (after ${before.join(', ')})` : ''}`,
      details,
    };
  },
};
