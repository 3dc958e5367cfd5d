// `lifeboat report RUN --html`: one self-contained page — the report, the phases against their
// budgets on a timeline, the RTO chart inline — with every piece of runbook and typed text escaped.

import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { cli } from './support/cli.js';
import { makeEngine, postgresConfig, testClock } from './support/engine.js';

const drill = `---
title: Drill <b>bold</b>
kind: drill
service: payments-db
---
## Assess (5 minutes)
1. Look at <img src=x onerror=alert(1)>

## Fail over (10 minutes)
1. Do it
`;

describe('lifeboat report --html', () => {
  it('writes one page with the report, the phase timeline and the RTO chart, and no HTML from the runbook or a note', async () => {
    const clock = testClock('2026-11-24T03:00:00.000Z');
    const configYaml = postgresConfig(
      'postgres://postgres@127.0.0.1:1/postgres',
      'postgres://postgres@127.0.0.1:2/postgres',
    );
    const t = await makeEngine({ runbooks: { drill }, configYaml, clock, store: 'sqlite' });
    writeFileSync(path.join(t.dir, 'lifeboat.yml'), configYaml);
    const alice = { user: 'U0ALICE' };
    const { runId } = await t.engine.startRun({ key: 'k', actor: alice, runbook: 'drill' });
    await t.engine.idle();
    await t.engine.addNote({
      key: 'n',
      actor: alice,
      runId,
      stepIndex: 0,
      text: '<script>alert("x")</script> & more',
    });
    clock.advance(7 * 60_000); // Assess takes 7 of its 5 minutes
    await t.engine.completeStep({ key: 'a', actor: alice, runId, stepIndex: 0 });
    await t.engine.idle();
    clock.advance(3 * 60_000);
    await t.engine.completeStep({ key: 'b', actor: alice, runId, stepIndex: 1 });
    await t.engine.idle();

    const result = await cli(
      ['report', runId, '--html'],
      { LIFEBOAT_CONFIG: path.join(t.dir, 'lifeboat.yml') },
      clock,
    );
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const html = result.stdout;
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(html).toContain(
      `content="default-src 'none'; img-src data:; style-src 'unsafe-inline'"`,
    );
    expect(html).not.toMatch(/<script|<img src=x|<b>bold/);
    expect(html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; more');
    expect(html).toContain(`<title>Drill &lt;b&gt;bold&lt;/b&gt; — drill ${runId}</title>`);
    expect(html).toContain('Achieved RTO: 10m (objective 15m, met)');
    // The timeline: Assess over its budget (red), Fail over within (green).
    expect(html).toMatch(/<title>Assess: 7m of 5 min — over budget<\/title>/);
    expect(html).toMatch(/fill="#cf222e"><title>Assess/);
    expect(html).toMatch(/fill="#2ea043"><title>Fail over: 3m of 10 min<\/title>/);
    const png = /src="data:image\/png;base64,([A-Za-z0-9+/=]+)"/.exec(html)?.[1];
    const image = PNG.sync.read(Buffer.from(png!, 'base64'));
    expect(image.width).toBe(640);

    const both = await cli(
      ['report', runId, '--html', '--markdown'],
      { LIFEBOAT_CONFIG: path.join(t.dir, 'lifeboat.yml') },
      clock,
    );
    expect(both.code).toBe(1);
    expect(both.stderr).toContain('--markdown or --html, not both');
  });
});
