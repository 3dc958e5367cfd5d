// lifeboat's folders under the user's cache directory: `$XDG_CACHE_HOME/lifeboat/NAME`, else
// `~/.cache/lifeboat/NAME`, made 0700. What lifeboat reads back from them (compiled code, a
// validated config) steers what it does next, so a folder anyone else could have made or may write
// is refused, never used. Node built-ins only: the compile cache asks before anything else loads.

import { lstatSync, mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';

export type CacheFolder = { directory: string } | { directory: null; why: string };

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
    mkdirSync(directory, { recursive: true, mode: 0o700 });
    const uid = options.uid ?? process.getuid?.();
    // The folder and the one holding it: whoever may write the latter can swap the former.
    for (const folder of [path.dirname(directory), directory]) {
      const stat = lstatSync(folder);
      if (!stat.isDirectory()) return { directory: null, why: `${folder} is not a folder` };
      if (uid !== undefined && stat.uid !== uid)
        return { directory: null, why: `${folder} belongs to uid ${stat.uid}, not ${uid}` };
      if ((stat.mode & 0o022) !== 0) return { directory: null, why: `others may write ${folder}` };
    }
    return { directory };
  } catch (error) {
    return { directory: null, why: (error as Error).message };
  }
}
