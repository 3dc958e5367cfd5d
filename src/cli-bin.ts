#!/usr/bin/env node
// The installed `lifeboat` command (package.json bin: dist/cli/lifeboat.js, this file bundled with
// the CLI by scripts/bundle-cli.ts). The compile cache is on before the CLI's own code is read, so
// every module of the bundle comes from it from the second command on.

import { enableCliCompileCache } from './compile-cache.js';

enableCliCompileCache();
const { main } = await import('./cli.js');
await main();
