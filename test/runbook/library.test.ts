// The runbooks folder as Slack commands read it: unchanged files are not parsed again, and an
// edit is seen by the very next command.

import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadRunbookLibrary, resolveRunbookByName } from '../../src/runbook/library.js';
import { makeTempDir } from '../support/tmp.js';

const drill = (step: string) => `---\ntitle: Drill\nkind: drill\n---\n## Work\n1. ${step}\n`;

describe('the runbooks folder', () => {
  it('parses an unchanged file once, and sees an edit at the next read', () => {
    const dir = path.join(makeTempDir(), 'runbooks');
    mkdirSync(dir);
    const file = path.join(dir, 'drill.md');
    writeFileSync(file, drill('Look at the dashboards'));
    const first = resolveRunbookByName('drill', dir);
    expect(resolveRunbookByName('drill', dir)).toBe(first); // the same parse, not a new one
    expect(loadRunbookLibrary(dir).runbooks[0]).toBe(first);

    writeFileSync(file, drill('Read the alerts first'));
    expect(resolveRunbookByName('drill', dir).phases[0]!.steps[0]!.text).toBe(
      'Read the alerts first',
    );
    writeFileSync(file, '---\ntitle: Drill\nkind: nonsense\n---\n## Work\n1. Look\n');
    expect(loadRunbookLibrary(dir).errors.map((error) => error.message)).toEqual([
      expect.stringMatching(/drill\.md:\d+: .*kind/),
    ]);
  });
});
