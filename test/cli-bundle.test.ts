// The installed `lifeboat` is a bundle of the CLI (scripts/bundle-cli.ts). Bundled here from the
// source under test, it must say what the source says, find its worker threads and its version
// on disk, keep its compile cache private, and answer from its config and runbook caches only
// what validating and parsing would (src/sealed-cache.ts).

import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  cpSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { isBuiltin } from 'node:module';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleCli, requireBuiltins } from '../scripts/bundle-cli.js';
import { recordAuditEvents } from '../src/store/audit.js';
import { openStore } from '../src/store/db.js';
import { cli, type CliResult } from './support/cli.js';
import { postgresConfig } from './support/engine.js';
import { makeTempDir } from './support/tmp.js';

const root = path.resolve(import.meta.dirname, '..');
// Inside the checkout, two folders down as dist/cli/ is: node_modules and package.json are found.
const outdir = path.join(root, 'test-output', `cli-bundle-${process.pid}`);
/** XDG_CACHE_HOME of the bundled commands: their compile cache goes here, not into ~/.cache. */
const cacheHome = path.join(root, 'test-output', `cli-bundle-cache-${process.pid}`);

beforeAll(async () => {
  await bundleCli(root, outdir);
});

afterAll(() => {
  rmSync(outdir, { recursive: true, force: true });
  rmSync(cacheHome, { recursive: true, force: true });
});

/**
 * `lifeboat ARGS` from the bundle, in this process's environment (under faketime too: its clock is
 * this process's) without lifeboat's and Slack's own variables, plus `env`.
 */
function bundled(args: string[], env: Record<string, string> = {}): CliResult {
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(
      ([name]) => !/^(LIFEBOAT_|SLACK_|NODE_COMPILE_CACHE)/.test(name),
    ),
  );
  const result = spawnSync(process.execPath, [path.join(outdir, 'lifeboat.js'), ...args], {
    cwd: root,
    encoding: 'utf8',
    env: { ...inherited, XDG_CACHE_HOME: cacheHome, ...env },
  });
  return { code: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}

function configAt(dir: string, text: string): Record<string, string> {
  writeFileSync(path.join(dir, 'lifeboat.yml'), text);
  return { LIFEBOAT_CONFIG: path.join(dir, 'lifeboat.yml') };
}

