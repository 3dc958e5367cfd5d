// One alert to one target, in the shape its API documents: PagerDuty Events API v2 (trigger and
// resolve by dedup key), Opsgenie Alert API v2 (create, close by alias), or a webhook whose body
// is signed (HMAC-SHA256 of "timestamp.body"). A refused connection, a timeout, 429 or 5xx is
// tried again; what still fails is said, never swallowed.

import { createHmac } from 'node:crypto';
import type { PagingTarget } from '../config.js';
import type { PageAlert } from './alert.js';
import { fetchWithTries } from '../providers/http-tries.js';

export interface SendDeps {
  /** The secret a target names (`{ env: NAME }`), as lifeboat's environment has it. */
  secret: (name: string) => string | undefined;
  clock: () => Date;
  sleep: (ms: number) => Promise<void>;
  timeoutMs?: number;
  tries?: number;
}

interface Request {
  url: string;
  headers: Record<string, string>;
  body: string;
}

const PD_SEVERITY = { critical: 'critical', error: 'error', warning: 'warning', info: 'info' };
const OPSGENIE_PRIORITY = { critical: 'P1', error: 'P2', warning: 'P3', info: 'P5' };

function cut(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

function secretOf(target: PagingTarget, deps: SendDeps): string {
  const name =
    target.type === 'pagerduty'
      ? target.routing_key.env
      : target.type === 'opsgenie'
        ? target.api_key.env
        : target.secret.env;
  const value = deps.secret(name);
  if (value === undefined)
    throw new Error(`${name} is not set in lifeboat's environment (paging.targets.${target.name})`);
  return value;
}

/** The request `target` documents for `alert`. */
export function requestFor(target: PagingTarget, alert: PageAlert, deps: SendDeps): Request {
  const key = secretOf(target, deps);
  const json = { 'Content-Type': 'application/json' };
  if (target.type === 'pagerduty') {
    const body =
      alert.action === 'resolve'
        ? { routing_key: key, event_action: 'resolve', dedup_key: alert.dedupKey }
        : {
            routing_key: key,
            event_action: 'trigger',
            dedup_key: alert.dedupKey,
            client: 'lifeboat',
            payload: {
              summary: cut(alert.summary, 1024),
              source: 'lifeboat',
              severity: PD_SEVERITY[alert.severity],
              timestamp: deps.clock().toISOString(),
              ...(alert.service ? { component: alert.service } : {}),
              class: alert.event,
              custom_details: alert.details,
            },
          };
    return { url: target.url, headers: json, body: JSON.stringify(body) };
  }
  if (target.type === 'opsgenie') {
    const base = target.url.replace(/\/+$/, '');
    const headers = { ...json, Authorization: `GenieKey ${key}` };
    if (alert.action === 'resolve')
      return {
        url: `${base}/v2/alerts/${encodeURIComponent(alert.dedupKey)}/close?identifierType=alias`,
        headers,
        body: JSON.stringify({ source: 'lifeboat', note: cut(alert.summary, 25_000) }),
      };
    return {
      url: `${base}/v2/alerts`,
      headers,
      body: JSON.stringify({
        message: cut(alert.summary, 130),
        alias: cut(alert.dedupKey, 512),
        description: cut(alert.summary, 15_000),
        priority: OPSGENIE_PRIORITY[alert.severity],
        source: 'lifeboat',
        ...(alert.service ? { entity: alert.service } : {}),
        tags: ['lifeboat', alert.event],
        details: alert.details,
      }),
    };
  }
  const body = JSON.stringify({
    event: alert.event,
    action: alert.action,
    dedup_key: alert.dedupKey,
    severity: alert.severity,
    summary: alert.summary,
    service: alert.service,
    run: alert.runId,
    at: deps.clock().toISOString(),
    details: alert.details,
  });
  const timestamp = String(Math.floor(deps.clock().getTime() / 1000));
  const signature = createHmac('sha256', key).update(`${timestamp}.${body}`).digest('hex');
  return {
    url: target.url,
    headers: {
      ...json,
      'X-Lifeboat-Timestamp': timestamp,
      'X-Lifeboat-Signature': `sha256=${signature}`,
    },
    body,
  };
}

/** Sends `alert` to `target`; resolves to null when delivered, else to why not. */
export async function sendAlert(
  target: PagingTarget,
  alert: PageAlert,
  deps: SendDeps,
): Promise<string | null> {
  let request: Request;
  try {
    request = requestFor(target, alert, deps);
  } catch (error) {
    return (error as Error).message;
  }
  const ok = (status: number) => status >= 200 && status < 300;
  const tries = await fetchWithTries(
    request.url,
    { method: 'POST', headers: request.headers, body: request.body },
    {
      attempts: deps.tries ?? 3,
      firstPauseMs: 1000,
      timeoutMs: deps.timeoutMs ?? 5_000,
      sleep: deps.sleep,
      accept: ok,
      readLimit: 64 * 1024,
    },
  );
  const last = tries.at(-1)!;
  if (last.status !== null && ok(last.status)) return null;
  return tries
    .map((each) => {
      const text = each.body.slice(0, 300);
      return each.error ?? `HTTP ${each.status}${text ? ` ${text}` : ''}`;
    })
    .join('; ');
}
