// The CLI's compile cache lives where only its user can write: V8 runs what it finds there, so a
// cache anyone could fill would run their code in the next lifeboat process.

import { chmodSync, mkdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { enablePrivateCompileCache } from '../src/compile-cache.js';
import { makeTempDir } from './support/tmp.js';

/** Node's enableCompileCache, recorded instead of called: the test process keeps its own. */
function recorder() {
  const asked: string[] = [];
  return {
    asked,
    enable: (directory: string) => {
      asked.push(directory);
      return { directory };
    },
  };
}

describe('the compile cache', () => {
  it('is a folder of the user’s own cache, made readable and writable by that user alone', () => {
    const home = makeTempDir();
    const { asked, enable } = recorder();
    const result = enablePrivateCompileCache({ env: {}, home, enable });
    const expected = path.join(home, '.cache', 'lifeboat', 'compile-cache');
    expect(result).toEqual({ enabled: true, directory: expected });
    expect(asked).toEqual([expected]);
    expect(statSync(expected).mode & 0o777).toBe(0o700);
    expect(statSync(path.dirname(expected)).mode & 0o777).toBe(0o700);

    const xdg = makeTempDir();
    expect(enablePrivateCompileCache({ env: { XDG_CACHE_HOME: xdg }, enable })).toEqual({
      enabled: true,
      directory: path.join(xdg, 'lifeboat', 'compile-cache'),
    });
    // A relative XDG_CACHE_HOME is no place (the XDG spec says to ignore it): the home's is used.
    expect(enablePrivateCompileCache({ env: { XDG_CACHE_HOME: 'cache' }, home, enable })).toEqual({
      enabled: true,
      directory: expected,
    });
  });

  it('stays off when others may write the folder or the one holding it, when it is another user’s, or a symlink', () => {
    const { asked, enable } = recorder();
    const home = makeTempDir();
    const folder = path.join(home, '.cache', 'lifeboat', 'compile-cache');
    mkdirSync(folder, { recursive: true, mode: 0o700 });

    chmodSync(folder, 0o777);
    expect(enablePrivateCompileCache({ env: {}, home, enable })).toEqual({
      enabled: false,
      why: `others may write ${folder}`,
      unsafe: true,
    });
    chmodSync(folder, 0o700);
    chmodSync(path.dirname(folder), 0o775);
    expect(enablePrivateCompileCache({ env: {}, home, enable })).toEqual({
      enabled: false,
      why: `others may write ${path.dirname(folder)}`,
      unsafe: true,
    });
    chmodSync(path.dirname(folder), 0o700);

    const owner = statSync(folder).uid;
    expect(enablePrivateCompileCache({ env: {}, home, enable, uid: owner + 1 })).toEqual({
      enabled: false,
      why: `${path.dirname(folder)} belongs to uid ${owner}, not ${owner + 1}`,
      unsafe: true,
    });

    const elsewhere = makeTempDir();
    const linked = makeTempDir();
    mkdirSync(path.join(linked, 'lifeboat'), { mode: 0o700 });
    symlinkSync(elsewhere, path.join(linked, 'lifeboat', 'compile-cache'));
    expect(enablePrivateCompileCache({ env: { XDG_CACHE_HOME: linked }, enable })).toEqual({
      enabled: false,
      why: `${path.join(linked, 'lifeboat', 'compile-cache')} is not a folder`,
      unsafe: true,
    });
    expect(asked).toEqual([]);
  });

  it('is only slower, not suspect, when the folder cannot be made (a read-only home)', () => {
    const { asked, enable } = recorder();
    const file = path.join(makeTempDir(), 'not-a-folder');
    writeFileSync(file, '');
    const result = enablePrivateCompileCache({ env: { XDG_CACHE_HOME: file }, enable });
    expect(result).toEqual({ enabled: false, why: expect.stringMatching(/ENOTDIR|EEXIST/) });
    expect(asked).toEqual([]);
  });

  it('uses NODE_COMPILE_CACHE as given: the operator chose it', () => {
    const { asked, enable } = recorder();
    expect(
      enablePrivateCompileCache({ env: { NODE_COMPILE_CACHE: '/srv/cache' }, enable }),
    ).toEqual({ enabled: true, directory: '/srv/cache' });
    expect(asked).toEqual(['/srv/cache']);
  });
});