describe('the bundled lifeboat command', () => {
  it('says what the source says: version, runbooks, run status, check config', async () => {
    const version = (
      JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { version: string }
    ).version;
    expect(bundled(['--version'])).toEqual({ code: 0, stdout: `${version}\n`, stderr: '' });

    const runbooks = path.join(root, 'runbooks');
    const env = configAt(
      makeTempDir(),
      postgresConfig(
        'postgres://postgres@127.0.0.1:1/postgres',
        'postgres://postgres@127.0.0.1:2/postgres',
        `runbooks_dir: ${JSON.stringify(runbooks)}\n`,
      ),
    );
    for (const args of [
      ['runbooks', 'list', '--dir', runbooks],
      ['runbooks', 'check', '--dir', runbooks],
      ['run', 'status'],
      ['check', 'config'],
    ]) {
      const ours = bundled(args, env);
      // The same clock on both sides: `check config` says which runbooks are overdue for review.
      expect(ours, args.join(' ')).toEqual(await cli(args, env, () => new Date()));
      expect(ours.code, `${args.join(' ')}: ${ours.stderr}`).toBe(0);
    }
  });

  it('verifies a long audit log in worker threads, found beside its chunks', async () => {
    const dir = makeTempDir();
    // The store is lifeboat.db beside the config.
    const env = configAt(
      dir,
      postgresConfig('postgres://127.0.0.1:1/p', 'postgres://127.0.0.1:2/p'),
    );
    const store = openStore(path.join(dir, 'lifeboat.db'));
    let tick = Date.parse('2026-11-24T00:00:00Z');
    // Past the length from which the log is split between threads (200,000).
    for (let done = 0; done < 200_500; done += 10_000)
      await recordAuditEvents(
        store,
        Array.from({ length: Math.min(10_000, 200_500 - done) }, (_, i) => ({
          actor: 'system',
          action: 'step.done',
          subject: `r-${done + i}`,
        })),
        () => new Date((tick += 1000)),
      );
    await store.close();
    const result = bundled(['audit', 'verify'], env);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^audit log intact: 200500 events/);
  });

  it('answers a mistake in one line, exit 1, no stack', () => {
    const env = configAt(makeTempDir(), 'services:\n  x:\n    rto: 1x\n');
    const result = bundled(['run', 'status'], env);
    expect(result.code).toBe(1);
    expect(result.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(/^lifeboat: .*lifeboat\.yml: services\.x\.rto: "1x" is not a duration/),
    ]);
  });

  it('keeps its compiled code in a folder only its user can open, and warns of one others may write', () => {
    bundled(['--version']);
    const folder = path.join(cacheHome, 'lifeboat', 'compile-cache');
    expect(statSync(folder).mode & 0o777).toBe(0o700);
    expect(readdirSync(folder).length).toBeGreaterThan(0);

    const shared = path.join(makeTempDir(), 'lifeboat');
    mkdirSync(shared, { mode: 0o700 });
    chmodSync(shared, 0o777);
    const result = bundled(['--version'], { XDG_CACHE_HOME: path.dirname(shared) });
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(bundled(['--version']).stdout);
    expect(result.stderr).toBe(
      `lifeboat: warning: others may write ${shared}: nothing is cached there, and nothing in it is used (if you did not make it so, someone may have; remove the folder and lifeboat makes it again, private)\n`,
    );
    expect(readdirSync(shared)).toEqual([]);
  });

  it('warns once of a config cache others may write, alone or with the folder holding it, and uses nothing in it', () => {
    const dir = makeTempDir();
    const env = {
      ...configAt(
        dir,
        postgresConfig(
          'postgres://postgres@127.0.0.1:1/postgres',
          'postgres://postgres@127.0.0.1:2/postgres',
        ),
      ),
      XDG_CACHE_HOME: path.join(dir, 'cache'),
    };
    const clean = bundled(['run', 'status'], env);
    expect(clean).toMatchObject({ code: 0, stderr: '' });
    const warning = (folder: string) =>
      `lifeboat: warning: others may write ${folder}: nothing is cached there, and nothing in it is used (if you did not make it so, someone may have; remove the folder and lifeboat makes it again, private)\n`;

    const config = path.join(dir, 'cache', 'lifeboat', 'config');
    const [entry] = readdirSync(config);
    rmSync(path.join(config, entry!));
    chmodSync(config, 0o777);
    const alone = bundled(['run', 'status'], env);
    expect(alone).toEqual({ code: 0, stdout: clean.stdout, stderr: warning(config) });
    expect(readdirSync(config)).toEqual([]); // nothing written into it

    chmodSync(config, 0o700);
    chmodSync(path.dirname(config), 0o777);
    const both = bundled(['run', 'status'], env);
    expect(both).toEqual({ code: 0, stdout: clean.stdout, stderr: warning(path.dirname(config)) });
  });

  it('answers from what it validated and parsed before without loading zod or the parser, sealed, and sees every edit', () => {
    const dir = makeTempDir();
    const runbooks = path.join(dir, 'runbooks');
    cpSync(path.join(root, 'runbooks'), runbooks, { recursive: true });
    const { LIFEBOAT_CONFIG: configFile } = configAt(
      dir,
      postgresConfig(
        'postgres://app:s3cret-in-the-file@127.0.0.1:1/postgres',
        'postgres://app:s3cret-in-the-file@127.0.0.1:2/postgres',
      ),
    );
    const env = { LIFEBOAT_CONFIG: configFile!, XDG_CACHE_HOME: path.join(dir, 'cache') };
    const commands = [
      ['runbooks', 'list'],
      ['runbooks', 'check'],
      ['run', 'status'],
    ];
    const first = commands.map((args) => bundled(args, env));
    for (const result of first) expect(result.code, result.stderr).toBe(0);
    expect(first[0]!.stdout).toMatch(/^dr-test .*DR test — full failover and failback$/m);

    const folder = path.join(dir, 'cache', 'lifeboat');
    expect(readdirSync(path.join(folder, 'config'))).toHaveLength(1);
    expect(readdirSync(path.join(folder, 'runbooks'))).toHaveLength(
      readdirSync(runbooks).filter((name) => name.endsWith('.md')).length,
    );
    for (const kind of ['config', 'runbooks']) {
      expect(statSync(path.join(folder, kind)).mode & 0o777).toBe(0o700);
      for (const name of readdirSync(path.join(folder, kind)))
        expect(readFileSync(path.join(folder, kind, name)).includes('s3cret')).toBe(false);
    }

    // The chunks with the config's schema (zod) and the markdown parser, put out of reach: the
    // same commands still answer the same, from the caches.
    const chunks = readdirSync(outdir)
      .filter((name) => name.endsWith('.js'))
      .filter((name) =>
        /configFileSchema = |function fromMarkdown\(/.test(
          readFileSync(path.join(outdir, name), 'utf8'),
        ),
      );
    expect(chunks.length).toBeGreaterThanOrEqual(2);
    for (const name of chunks)
      renameSync(path.join(outdir, name), path.join(outdir, `${name}.away`));
    try {
      expect(commands.map((args) => bundled(args, env))).toEqual(first);
    } finally {
      for (const name of chunks)
        renameSync(path.join(outdir, `${name}.away`), path.join(outdir, name));
    }

    // Every edit is seen by the next command: a runbook's title, a mistake in the config.
    const drTest = path.join(runbooks, 'dr-test.md');
    writeFileSync(
      drTest,
      readFileSync(drTest, 'utf8').replace(/^title: .*$/m, 'title: Edited since'),
    );
    expect(bundled(['runbooks', 'list'], env).stdout).toMatch(/^dr-test .*Edited since$/m);
    writeFileSync(configFile!, 'services:\n  x:\n    rto: 1x\n');
    const broken = bundled(['run', 'status'], env);
    expect(broken.code).toBe(1);
    expect(broken.stderr).toMatch(/services\.x\.rto: "1x" is not a duration/);
  });
});

