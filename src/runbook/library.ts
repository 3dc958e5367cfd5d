// Reads runbook files from disk. Parsing stays pure in parse.ts; this is the only file that reads.

import { readFileSync, readdirSync, realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import { NotFound, RunbookError } from '../errors.js';
import type { Runbook } from './model.js';
import { checkRunbook, runbookNameOf } from './parse.js';

export interface RunbookLibrary {
  dir: string;
  runbooks: Runbook[];
  errors: RunbookError[];
  /** How many runbook files were read (broken ones included). */
  fileCount: number;
}

/**
 * Every `*.md` file in `dir` (a README.md there is documentation, not a runbook). A folder, or a
 * symlink that leads out of `dir`, is not a runbook: nothing outside the folder is ever read.
 */
export function runbookFilesIn(dir: string): string[] {
  const { root, entries } = listingOf(dir);
  return entries
    .filter((entry) => !entry.symlink || (isFile(entry.file) && isInside(entry.file, root)))
    .map((entry) => entry.file);
}

interface Listing {
  stamp: string;
  root: string;
  /** The folder's `*.md` files and symlinks, sorted; a symlink is followed on every look. */
  entries: { file: string; symlink: boolean }[];
}

/**
 * The folder's entries, read again only when the folder changed (a file added, removed or renamed
 * changes its stamp): every `/dr runbook` command and failover confirmation looks here inside its
 * ack. A file's content is checked by its own stamp (readChecked); a symlink's target, which may
 * change without the folder changing, on every look.
 */
const listings = new Map<string, Listing>();

function listingOf(dir: string): Listing {
  const stamp = stampOf(dir);
  const known = listings.get(dir);
  if (stamp !== null && known?.stamp === stamp) return known;
  let listing: Listing;
  try {
    const found = readdirSync(dir, { withFileTypes: true });
    listing = {
      stamp: stamp ?? '',
      root: realpathSync.native(dir),
      entries: found
        .filter(
          (entry) =>
            (entry.isFile() || entry.isSymbolicLink()) &&
            /\.(md|markdown)$/i.test(entry.name) &&
            !/^readme\./i.test(entry.name),
        )
        .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
        .map((entry) => ({ file: path.join(dir, entry.name), symlink: entry.isSymbolicLink() })),
    };
  } catch {
    listings.delete(dir);
    throw new NotFound(`runbooks folder ${displayPath(dir)} does not exist`);
  }
  if (stamp !== null) listings.set(dir, listing);
  return listing;
}

/**
 * Parses every runbook in `dir`; every problem of a broken file is reported in `errors`, the
 * others still load.
 */
export function loadRunbookLibrary(dir: string): RunbookLibrary {
  const runbooks: Runbook[] = [];
  const errors: RunbookError[] = [];
  const files = runbookFilesIn(dir);
  for (const file of files) {
    const checked = checkRunbookFile(file);
    if (checked.runbook) runbooks.push(checked.runbook);
    errors.push(...checked.problems);
  }
  return { dir, runbooks, errors, fileCount: files.length };
}

/** One runbook file, with every problem it has (an unreadable file is one). */
export function checkRunbookFile(file: string): {
  runbook: Runbook | null;
  problems: RunbookError[];
} {
  const { runbook, problems } = readChecked(file);
  return { runbook, problems };
}

export function loadRunbookFile(file: string): Runbook {
  const checked = readChecked(file);
  if (checked.unreadable) throw new NotFound(`no runbook file at ${displayPath(file)}`);
  if (checked.problems[0]) throw checked.problems[0];
  return checked.runbook!;
}

interface Checked {
  runbook: Runbook | null;
  problems: RunbookError[];
  unreadable: boolean;
}

/**
 * Files parsed before, kept while they are unchanged (same inode, size and times): `/dr runbook
 * list` or a drill start answers inside Slack's 3 seconds without parsing every runbook again. The
 * parsed runbooks are never changed by their readers.
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
    source = readFileSync(file, 'utf8');
  } catch (error) {
    parsed.delete(key);
    return {
      runbook: null,
      problems: [new RunbookError(shown, 1, `cannot read: ${(error as Error).message}`)],
      unreadable: true,
    };
  }
  const checked = { ...checkRunbook(source, shown, runbookNameOf(file)), unreadable: false };
  if (stamp !== null) parsed.set(key, { stamp, checked });
  return checked;
}

/**
 * What changes when a file or folder does; null (do not cache) when it cannot be read, or when a
 * file system that keeps whole seconds says it changed in the last 2 seconds: a second change
 * within the same second would leave its stamp as it was.
 */
function stampOf(file: string): string | null {
  try {
    const stat = statSync(file);
    const changed = Math.max(stat.mtimeMs, stat.ctimeMs);
    if (changed % 1000 === 0 && !(Date.now() - changed >= 2000)) return null;
    return `${stat.ino}:${stat.size}:${stat.mtimeMs}:${stat.ctimeMs}`;
  } catch {
    return null;
  }
}

/**
 * A runbook by name ("failover"), from inside the runbooks folder only: what Slack, the console,
 * the scheduler and the engine use. A path, `..`, or a file that resolves outside the folder (a
 * symlink out) gets the same answer as a name that does not exist, so nothing about other files
 * leaks.
 */
export function resolveRunbookByName(name: string, dir: string): Runbook {
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

/**
 * The CLI's `runbooks show|check`: a name from the library, or a file the operator names on their
 * own machine. Never used for anything a Slack user types.
 */
export function resolveRunbook(nameOrPath: string, dir: string): Runbook {
  if (/[\\/]|\.(md|markdown)$/i.test(nameOrPath) && isFile(nameOrPath))
    return loadRunbookFile(nameOrPath);
  return resolveRunbookByName(runbookNameOf(nameOrPath), dir);
}

/** A runbook's name: the file name without `.md`, letters, digits, dots, dashes, underscores. */
const RUNBOOK_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/**
 * `file`, with every symlink resolved, lies inside `root` (a resolved path). One realpath(3) call:
 * the JavaScript realpathSync walks every component with lstat, on every `/dr runbook` command.
 */
function isInside(file: string, root: string): boolean {
  try {
    return realpathSync.native(file).startsWith(root + path.sep);
  } catch {
    return false;
  }
}

/** Paths in messages are relative to where the user stands, when that is shorter. */
export function displayPath(file: string): string {
  const relative = path.relative(process.cwd(), path.resolve(file));
  return relative && !relative.startsWith('..') && !path.isAbsolute(relative) ? relative : file;
}

function isFile(file: string): boolean {
  try {
    return statSync(file).isFile();
  } catch {
    return false;
  }
}
