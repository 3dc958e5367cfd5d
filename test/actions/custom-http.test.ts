// `action: http NAME` against a local server: the request as configured (secret header from the
// environment, body filled with the run's facts, one Idempotency-Key on every try), retries with
// growing pauses on 5xx and on no answer, an immediate failure on any other wrong answer, and a
// JSON value of the answer checked.

import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { makeEngine, postgresConfig, type TestEngine } from '../support/engine.js';

const alice = { user: 'U0ALICE' };

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

let server: Server | null = null;
afterEach(async () => {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = null;
});

/** A server answering each request with the next of `answers` (the last one repeats). */
async function serve(
  answers: { status: number; body: string }[],
): Promise<{ url: string; seen: Seen[] }> {
  const seen: Seen[] = [];
  server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      seen.push({
        method: request.method ?? '',
        url: request.url ?? '',
        headers: request.headers,
        body,
      });
      const answer = answers[Math.min(seen.length - 1, answers.length - 1)]!;
      response.writeHead(answer.status, { 'content-type': 'application/json' });
      response.end(answer.body);
    });
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

async function engineFor(
  action: string,
  env: Record<string, string> = { STATUS_TOKEN: 's3cret' },
): Promise<{ t: TestEngine; sleeps: number[] }> {
  const sleeps: number[] = [];
  const t = await makeEngine({
    runbooks: {
      announce: `---\ntitle: Announce\nkind: drill\nservice: payments-db\n---\n## Go\n1. Open the incident \`action: http status-page\`\n2. Look\n`,
    },
    configYaml: postgresConfig(
      'postgres://postgres@127.0.0.1:1/postgres',
      'postgres://postgres@127.0.0.1:2/postgres',
      `actions:\n  status-page:\n${action}`,
    ),
    env,
    sleep: (ms) => {
      sleeps.push(ms);
      return Promise.resolve();
    },
  });
  return { t, sleeps };
}

async function runIt(t: TestEngine) {
  const { runId } = await t.engine.startRun({ key: 'k', actor: alice, runbook: 'announce' });
  await t.engine.idle();
  return { runId, view: await t.engine.getRun(runId) };
}

describe('action: http NAME', () => {
  it('sends the configured request, retries 5xx with growing pauses under one idempotency key, and checks the answer', async () => {
    const { url, seen } = await serve([
      { status: 503, body: '{"error":"busy"}' },
      { status: 502, body: '' },
      { status: 201, body: '{"incident":{"status":"investigating"},"id":"inc-7"}' },
    ]);
    const { t, sleeps } = await engineFor(
      `    url: "${url}/incidents?service={{service}}"\n    headers: { Authorization: { env: STATUS_TOKEN, prefix: "Bearer " } }\n    body: { name: "DR {{run.kind}} of {{service}}", run: "{{run.id}}", quote: "a \\"b\\" {c}", update: "phase {{phase}}, ETA {{eta}}" }\n    expect_json: { path: incident.status, equals: investigating }\n    approval: none\n`,
    );
    const plan = await t.engine.previewPlan('announce', 'payments-db', 'drill');
    expect(plan.lines[0]).toBe(
      `1. Open the incident — POST ${url}/incidents?service=payments-db (Authorization from $STATUS_TOKEN), expect HTTP 2xx and incident.status = "investigating" in the answer; timeout 10s a try, 2 retries on no answer, 429 or 5xx, Idempotency-Key lifeboat:preview:step-1.`,
    );
    const { runId, view } = await runIt(t);
    expect(view.steps[0]!.state).toBe('done');
    expect(view.steps[0]!.summary).toMatch(
      new RegExp(
        `^POST ${url}/incidents\\?service=payments-db answered HTTP 201 in \\d+ ms with incident\\.status = "investigating" \\(after HTTP 503, HTTP 502\\)$`,
      ),
    );
    expect(sleeps).toEqual([1000, 2000]);
    expect(seen).toHaveLength(3);
    expect(new Set(seen.map((each) => each.headers['idempotency-key']))).toEqual(
      new Set([`lifeboat:${runId}:step-1`]),
    );
    expect(seen[0]!.headers.authorization).toBe('Bearer s3cret');
    expect(seen[0]!.headers['content-type']).toBe('application/json');
    expect(JSON.parse(seen[0]!.body)).toEqual({
      name: 'DR drill of payments-db',
      run: runId,
      quote: 'a "b" {c}',
      update: 'phase 1 of 1: Go, ETA not known (no phase of the runbook has a time budget)',
    });
  });

  it('fails at once on an answer that is not retried, and on a JSON value that differs', async () => {
    const missing = await serve([{ status: 404, body: 'no such page' }]);
    const first = await engineFor(`    url: "${missing.url}/x"\n    approval: none\n`);
    const failed = await runIt(first.t);
    expect(failed.view.current?.waitingOn).toBe('failure');
    expect(failed.view.current?.summary).toBe(
      `http status-page: GET ${missing.url}/x answered HTTP 404, expected 2xx: no such page`,
    );
    expect(missing.seen).toHaveLength(1);
    expect(first.sleeps).toEqual([]);
    await new Promise<void>((resolve) => server!.close(() => resolve()));
    server = null;

    const degraded = await serve([{ status: 200, body: '{"status":{"indicator":"major"}}' }]);
    const second = await engineFor(
      `    url: "${degraded.url}/api/v2/status.json"\n    expect_json: { path: status.indicator, equals: none }\n    approval: none\n`,
    );
    const wrong = await runIt(second.t);
    expect(wrong.view.current?.summary).toBe(
      `http status-page: ${degraded.url}/api/v2/status.json answered status.indicator = "major", expected "none"`,
    );
  });

  it('says how each try went when nothing answers, and refuses when a secret is not set', async () => {
    const gone = await serve([{ status: 200, body: '' }]);
    await new Promise<void>((resolve) => server!.close(() => resolve()));
    server = null;
    const { t, sleeps } = await engineFor(
      `    url: "${gone.url}/hook"\n    retries: 1\n    backoff: 5s\n    approval: none\n`,
    );
    const { view } = await runIt(t);
    expect(view.current?.summary).toBe(
      `http status-page: GET ${gone.url}/hook: no answer (ECONNREFUSED); no answer (ECONNREFUSED) (2 tries)`,
    );
    expect(sleeps).toEqual([5000]);

    const unset = await engineFor(
      `    url: "http://127.0.0.1:1/"\n    headers: { Authorization: { env: STATUS_TOKEN } }\n    approval: none\n`,
      {},
    );
    const refused = await runIt(unset.t);
    expect(refused.view.current?.summary).toBe(
      "http status-page: STATUS_TOKEN is not set in lifeboat's environment (lifeboat.yml names it): set it and retry the step",
    );
  });

  it('asks two people before a request unless the config says approval: none', async () => {
    const { url, seen } = await serve([{ status: 200, body: '{}' }]);
    const { t } = await engineFor(`    url: "${url}/deploy"\n    method: POST\n`);
    const { view } = await runIt(t);
    expect(view.current?.waitingOn).toBe('approval');
    expect(seen).toHaveLength(0);
  });
});
