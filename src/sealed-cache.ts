// What the bundled CLI keeps between commands of what it derives from files the user owns: the
// validated config (config/cache.ts) and parsed runbooks (runbook/cache.ts). Each entry is a pure
// function of a file's text, where the file is, and the code that read it; keeping it saves
// re-deriving it at every command (the YAML and zod for the config, markdown for runbooks).
//
// - Entries live in a private folder (cache-folder.ts): a folder someone else could have made or
//   may write is never used.
// - Each entry is encrypted (AES-256-GCM) with a key hashed from the build, the Node release, the
//   entry's place and the whole text it was derived from: whoever can decrypt it already holds
//   that text, so a copy of a file's secrets (a password in a database URL) is no more exposed in
//   the cache than in the file. An entry derived from another text, place or build does not
//   decrypt: it is a miss, derived afresh and replaced. One entry per place.
// - An entry is kept only when it reads back exactly as it was derived (JSON, compared deeply).
// - Off unless the code knows its build: the bundle `npm run build` makes carries a build-id
//   beside its chunks (a hash of all of them). The unbundled code, tests included, derives each
//   time unless a test names a build.

import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { privateCacheFolder, warnOfUnsafeFolder } from './cache-folder.js';

export interface SealedCache {
  /** Which cache: the folder's name and part of every key. */
  kind: string;
  directory: string;
  buildId: string;
}

export interface SealedCacheOptions {
  /** What built this code; null: no cache. Default: the build-id file beside this module. */
  buildId?: string | null;
  /** Where entries are kept; null: no cache. Default: `lifeboat/KIND` in the user's cache. */
  directory?: string | null;
}

/** The file the bundle's build-id is in, beside the bundle's chunks. */
export const BUILD_ID_FILE = 'build-id';

const MAGIC = Buffer.from('LBC1');
const IV_BYTES = 12;
const TAG_BYTES = 16;
const HEADER = MAGIC.length + IV_BYTES + TAG_BYTES;

/** The cache `kind`, or null when this code has no build-id or no private folder. */
export function sealedCache(
  kind: string,
  env: Record<string, string | undefined>,
  options: SealedCacheOptions = {},
): SealedCache | null {
  const buildId = options.buildId === undefined ? bundleBuildId() : options.buildId;
  if (buildId === null) return null;
  let directory = options.directory;
  if (directory === undefined) {
    const folder = privateCacheFolder(kind, { env });
    // The compile cache has said so already when it is the folder holding this one.
    if (folder.directory === null && folder.unsafe) warnOfUnsafeFolder(folder.why);
    directory = folder.directory;
  }
  return directory === null ? null : { kind, directory, buildId };
}

/**
 * The bundle's build-id (64 hex digits), or null when this code is not the bundle. Read once: the
 * code running cannot change, and every config and runbook read (each run start) asks.
 */
export function bundleBuildId(): string | null {
  if (buildId !== undefined) return buildId;
  try {
    const id = readFileSync(new URL(`./${BUILD_ID_FILE}`, import.meta.url), 'utf8').trim();
    buildId = /^[0-9a-f]{64}$/.test(id) ? id : null;
  } catch {
    buildId = null;
  }
  return buildId;
}

let buildId: string | null | undefined;

/** What was derived from `text` at `place` by this build, or null. */
export function readSealed<T>(cache: SealedCache, place: string[], text: string): T | null {
  const { entry, key } = entryFor(cache, place, text);
  try {
    const bytes = readFileSync(entry);
    if (bytes.length < HEADER || !bytes.subarray(0, MAGIC.length).equals(MAGIC)) return null;
    const decipher = createDecipheriv(
      'aes-256-gcm',
      key,
      bytes.subarray(MAGIC.length, MAGIC.length + IV_BYTES),
    );
    decipher.setAuthTag(bytes.subarray(MAGIC.length + IV_BYTES, HEADER));
    const json = Buffer.concat([decipher.update(bytes.subarray(HEADER)), decipher.final()]);
    return JSON.parse(json.toString('utf8')) as T;
  } catch {
    // None, or derived from another text, place or build (or damaged): derived afresh.
    return null;
  }
}

/** Keeps `value`, derived from `text` at `place`, replacing what the place held. */
export function writeSealed(cache: SealedCache, place: string[], text: string, value: unknown) {
  const json = JSON.stringify(value);
  // Kept only when it reads back as it is: no undefined, no Infinity, nothing but plain data.
  if (json === undefined || !isDeepStrictEqual(JSON.parse(json), value)) return;
  const { entry, key } = entryFor(cache, place, text);
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  const sealed = Buffer.concat([cipher.update(json, 'utf8'), cipher.final()]);
  const temporary = `${entry}.${process.pid}.${randomBytes(4).toString('hex')}`;
  try {
    writeFileSync(temporary, Buffer.concat([MAGIC, iv, cipher.getAuthTag(), sealed]), {
      mode: 0o600,
    });
    renameSync(temporary, entry);
  } catch {
    // Without an entry the next command derives it again: slower, never wrong.
    rmSync(temporary, { force: true });
  }
}

/**
 * The entry's file, named from its place alone (one entry per place), and its key, hashed from
 * everything the value depends on: the build, the Node release (its time zone data decides which
 * zones a config may name), the place and the text.
 */
function entryFor(cache: SealedCache, place: string[], text: string) {
  const name = createHash('sha256')
    .update(JSON.stringify([`lifeboat ${cache.kind} cache: entry`, ...place]))
    .digest('hex');
  const key = createHash('sha256')
    .update(
      JSON.stringify([
        `lifeboat ${cache.kind} cache: key`,
        cache.buildId,
        process.version,
        process.versions.icu ?? '',
        process.versions.tz ?? '',
        ...place,
      ]),
    )
    .update('\0')
    .update(text)
    .digest();
  return { entry: path.join(cache.directory, name), key };
}
