// CommonJS packages loaded when first used, not when lifeboat starts: a CLI command that never
// talks to AWS or to a database does not pay for their clients. require() loads them in place,
// synchronously; their types come from `import type`.

import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

export function lazyRequire<T>(name: string): () => T {
  let loaded: T | undefined;
  return () => (loaded ??= require(name) as T);
}
