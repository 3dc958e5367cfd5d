// Hostile input: whatever bytes land in runbooks/, the parser answers with a Runbook or a
// RunbookError naming file:line — never a TypeError or a crash in a markdown or YAML library.

import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { RunbookError } from '../../src/errors.js';
import { parseRunbook } from '../../src/runbook/parse.js';

const root = path.resolve(import.meta.dirname, '../..');
const samples = [
  ...readdirSync(path.join(root, 'runbooks')).map((name) => path.join(root, 'runbooks', name)),
  path.join(root, 'test/fixtures/seed-dr-test.md'),
].map((file) => readFileSync(file, 'utf8'));

const FRAGMENTS = [
  '---\n',
  '# ',
  '## ',
  '### ',
  '- [ ] ',
  '- [x] ',
  '1. ',
  '* ',
  '   - ',
  '`action: db.promote`',
  '`approval: two-person`',
  '`action: ',
  '`approval: ',
  '(10 minutes)',
  '(1.5 hours)',
  '(9 ',
  '```\n',
  'kind: failover\n',
  'title: x\n',
  'reviewed: 2026-13-45\n',
  ': :\n',
  '[link](',
  '**',
  '\t',
  '\r\n',
  '\n',
  '\n\n',
  '>',
  '|a|b|\n|-|-|\n',
  '<div>',
  '\\',
  '\u0000',
  '\uFEFF',
  '😀',
  '\u202E',
];

/** A small deterministic PRNG (mulberry32), so a failure reproduces from its seed. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function expectParsesOrRunbookError(source: string): void {
  try {
    const runbook = parseRunbook(source, 'fuzz.md');
    expect(runbook.phases.length).toBeGreaterThan(0);
  } catch (error) {
    if (!(error instanceof RunbookError)) {
      throw new Error(`not a RunbookError for input ${JSON.stringify(source)}: ${String(error)}`, {
        cause: error,
      });
    }
    expect(error.message).toMatch(/^fuzz\.md:\d+: /);
    expect(error.line).toBeGreaterThanOrEqual(1);
  }
}

describe('hostile runbooks', () => {
  it('truncated at any point, each shipped runbook parses or raises a RunbookError', () => {
    for (const sample of samples) {
      for (let end = 0; end <= sample.length; end += 7)
        expectParsesOrRunbookError(sample.slice(0, end));
    }
  });

  it('random mixes of runbook syntax raise nothing but RunbookError', () => {
    const next = random(20261124);
    for (let i = 0; i < 3000; i++) {
      const parts: string[] = [];
      const count = 1 + Math.floor(next() * 25);
      for (let j = 0; j < count; j++) {
        const pick = next();
        if (pick < 0.6) parts.push(FRAGMENTS[Math.floor(next() * FRAGMENTS.length)]!);
        else if (pick < 0.8) parts.push(String.fromCharCode(Math.floor(next() * 0x3000)));
        else {
          const sample = samples[Math.floor(next() * samples.length)]!;
          const start = Math.floor(next() * sample.length);
          parts.push(sample.slice(start, start + Math.floor(next() * 80)));
        }
      }
      expectParsesOrRunbookError(parts.join(''));
    }
  });

  it('random bytes raise nothing but RunbookError', () => {
    const next = random(42);
    for (let i = 0; i < 500; i++) {
      const length = Math.floor(next() * 400);
      const bytes = Buffer.from(Array.from({ length }, () => Math.floor(next() * 256)));
      expectParsesOrRunbookError(bytes.toString('utf8'));
    }
  });
});