describe("the bundle's imports of Node's built-ins", () => {
  it('become requires of the names used, in every form esbuild writes; nothing else changes', async () => {
    const chunk = [
      'import path from "node:path";',
      'import { readFileSync, writeFileSync as write } from "node:fs";',
      'import {\n  hash,\n  randomUUID\n} from "node:crypto";',
      'import * as os from "node:os";',
      'import events, { once } from "events";',
      'import { helper } from "./chunk-ABC.js";',
      'import pino from "pino";',
      '',
      '// src/example.ts',
      'var lib = __toESM(require_lib(), 1);',
      'import { setTimeout as sleep } from "node:timers/promises";',
      'const text = `',
      'import x from "node:fs";',
      '`;',
      'const later = () => import("node:child_process");',
    ].join('\n');
    expect((await requireBuiltins(chunk)).split('\n')).toEqual([
      'const path = require("node:path");',
      'const { readFileSync, writeFileSync: write } = require("node:fs");',
      'const { hash, randomUUID } = require("node:crypto");',
      'const os = require("node:os");',
      'const events = require("events"); const { once } = events;',
      'import { helper } from "./chunk-ABC.js";',
      'import pino from "pino";',
      '',
      '// src/example.ts',
      'var lib = __toESM(require_lib(), 1);',
      'const { setTimeout: sleep } = require("node:timers/promises");',
      'const text = `',
      'import x from "node:fs";',
      '`;',
      'const later = () => import("node:child_process");',
    ]);
  });

  it('leaves every chunk loadable: each required built-in is there before the code that uses it', () => {
    // Most chunks load only with their command; a built-in required after its first use would
    // throw there. Each is loaded here, in a process of its own.
    const chunks = readdirSync(outdir).filter(
      (file) => file.endsWith('.js') && file !== 'lifeboat.js',
    );
    const script = `for (const file of ${JSON.stringify(chunks)}) await import(${JSON.stringify(`${outdir}/`)} + file); console.log('loaded');`;
    const result = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      cwd: root,
      encoding: 'utf8',
    });
    expect(result.stderr).toBe('');
    expect(result.stdout).toBe('loaded\n');
    expect(chunks.length).toBeGreaterThan(50);
  });

  it('leaves no static import of one in the bundle', async () => {
    const lexer = await import('es-module-lexer');
    await lexer.init;
    for (const name of readdirSync(outdir).filter((file) => file.endsWith('.js'))) {
      const [imports] = lexer.parse(readFileSync(path.join(outdir, name), 'utf8'));
      const builtins = imports.filter((found) => found.d === -1 && isBuiltin(found.n ?? ''));
      expect(
        builtins.map((found) => found.n),
        name,
      ).toEqual([]);
    }
  });
});
