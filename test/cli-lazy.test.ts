// The break-glass CLI starts fast because each command loads only what it uses: neither the AWS
// SDK, local mode's S3 stand-in nor pg is loaded by commands that do not need them (the start-up
// figures themselves are in bench/cli-startup.ts).

import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { postgresConfig } from './support/engine.js';
import { nodeTsLoaderArgs } from './support/node-ts.js';
import { makeTempDir } from './support/tmp.js';

const root = path.resolve(import.meta.dirname, '..');

/** The CommonJS packages loaded by `lifeboat ARGS` (the AWS SDK and s3rver are CommonJS). */
function packagesLoadedBy(args: string[], env: Record<string, string> = {}): string[] {
  const script = `
    import { createRequire } from 'node:module';
    const { runCli } = await import(${JSON.stringify(path.join(root, 'src/cli.ts'))});
    const io = { out() {}, err() {} };
    const code = await runCli(${JSON.stringify(args)}, { io, env: ${JSON.stringify(env)} });
    const loaded = Object.keys(createRequire(import.meta.url).cache)
      .map((file) => /node_modules\\/((?:@[^/]+\\/)?[^/]+)/.exec(file)?.[1])
      .filter(Boolean);
    console.log(JSON.stringify({ code, packages: [...new Set(loaded)] }));
  `;
  const result = spawnSync(
    process.execPath,
    [...nodeTsLoaderArgs(), '--input-type=module', '-e', script],
    { cwd: root, encoding: 'utf8' },
  );
  const { code, packages } = JSON.parse(result.stdout.trim().split('\n').at(-1)!) as {
    code: number;
    packages: string[];
  };
  expect(code).toBe(0);
  return packages;
}

describe('lifeboat start-up', () => {
  it('loads neither the AWS SDK nor s3rver for --version and runbooks list', () => {
    for (const args of [
      ['--version'],
      ['runbooks', 'list', '--dir', path.join(root, 'runbooks')],
    ]) {
      const packages = packagesLoadedBy(args);
      expect(packages.filter((name) => name.startsWith('@aws-sdk/') || name === 's3rver')).toEqual(
        [],
      );
    }
  });

  it('loads neither the AWS SDK, s3rver, pg nor pino for `run status` of a service on PostgreSQL: it connects to no database', () => {
    const dir = makeTempDir();
    writeFileSync(
      path.join(dir, 'lifeboat.yml'),
      postgresConfig(
        'postgres://postgres@127.0.0.1:1/postgres',
        'postgres://postgres@127.0.0.1:2/postgres',
      ),
    );
    const packages = packagesLoadedBy(['run', 'status'], {
      LIFEBOAT_CONFIG: path.join(dir, 'lifeboat.yml'),
    });
    expect(packages).toContain('better-sqlite3'); // it did open the store
    expect(packages).not.toContain('pg');
    expect(packages).not.toContain('pino'); // its few lines of log are written by hand
    expect(packages.filter((name) => name.startsWith('@aws-sdk/') || name === 's3rver')).toEqual(
      [],
    );
  });
});
