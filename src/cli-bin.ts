#!/usr/bin/env node
// The installed `lifeboat` command (package.json bin: dist/cli/lifeboat.js, this file bundled with
// the CLI by scripts/bundle-cli.ts). The compile cache is on before the CLI's own code is read, so
// every module of the bundle comes from it from the second command on.

import { enablePrivateCompileCache } from './compile-cache.js';

const cache = enablePrivateCompileCache();
// A cache folder others could have made or may write may have been tampered with: lifeboat uses
// nothing in it (compiled code, the config, runbooks), and says so, every time, until it is mended.
if (!cache.enabled && cache.unsafe)
  process.stderr.write(
    `lifeboat: warning: ${cache.why}: nothing is cached there, and nothing in it is used (if you did not make it so, someone may have; remove the folder and lifeboat makes it again, private)\n`,
  );
const { main } = await import('./cli.js');
await main();
