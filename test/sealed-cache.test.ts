// What the bundled CLI keeps between commands — the validated config and parsed runbooks — is
// exactly what validating and parsing again would give, never a stale or planted answer, and
// never a secret in the clear (src/sealed-cache.ts). The bundle itself is in cli-bundle.test.ts.

import { chmodSync, cpSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { loadConfig, parseConfigFile } from '../src/config.js';
import { loadConfigCached } from '../src/config/cache.js';
import { ConfigError } from '../src/errors.js';
import { cachedRunbookReader } from '../src/runbook/cache.js';
import { runbookFilesIn } from '../src/runbook/files.js';
import { loadRunbookLibrary } from '../src/runbook/library.js';
import { sealedCache, writeSealed } from '../src/sealed-cache.js';
import { postgresConfig } from './support/engine.js';
import { makeTempDir } from './support/tmp.js';

const root = path.resolve(import.meta.dirname, '..');
const BUILD = 'a'.repeat(64);
const OTHER_BUILD = 'b'.repeat(64);

/** A config with a password in its database URL and an action that reads a token. */
function configIn(dir: string, extra = ''): { file: string; env: Record<string, string> } {
  const file = path.join(dir, 'lifeboat.yml');
  writeFileSync(
    file,
    postgresConfig(
      'postgres://app:s3cret-in-the-file@127.0.0.1:1/postgres',
      'postgres://app:s3cret-in-the-file@127.0.0.1:2/postgres',
      `actions:\n  restart-app:\n    command: [systemctl, restart, app]\n    env: [APP_TOKEN]\n${extra}`,
    ),
  );
  return {
    file,
    env: {
      LIFEBOAT_CONFIG: file,
      SLACK_BOT_TOKEN: 'xoxb-from-the-environment',
      APP_TOKEN: 'token-from-the-environment',
    },
  };
}

function entriesIn(directory: string): string[] {
  return readdirSync(directory).map((name) => path.join(directory, name));
}

describe('the config cache', () => {
  it('gives what validating gives, from one entry that holds neither the file nor the environment in the clear', async () => {
    const directory = makeTempDir();
    const { env } = configIn(makeTempDir());
    const options = { buildId: BUILD, directory };
    const first = await loadConfigCached(env, options);
    expect(first).toStrictEqual(loadConfig(env));
    expect(entriesIn(directory)).toHaveLength(1);
    const again = await loadConfigCached(env, options);
    expect(again).toStrictEqual(first);

    const bytes = readFileSync(entriesIn(directory)[0]!);
    for (const secret of ['s3cret-in-the-file', 'xoxb-from-the-environment', 'token-from'])
      expect(bytes.includes(secret), secret).toBe(false);
    expect(readdirSync(path.dirname(entriesIn(directory)[0]!))).toHaveLength(1);
  });

  it("takes the environment's part from the process that reads, never from the entry", async () => {
    const directory = makeTempDir();
    const { env } = configIn(makeTempDir());
    const options = { buildId: BUILD, directory };
    await loadConfigCached(env, options);
    const later = await loadConfigCached(
      { ...env, SLACK_BOT_TOKEN: 'xoxb-rotated', APP_TOKEN: 'rotated', PORT: '4000' },
      options,
    );
    expect(later.env).toMatchObject({ slackBotToken: 'xoxb-rotated', port: 4000 });
    expect(later.actionEnv).toMatchObject({ APP_TOKEN: 'rotated' });
    await expect(loadConfigCached({ ...env, PORT: 'x' }, options)).rejects.toThrow(/PORT/);
  });

  it('serves an entry only to the same text, path and build: an edit is seen at once', async () => {
    const directory = makeTempDir();
    const dir = makeTempDir();
    const { file, env } = configIn(dir);
    const text = readFileSync(file, 'utf8');
    const cache = sealedCache('config', env, { buildId: BUILD, directory })!;
    // An entry planted for this very text, path and build is what a hit returns...
    const planted = { ...parseConfigFile(text, file), runbooksDir: '/planted' };
    writeSealed(cache, [file], text, planted);
    expect((await loadConfigCached(env, { buildId: BUILD, directory })).runbooksDir).toBe(
      '/planted',
    );
    // ...and nothing else is: another build, a refresh, an edit of the file.
    const real = path.join(dir, 'runbooks');
    expect((await loadConfigCached(env, { buildId: OTHER_BUILD, directory })).runbooksDir).toBe(
      real,
    );
    writeSealed(cache, [file], text, planted);
    expect(
      (await loadConfigCached(env, { buildId: BUILD, directory, refresh: true })).runbooksDir,
    ).toBe(real);
    writeSealed(cache, [file], text, planted);
    configIn(dir, 'runbooks_dir: ./books\n');
    expect((await loadConfigCached(env, { buildId: BUILD, directory })).runbooksDir).toBe(
      path.join(dir, 'books'),
    );
    expect(entriesIn(directory)).toHaveLength(1);
  });

  it('validates afresh past a damaged entry, and rewrites it', async () => {
    const directory = makeTempDir();
    const { env } = configIn(makeTempDir());
    const options = { buildId: BUILD, directory };
    const first = await loadConfigCached(env, options);
    const [entry] = entriesIn(directory);
    const bytes = readFileSync(entry!);
    bytes[bytes.length - 1]! ^= 0xff;
    writeFileSync(entry!, bytes);
    expect(await loadConfigCached(env, options)).toStrictEqual(first);
    expect(readFileSync(entry!).equals(bytes)).toBe(false);
  });

  it('says what is wrong with a broken file as loadConfig does, and keeps nothing of it', async () => {
    const directory = makeTempDir();
    const dir = makeTempDir();
    const { env } = configIn(dir);
    writeFileSync(env.LIFEBOAT_CONFIG!, 'services:\n  x:\n    rto: 1x\n');
    const error = await loadConfigCached(env, { buildId: BUILD, directory }).catch(
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(/services\.x\.rto: "1x" is not a duration/);
    expect(entriesIn(directory)).toEqual([]);
    await expect(
      loadConfigCached(
        { LIFEBOAT_CONFIG: path.join(dir, 'none.yml') },
        { buildId: BUILD, directory },
      ),
    ).rejects.toThrow(/no config file at/);
  });

  it('is off without a build-id (the unbundled code) and in a folder others may write', async () => {
    const cacheHome = makeTempDir();
    const { env } = configIn(makeTempDir());
    // From src/, there is no build-id beside the code: nothing is made in the user's cache.
    expect(await loadConfigCached({ ...env, XDG_CACHE_HOME: cacheHome })).toStrictEqual(
      loadConfig(env),
    );
    expect(readdirSync(cacheHome)).toEqual([]);

    const shared = path.join(cacheHome, 'lifeboat');
    mkdirSync(shared);
    chmodSync(shared, 0o777);
    const said = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      expect(sealedCache('config', { XDG_CACHE_HOME: cacheHome }, { buildId: BUILD })).toBeNull();
      // Said once, however often the folder is refused.
      expect(sealedCache('runbooks', { XDG_CACHE_HOME: cacheHome }, { buildId: BUILD })).toBeNull();
      expect(said.mock.calls).toEqual([
        [expect.stringMatching(new RegExp(`^lifeboat: warning: others may write ${shared}: `))],
      ]);
    } finally {
      said.mockRestore();
    }
    expect(
      await loadConfigCached({ ...env, XDG_CACHE_HOME: cacheHome }, { buildId: BUILD }),
    ).toStrictEqual(loadConfig(env));
    expect(readdirSync(shared)).toEqual([]); // nothing made inside a folder that is refused
  });
});

describe('the runbook cache', () => {
  function runbooksCopy(): string {
    const dir = path.join(makeTempDir(), 'runbooks');
    cpSync(path.join(root, 'runbooks'), dir, { recursive: true });
    return dir;
  }

  it('reads the library the parser reads, one entry per runbook', async () => {
    const dir = runbooksCopy();
    const directory = makeTempDir();
    const options = { buildId: BUILD, directory };
    const parsed = loadRunbookLibrary(dir);
    for (let pass = 0; pass < 2; pass++) {
      const reader = await cachedRunbookReader(() => runbookFilesIn(dir), options);
      expect(reader.loadRunbookLibrary(dir)).toStrictEqual(parsed);
      expect(reader.resolveRunbookByName('dr-test', dir)).toStrictEqual(
        parsed.runbooks.find((runbook) => runbook.name === 'dr-test'),
      );
    }
    expect(entriesIn(directory)).toHaveLength(parsed.runbooks.length);
    for (const entry of entriesIn(directory))
      expect(readFileSync(entry).includes('Promote the replica')).toBe(false);
  });

  it('sees an edit at once, names a broken runbook by file:line every time, and keeps nothing of it', async () => {
    const dir = runbooksCopy();
    const directory = makeTempDir();
    const options = { buildId: BUILD, directory };
    const file = path.join(dir, 'dr-test.md');
    const reader = () => cachedRunbookReader(() => runbookFilesIn(dir), options);
    expect((await reader()).resolveRunbookByName('dr-test', dir).title).toMatch(/^DR test/);
    writeFileSync(file, readFileSync(file, 'utf8').replace(/^title: .*$/m, 'title: Edited'));
    expect((await reader()).resolveRunbookByName('dr-test', dir).title).toBe('Edited');
    const broken = path.join(dir, 'broken.md');
    writeFileSync(broken, '---\ntitle: Broken\nkind: nonsense\n---\n## Work\n1. Look\n');
    for (let pass = 0; pass < 2; pass++)
      expect((await reader()).loadRunbookLibrary(dir).errors.map((error) => error.message)).toEqual(
        [expect.stringMatching(/broken\.md:\d+: .*kind/)],
      );
    expect(entriesIn(directory)).toHaveLength(runbookFilesIn(dir).length - 1);
  });

  it('serves only the text it was given to read: another file is a bug that says so', async () => {
    const dir = runbooksCopy();
    const reader = await cachedRunbookReader(() => [path.join(dir, 'dr-test.md')], {
      buildId: BUILD,
      directory: makeTempDir(),
    });
    expect(() => reader.resolveRunbookByName('failover', dir)).toThrow(
      /failover\.md was not read ahead of the runbook cache/,
    );
  });
});
