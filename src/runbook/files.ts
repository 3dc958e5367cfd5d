// Where runbooks are on disk: the folder's runbook files (never one outside it), their names, and
// what changes when one does. No markdown here: the parser is loaded only by what parses
// (library.ts, and runbook/cache.ts when the runbook cache does not hold a file).

import { readdirSync, realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import { NotFound } from '../errors.js';

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

/** runbookFilesIn, or none when the folder cannot be listed (a reader then says why). */
export function runbookFilesOrNone(dir: string): string[] {
  try {
    return runbookFilesIn(dir);
  } catch {
    return [];
  }
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
 * What changes when a file or folder does; null (do not cache) when it cannot be read, or when a
 * file system that keeps whole seconds says it changed in the last 2 seconds: a second change
 * within the same second would leave its stamp as it was.
 */
export function stampOf(file: string): string | null {
  try {
    const stat = statSync(file);
    const changed = Math.max(stat.mtimeMs, stat.ctimeMs);
    if (changed % 1000 === 0 && !(Date.now() - changed >= 2000)) return null;
    return `${stat.ino}:${stat.size}:${stat.mtimeMs}:${stat.ctimeMs}`;
  } catch {
    return null;
  }
}

/** `runbooks/failover.md` -> `failover`. */
export function runbookNameOf(file: string): string {
  const base = file.split(/[\\/]/).pop() ?? file;
  return base.replace(/\.(md|markdown)$/i, '');
}

/** A runbook's name: the file name without `.md`, letters, digits, dots, dashes, underscores. */
export const RUNBOOK_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

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

export function isFile(file: string): boolean {
  try {
    return statSync(file).isFile();
  } catch {
    return false;
  }
}
