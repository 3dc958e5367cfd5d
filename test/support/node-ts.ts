// Node arguments that run a TypeScript file of ours as its own process (crash tests, races, the
// CLI as a user runs it), from any working directory.

import { pathToFileURL } from 'node:url';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '../..');
const tsxLoader = pathToFileURL(path.join(root, 'node_modules/tsx/dist/loader.mjs')).href;

export function nodeTsArgs(file: string, ...args: string[]): string[] {
  return ['--import', tsxLoader, path.resolve(root, file), ...args];
}

/** Just the loader: for `node --input-type=module -e` scripts that import our TypeScript. */
export function nodeTsLoaderArgs(): string[] {
  return ['--import', tsxLoader];
}
