// The CLI parsed every runbook it read at every command (`runbooks list|check|show`, a run start):
// ~45 ms of markdown for the nine shipped runbooks, and ~20 ms more to load the parser. A runbook
// this build parsed before, byte for byte at the same place, comes from the runbook cache instead
// (sealed-cache.ts: a private folder, entries encrypted with a key only the file's text gives);
// the parser is loaded only for a file the cache does not hold, and a broken runbook is parsed
// every time, so its problems are always this build's.

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { readSealed, sealedCache, writeSealed, type SealedCacheOptions } from '../sealed-cache.js';
import { displayPath, runbookNameOf } from './files.js';
import type { Runbook } from './model.js';
import { runbookReader, type CheckRunbook, type RunbookReader } from './reader.js';

export interface RunbookCacheOptions extends SealedCacheOptions {
  env?: Record<string, string | undefined>;
}

/**
 * A reader for `files` (listed only when there is a cache): each one's text is read once, here,
 * and served to the reader as it was, parsed or from the cache. Without a cache, the library's
 * own reader. Reading a file not in `files` is a bug, and says so.
 */
export async function cachedRunbookReader(
  files: () => string[],
  options: RunbookCacheOptions = {},
): Promise<RunbookReader> {
  const cache = sealedCache('runbooks', options.env ?? process.env, options);
  if (!cache) return import('./library.js');
  const sources = new Map<string, string>();
  const checked = new Map<string, ReturnType<CheckRunbook>>();
  let parse: CheckRunbook | null = null;
  for (const file of files()) {
    let source: string;
    try {
      source = readFileSync(file, 'utf8');
    } catch {
      continue; // the reader says it cannot be read
    }
    const absolute = path.resolve(file);
    sources.set(absolute, source);
    const shown = displayPath(file);
    const name = runbookNameOf(file);
    const place = [absolute, shown, name];
    const runbook = readSealed<Runbook>(cache, place, source);
    let result: ReturnType<CheckRunbook>;
    if (runbook) result = { runbook, problems: [] };
    else {
      parse ??= (await import('./parse.js')).checkRunbook;
      result = parse(source, shown, name);
      if (result.runbook) writeSealed(cache, place, source, result.runbook);
    }
    checked.set(keyOf(source, shown, name), result);
  }
  return runbookReader(
    (source, shown, name) => {
      const result = checked.get(keyOf(source, shown, name));
      if (!result) throw new Error(`runbook ${shown} was not read ahead of the runbook cache`);
      return result;
    },
    (file) => sources.get(path.resolve(file)) ?? readFileSync(file, 'utf8'),
  );
}

function keyOf(source: string, shown: string, name: string): string {
  return JSON.stringify([shown, name, source]);
}
