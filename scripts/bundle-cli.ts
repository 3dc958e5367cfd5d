// The installed `lifeboat` command as a bundle (`npm run build`): the CLI and the packages it loads
// in a few files instead of ~300, which Node would otherwise find, read and compile one by one at
// every start — on the break-glass path, when Slack is down.
//
// In dist/cli/: lifeboat.js (the bin), audit-verify-worker.js (audit verify's worker threads,
// found beside the chunk that starts them), the chunks each command imports when it runs, and
// build-id: a hash of all of them, which keys the caches of the config and the runbooks
// (src/sealed-cache.ts) to this build.
// Built from src/ (esbuild reads TypeScript), so a test can bundle the code it tests. Left out and
// loaded from node_modules as before: native code (better-sqlite3's addon; its JavaScript is
// bundled), the AWS SDK (large; only AWS steps load it), local mode's s3rver and pino (the bot's
// logger; the CLI loads it only to report a bug), whose files find their siblings on disk. The
// output must sit inside the checkout, two folders down (dist/cli/), for those and for
// package.json (the version) to be found.
//
//   node dist/scripts/bundle-cli.js [outdir]

import * as lexer from 'es-module-lexer';
import { build, type Plugin } from 'esbuild';
import { createHash } from 'node:crypto';
import { isBuiltin } from 'node:module';
import { existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BUILD_ID_FILE } from '../src/sealed-cache.js';

const EXTERNAL = ['better-sqlite3', '@aws-sdk/*', '@smithy/*', 's3rver', 'pino', 'pg-native'];

/**
 * zod's `z.locales` holds its error messages in 40-odd languages (368 KB of the bundle, read at
 * every start); lifeboat writes its own messages from zod's issue codes and uses none of them.
 * The namespace keeps English, zod's default, which zod imports on its own anyway.
 */
const zodEnglishOnly: Plugin = {
  name: 'zod-english-only',
  setup(builder) {
    builder.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (args) =>
      args.importer.includes(`${path.sep}node_modules${path.sep}zod${path.sep}`)
        ? { path: path.join(path.dirname(args.importer), '..', 'locales'), namespace: 'zod-en' }
        : undefined,
    );
    builder.onLoad({ filter: /.*/, namespace: 'zod-en' }, (args) => ({
      contents: "export { default as en } from './en.js';",
      resolveDir: args.path,
    }));
  },
};

/**
 * Commander requires node:child_process when it loads, for subcommands that are separate
 * executables (lifeboat has none): ~2 ms of every command. It is required when first spawned.
 * A commander whose source no longer has that line fails the build, so this is never silently
 * lost.
 */
const commanderLazyChildProcess: Plugin = {
  name: 'commander-lazy-child-process',
  setup(builder) {
    builder.onLoad({ filter: /[\\/]commander[\\/]lib[\\/]command\.js$/ }, (args) => {
      const eager = "const childProcess = require('node:child_process');";
      const source = readFileSync(args.path, 'utf8');
      if (!source.includes(eager))
        throw new Error(`${args.path}: no "${eager}" to make lazy (commander changed?)`);
      return {
        contents: source.replace(
          eager,
          "const childProcess = { spawn: (...args) => require('node:child_process').spawn(...args) };",
        ),
        loader: 'js',
      };
    });
  },
};

/**
 * Node's built-in modules required, not imported. A static `import` of a built-in makes Node build
 * the module's ESM facade, which reads every export once: node:fs's lazy ReadStream getter alone
 * then loads fs's streams, ~4 ms of every command. `require` hands over the exports as they are,
 * and a destructuring reads only the names the chunk uses. The import statements are found by a
 * lexer (never text in a string that looks like one) and replaced where they stand; esbuild puts
 * each file's imports before its code, so what uses them still runs after. A dynamic `import()`
 * of a built-in (loaded when used) is left as it is.
 */
export async function requireBuiltins(code: string): Promise<string> {
  await lexer.init;
  let out = '';
  let last = 0;
  for (const found of lexer.parse(code)[0]) {
    if (found.d !== -1 || found.n === undefined || !isBuiltin(found.n)) continue;
    const statement = code.slice(found.ss, found.se);
    const clause = /^import\s+([\s\S]*?)\s+from\s*["'][^"']+["']$/.exec(statement)?.[1];
    if (clause === undefined) continue; // `import "node:x"`: nothing to name
    out += code.slice(last, found.ss) + requireOf(clause, JSON.stringify(found.n));
    last = found.se;
  }
  return out + code.slice(last);
}

