// The runbooks folder as Slack commands read it: unchanged files are not parsed again, and an
// edit is seen by the very next command.

import { mkdirSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
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

describe('the runbooks folder’s listing', () => {
  it('sees a runbook added, removed, renamed or retargeted by the very next read', () => {
    const dir = path.join(makeTempDir(), 'runbooks');
    mkdirSync(dir);
    const names = () => loadRunbookLibrary(dir).runbooks.map((runbook) => runbook.name);
    writeFileSync(path.join(dir, 'drill.md'), drill('Look'));
    expect(names()).toEqual(['drill']);
    expect(names()).toEqual(['drill']); // read from the listing kept for the folder

    writeFileSync(path.join(dir, 'another.md'), drill('Look again'));
    expect(names()).toEqual(['another', 'drill']);
    renameSync(path.join(dir, 'another.md'), path.join(dir, 'renamed.md'));
    expect(names()).toEqual(['drill', 'renamed']);
    rmSync(path.join(dir, 'drill.md'));
    expect(names()).toEqual(['renamed']);
    expect(() => resolveRunbookByName('drill', dir)).toThrow(/no runbook "drill"/);

    // A symlink inside the folder is followed at every read: its target may change alone.
    mkdirSync(path.join(dir, 'versions'));
    writeFileSync(path.join(dir, 'versions', 'v1.md'), drill('Version one'));
    symlinkSync(path.join(dir, 'versions', 'v1.md'), path.join(dir, 'linked.md'));
    const linked = () => resolveRunbookByName('linked', dir).phases[0]!.steps[0]!.text;
    expect(linked()).toBe('Version one');
    writeFileSync(path.join(dir, 'versions', 'v1.md'), drill('Version one, edited'));
    expect(linked()).toBe('Version one, edited');
    // …and one that leads out of the folder is not a runbook, however it got there.
    const outside = path.join(makeTempDir(), 'outside.md');
    writeFileSync(outside, drill('Outside'));
    rmSync(path.join(dir, 'versions', 'v1.md'));
    symlinkSync(outside, path.join(dir, 'versions', 'v1.md'));
    expect(names()).toEqual(['renamed']);
    expect(() => resolveRunbookByName('linked', dir)).toThrow(/no runbook "linked"/);
  });
});
