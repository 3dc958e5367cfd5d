// Opens (creating and migrating) the store at argv[2] when the file argv[3] appears, so several
// processes start on one new store at the same moment: says READY, waits, prints the schema
// version it saw.
// Usage: node --import tsx test/support/open-store-child.ts STORE GO_FILE

import { existsSync } from 'node:fs';
import { openStore } from '../../src/store/db.js';

const [file, go] = process.argv.slice(2);
process.stdout.write('READY\n');
while (!existsSync(go!)) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 2);
const store = openStore(file!);
process.stdout.write(`${store.version}\n`);
await store.close();