/** `path`, `{ a, b as c }`, `* as ns`, `def, { a }` from `specifier`: the same names, required. */
function requireOf(clause: string, specifier: string): string {
  const module = `require(${specifier})`;
  const [, main, rest] = /^([\w$]+)?\s*,?\s*(.*)$/s.exec(clause)!;
  const parts: string[] = [];
  if (main) parts.push(`const ${main} = ${module}`);
  if (rest?.startsWith('*'))
    parts.push(`const ${rest.replace(/^\*\s*as\s+/, '')} = ${main ?? module}`);
  else if (rest) {
    const fields = rest
      .replace(/^\{|\}$/g, '')
      .split(',')
      .map((field) => field.trim())
      .filter(Boolean)
      .map((field) => field.replace(/^([\w$]+)\s+as\s+([\w$]+)$/, '$1: $2'));
    parts.push(`const { ${fields.join(', ')} } = ${main ?? module}`);
  }
  return parts.join('; ');
}

/**
 * better-sqlite3's JavaScript bundled, its native addon loaded from node_modules by its path from
 * the bundle: the `bindings` package would otherwise search a dozen places for it, and Node would
 * resolve, read and compile the package's 14 files one by one (~3 ms of every command that opens
 * the store). Without the addon where npm builds it (build/Release), the package stays external.
 */
function betterSqliteBundled(root: string, outdir: string): Plugin | null {
  const addon = path.join(root, 'node_modules/better-sqlite3/build/Release/better_sqlite3.node');
  if (!existsSync(addon)) return null;
  const fromBundle = path.relative(outdir, addon).split(path.sep).join('/');
  return {
    name: 'better-sqlite3-bundled',
    setup(builder) {
      builder.onLoad({ filter: /[\\/]better-sqlite3[\\/]lib[\\/]database\.js$/ }, (args) => {
        const lookup = "require('bindings')('better_sqlite3.node')";
        const source = readFileSync(args.path, 'utf8');
        if (!source.includes(lookup))
          throw new Error(`${args.path}: no "${lookup}" to replace (better-sqlite3 changed?)`);
        return { contents: source.replace(lookup, `require(${JSON.stringify(fromBundle)})`) };
      });
      // The addon itself is loaded at run time, by the path written above.
      builder.onResolve({ filter: /better_sqlite3\.node$/ }, (args) => ({
        path: args.path,
        external: true,
      }));
    },
  };
}

/** Bundles the CLI from `root`'s src/ into `outdir` (emptied first). */
export async function bundleCli(root: string, outdir: string): Promise<void> {
  rmSync(outdir, { recursive: true, force: true });
  const betterSqlite = betterSqliteBundled(root, outdir);
  await build({
    entryPoints: {
      lifeboat: path.join(root, 'src/cli-bin.ts'),
      'audit-verify-worker': path.join(root, 'src/store/audit-verify-worker.ts'),
    },
    outdir,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node22',
    external: betterSqlite ? EXTERNAL.filter((name) => name !== 'better-sqlite3') : EXTERNAL,
    chunkNames: '[name]-[hash]',
    plugins: [zodEnglishOnly, commanderLazyChildProcess, ...(betterSqlite ? [betterSqlite] : [])],
    // Node's built-ins, and the bundled CommonJS packages (yaml, pg), are loaded through require().
    banner: {
      js: "const require = process.getBuiltinModule('node:module').createRequire(import.meta.url);",
    },
    logLevel: 'warning',
  });
  for (const name of readdirSync(outdir)) {
    const file = path.join(outdir, name);
    writeFileSync(file, await requireBuiltins(readFileSync(file, 'utf8')));
  }
  // Every file's name and content: any change to any code gives another build-id.
  const hash = createHash('sha256');
  for (const name of readdirSync(outdir).sort()) {
    const content = readFileSync(path.join(outdir, name));
    hash.update(`${name}\0${content.length}\0`).update(content);
  }
  writeFileSync(path.join(outdir, BUILD_ID_FILE), `${hash.digest('hex')}\n`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const root = path.resolve(import.meta.dirname, '..', '..');
  await bundleCli(root, path.resolve(process.argv[2] ?? path.join(root, 'dist', 'cli')));
}
