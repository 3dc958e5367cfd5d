// Reads runbooks from a folder: the library (every runbook, every problem), one file, one runbook
// by name. What turns a file's text into a runbook is given (`check`): the markdown parser for the
// bot and the tests (library.ts), the runbook cache in front of it for the CLI (cache.ts).

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { NotFound, RunbookError } from '../errors.js';
import {
  displayPath,
  isFile,
  RUNBOOK_NAME,
  runbookFilesIn,
  runbookNameOf,
  stampOf,
} from './files.js';
import type { Runbook } from './model.js';

export interface RunbookLibrary {
  dir: string;
  runbooks: Runbook[];
  errors: RunbookError[];
  /** How many runbook files were read (broken ones included). */
  fileCount: number;
}

/** A runbook's text (of the file shown as `file`) → the runbook, or every problem it has. */
export type CheckRunbook = (
  source: string,
  file: string,
  name: string,
) => { runbook: Runbook | null; problems: RunbookError[] };

export interface RunbookReader {
  /**
   * Parses every runbook in `dir`; every problem of a broken file is reported in `errors`, the
   * others still load.
   */
  loadRunbookLibrary: (dir: string) => RunbookLibrary;
  /** One runbook file, with every problem it has (an unreadable file is one). */
  checkRunbookFile: (file: string) => { runbook: Runbook | null; problems: RunbookError[] };
  loadRunbookFile: (file: string) => Runbook;
  /**
   * A runbook by name ("failover"), from inside the runbooks folder only: what Slack, the console,
   * the scheduler and the engine use. A path, `..`, or a file that resolves outside the folder (a
   * symlink out) gets the same answer as a name that does not exist, so nothing about other files
   * leaks.
   */
  resolveRunbookByName: (name: string, dir: string) => Runbook;
  /**
   * The CLI's `runbooks show|check`: a name from the library, or a file the operator names on
   * their own machine. Never used for anything a Slack user types.
   */
  resolveRunbook: (nameOrPath: string, dir: string) => Runbook;
}

interface Checked {
  runbook: Runbook | null;
  problems: RunbookError[];
  unreadable: boolean;
}

/** Reads with `check`; `read` gives a file's text (by default, from disk). */
export function runbookReader(
  check: CheckRunbook,
  read: (file: string) => string = (file) => readFileSync(file, 'utf8'),
): RunbookReader {
  /**
   * Files parsed before, kept while they are unchanged (same inode, size and times): `/dr runbook
   * list` or a drill start answers inside Slack's 3 seconds without parsing every runbook again.
   * The parsed runbooks are never changed by their readers.
   */
  const parsed = new Map<string, { stamp: string; checked: Checked }>();

  function readChecked(file: string): Checked {
    const shown = displayPath(file);
    const stamp = stampOf(file);
    const key = `${path.resolve(file)}\0${shown}`;
    const known = parsed.get(key);
    if (stamp !== null && known?.stamp === stamp) return known.checked;
    let source: string;
    try {
      source = read(file);
    } catch (error) {
      parsed.delete(key);
      return {
        runbook: null,
        problems: [new RunbookError(shown, 1, `cannot read: ${(error as Error).message}`)],
        unreadable: true,
      };
    }
    const checked = { ...check(source, shown, runbookNameOf(file)), unreadable: false };
    if (stamp !== null) parsed.set(key, { stamp, checked });
    return checked;
  }

  function checkRunbookFile(file: string) {
    const { runbook, problems } = readChecked(file);
    return { runbook, problems };
  }

  function loadRunbookFile(file: string): Runbook {
    const checked = readChecked(file);
    if (checked.unreadable) throw new NotFound(`no runbook file at ${displayPath(file)}`);
    if (checked.problems[0]) throw checked.problems[0];
    return checked.runbook!;
  }

  function resolveRunbookByName(name: string, dir: string): Runbook {
    const known = () => runbookFilesIn(dir).map(runbookNameOf);
    const missing = () =>
      new NotFound(
        `no runbook "${name.slice(0, 80)}" in ${displayPath(dir)} (known: ${known().join(', ') || 'none'})`,
      );
    if (!RUNBOOK_NAME.test(name)) throw missing();
    const file = runbookFilesIn(dir).find((candidate) => runbookNameOf(candidate) === name);
    if (!file) throw missing();
    try {
      return loadRunbookFile(file);
    } catch (error) {
      if (error instanceof NotFound) throw missing();
      throw error;
    }
  }

  return {
    loadRunbookLibrary: (dir) => {
      const runbooks: Runbook[] = [];
      const errors: RunbookError[] = [];
      const files = runbookFilesIn(dir);
      for (const file of files) {
        const checked = checkRunbookFile(file);
        if (checked.runbook) runbooks.push(checked.runbook);
        errors.push(...checked.problems);
      }
      return { dir, runbooks, errors, fileCount: files.length };
    },
    checkRunbookFile,
    loadRunbookFile,
    resolveRunbookByName,
    resolveRunbook: (nameOrPath, dir) => {
      if (namesAFile(nameOrPath)) return loadRunbookFile(nameOrPath);
      return resolveRunbookByName(runbookNameOf(nameOrPath), dir);
    },
  };
}

/** `runbooks show|check` given a path (a separator or `.md`) of a file that exists, not a name. */
export function namesAFile(nameOrPath: string): boolean {
  return /[\\/]|\.(md|markdown)$/i.test(nameOrPath) && isFile(nameOrPath);
}
