// Stands in for the wal-g binary, which Debian does not package: prints the output a real wal-g
// gives for `backup-list --detail --json` and `wal-verify integrity timeline --json`, in the shape
// WAL-G documents, from the folder its --config names. `--config=.../fail` fails as wal-g does.

import { readFileSync } from 'node:fs';
import path from 'node:path';

const args = process.argv.slice(2);
const folder = args.find((arg) => arg.startsWith('--config='))?.slice('--config='.length) ?? '';
if (folder.endsWith('fail')) {
  process.stderr.write(
    'ERROR: 2026/11/24 12:00:00.000000 failed to list s3 folder: AccessDenied\n',
  );
  process.exit(1);
}
const file = args[0] === 'backup-list' ? 'backup-list.json' : 'wal-verify.json';
process.stdout.write(readFileSync(path.join(folder, file), 'utf8'));
