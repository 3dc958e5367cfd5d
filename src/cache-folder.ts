// lifeboat's folders under the user's cache directory: `$XDG_CACHE_HOME/lifeboat/NAME`, else
// `~/.cache/lifeboat/NAME`, made 0700. What lifeboat reads back from them (compiled code, a
// validated config) steers what it does next, so a folder anyone else could have made or may write
// is refused, never used. Node built-ins only: the compile cache asks before anything else loads.

import { lstatSync, mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';

export type CacheFolder =
  | { directory: string }
  /** `unsafe`: refused for what it is (a symlink, someone else's, writable by others), which may
   * be tampering; otherwise it could not be made (a read-only home), which is only slower. */
  | { directory: null; why: string; unsafe: boolean };

export interface CacheFolderOptions {
  env?: Record<string, string | undefined>;
  home?: string;
  /** Whose folder it must be: this process's user. */
  uid?: number;
}

/**
 * The private folder `name`, created when missing; `directory: null` and why when it is a
 * symlink or not a folder, is not this user's, or others may write it or the folder holding it.
 * Never throws: without a cache lifeboat is only slower.
 */
export function privateCacheFolder(name: string, options: CacheFolderOptions = {}): CacheFolder {
  const env = options.env ?? process.env;
  try {
    // The XDG spec: a relative XDG_CACHE_HOME is invalid and ignored.
    const xdg = env.XDG_CACHE_HOME;
    const base = xdg && path.isAbsolute(xdg) ? xdg : path.join(options.home ?? homedir(), '.cache');
    const directory = path.join(base, 'lifeboat', name);
    const uid = options.uid ?? process.getuid?.();
    // The folder holding it first, then the folder: whoever may write the former can swap the
    // latter, and nothing is made inside a folder that is refused.
    for (const folder of [path.dirname(directory), directory]) {
      mkdirSync(folder, { recursive: true, mode: 0o700 });
      const stat = lstatSync(folder);
      const refused = (why: string) => ({ directory: null, why, unsafe: true });
      if (!stat.isDirectory()) return refused(`${folder} is not a folder`);
      if (uid !== undefined && stat.uid !== uid)
        return refused(`${folder} belongs to uid ${stat.uid}, not ${uid}`);
      if ((stat.mode & 0o022) !== 0) return refused(`others may write ${folder}`);
    }
    return { directory };
  } catch (error) {
    return { directory: null, why: (error as Error).message, unsafe: false };
  }
}

const warned = new Set<string>();

/**
 * Says on stderr, once per process and reason, that a cache folder was refused for what it is: it
 * may have been tampered with. Said on every command until the folder is mended.
 */
export function warnOfUnsafeFolder(why: string): void {
  if (warned.has(why)) return;
  warned.add(why);
  process.stderr.write(
    `lifeboat: warning: ${why}: nothing is cached there, and nothing in it is used (if you did not make it so, someone may have; remove the folder and lifeboat makes it again, private)\n`,
  );
}
