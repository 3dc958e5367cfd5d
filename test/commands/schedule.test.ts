import { readFileSync } from 'node:fs';
import path from 'node:path';
import { storeFileOf } from '../support/engine.js';
import { describe, expect, it } from 'vitest';
import { schedule } from '../../commands/schedule.js';
import { parseConfig } from '../../src/config.js';
import { openStore } from '../../src/store/db.js';
import { makeTempDir } from '../support/tmp.js';

describe('/dr schedule', () => {
  it('lists every scheduled entry with its next due time in UTC', async () => {
    const example = readFileSync(
      path.resolve(import.meta.dirname, '../../lifeboat.example.yml'),
      'utf8',
    );
    const config = parseConfig(example, path.join(makeTempDir(), 'lifeboat.yml'));
    const store = openStore(storeFileOf(config));
    const reply = schedule.run([], { config, store, user: 'U0ALICE', clock: () => new Date() });
    await store.close();
    expect(reply).toMatchObject({ type: 'message' });
    const text = (reply as { text: string }).text;
    expect(text).toMatch(
      /\*backup-check\* — check backups · `\*\/30 \* \* \* \*` UTC · next \d{4}-\d\d-\d\d \d\d:(00|30) UTC/,
    );
    expect(text).toMatch(
      /\*quarterly-tabletop\* — remind: tabletop-region-outage · `0 10 1 1,4,7,10 \*` UTC · next \d{4}-(01|04|07|10)-01 10:00 UTC/,
    );
  });
});
