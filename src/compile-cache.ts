// The CLI's compiled code kept between runs (Node's module compile cache), in a folder only its
// user can write. Node's default folder is shared (/tmp/node-compile-cache): anyone on the host
// could create it first and plant a cache entry, and V8 would run that code in the next lifeboat
// process — often root's, during a failover. Node built-ins only: this runs before anything else.

import { lstatSync, mkdirSync } from 'node:fs';
import { enableCompileCache } from 'node:module';
import { homedir } from 'node:os';
import path from 'node:path';

export type CompileCache = { enabled: true; directory: string } | { enabled: false; why: string };

export interface CompileCacheOptions {
  env?: Record<string, string | undefined>;
  home?: string;
  /** Whose folder it must be: this process's user. */
  uid?: number;
  enable?: (directory: string) => { directory?: string | undefined; message?: string | undefined };
}

/**
 * Turns the compile cache on in `$XDG_CACHE_HOME/lifeboat/compile-cache` (else
 * `~/.cache/lifeboat/compile-cache`), made 0700. Left off when that folder is a symlink, is not
 * this user's or others may write it. NODE_COMPILE_CACHE, when set, is the operator's choice and
 * is used as Node uses it. Never throws: without a cache the CLI is only slower.
 */
export function enablePrivateCompileCache(options: CompileCacheOptions = {}): CompileCache {
  const env = options.env ?? process.env;
  const enable = options.enable ?? ((directory: string) => enableCompileCache(directory));
  try {
    if (env.NODE_COMPILE_CACHE) return enabled(enable(env.NODE_COMPILE_CACHE));
    // The XDG spec: a relative XDG_CACHE_HOME is invalid and ignored.
    const xdg = env.XDG_CACHE_HOME;
    const base = xdg && path.isAbsolute(xdg) ? xdg : path.join(options.home ?? homedir(), '.cache');
    const directory = path.join(base, 'lifeboat', 'compile-cache');
    mkdirSync(directory, { recursive: true, mode: 0o700 });
    const uid = options.uid ?? process.getuid?.();
    // The folder and the one holding it: whoever may write the latter can swap the former.
    for (const folder of [path.dirname(directory), directory]) {
      const stat = lstatSync(folder);
      if (!stat.isDirectory()) return { enabled: false, why: `${folder} is not a folder` };
      if (uid !== undefined && stat.uid !== uid)
        return { enabled: false, why: `${folder} belongs to uid ${stat.uid}, not ${uid}` };
      if ((stat.mode & 0o022) !== 0) return { enabled: false, why: `others may write ${folder}` };
    }
    return enabled(enable(directory));
  } catch (error) {
    return { enabled: false, why: (error as Error).message };
  }
}

function enabled(result: { directory?: string | undefined; message?: string | undefined }) {
  return result.directory
    ? ({ enabled: true, directory: result.directory } as const)
    : ({ enabled: false, why: result.message ?? 'Node did not enable it' } as const);
}
