// Temporary folders that are removed after the test that made them.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach } from 'vitest';

const made: string[] = [];

afterEach(() => {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
});

export function makeTempDir(prefix = 'lifeboat-test-'): string {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}

/** A temporary folder kept for the whole test file (removed when the process exits). */
export function makeTempDirFor(prefix: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), `lifeboat-${prefix}`));
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}
