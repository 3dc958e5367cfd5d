// The runbooks of a folder, parsed by the markdown parser (reader.ts says how they are read; the
// CLI reads them through the runbook cache instead, cache.ts). Parsing stays pure in parse.ts.

import { checkRunbook } from './parse.js';
import { runbookReader } from './reader.js';

export type { CheckRunbook, RunbookLibrary, RunbookReader } from './reader.js';
export { displayPath, runbookFilesIn } from './files.js';

export const {
  loadRunbookLibrary,
  checkRunbookFile,
  loadRunbookFile,
  resolveRunbookByName,
  resolveRunbook,
} = runbookReader(checkRunbook);
