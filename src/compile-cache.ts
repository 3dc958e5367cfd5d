// The CLI's compiled code kept between runs (Node's module compile cache), in a folder only its
// user can write. Node's default folder is shared (/tmp/node-compile-cache): anyone on the host
// could create it first and plant a cache entry, and V8 would run that code in the next lifeboat
// process — often root's, during a failover. Node built-ins only: this runs before anything else.

import { enableCompileCache } from 'node:module';
import { privateCacheFolder, warnOfUnsafeFolder, type CacheFolderOptions } from './cache-folder.js';

export type CompileCache =
  | { enabled: true; directory: string }
  /** `unsafe`: the folder was refused for what it is (see CacheFolder). */
  | { enabled: false; why: string; unsafe?: boolean };

export interface CompileCacheOptions extends CacheFolderOptions {
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
    const folder = privateCacheFolder('compile-cache', options);
    if (folder.directory === null)
      return { enabled: false, why: folder.why, ...(folder.unsafe ? { unsafe: true } : {}) };
    return enabled(enable(folder.directory));
  } catch (error) {
    return { enabled: false, why: (error as Error).message };
  }
}

/**
 * The CLI's compile cache, on before its own code is read; when the folder was refused for what it
 * is (someone else's, a symlink, writable by others) it may have been tampered with: lifeboat uses
 * nothing in it (compiled code, the config, runbooks), and says so on every command until mended.
 */
export function enableCliCompileCache(): CompileCache {
  const cache = enablePrivateCompileCache();
  if (!cache.enabled && cache.unsafe) warnOfUnsafeFolder(cache.why);
  return cache;
}

function enabled(result: { directory?: string | undefined; message?: string | undefined }) {
  return result.directory
    ? ({ enabled: true, directory: result.directory } as const)
    : ({ enabled: false, why: result.message ?? 'Node did not enable it' } as const);
}
