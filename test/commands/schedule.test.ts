import { readFileSync } from 'node:fs';
import path from 'node:path';
import { storeFileOf } from '../support/engine.js';
import { describe, expect, it } from 'vitest';
import { schedule } from '../../commands/schedule.js';
import { parseConfig } from '../../src/config.js';
import { openStore } from '../../src/store/db.js';
import { makeTempDir } from '../support/tmp.js';

describe('/dr schedule', () => {
  it("lists every scheduled entry with its next due time in UTC, as of lifeboat's clock", async () => {
    const example = readFileSync(
      path.resolve(import.meta.dirname, '../../lifeboat.example.yml'),
      'utf8',
    );
    const config = parseConfig(example, path.join(makeTempDir(), 'lifeboat.yml'));
    const store = openStore(storeFileOf(config));
    const now = new Date('2026-11-24T03:10:00Z');
    const reply = schedule.run([], { config, store, user: 'U0ALICE', clock: () => now });
    await store.close();
    expect(reply).toMatchObject({ type: 'message' });
    const text = (reply as { text: string }).text;
    expect(text).toContain(
      '*backup-check* — check backups · `*/30 * * * *` UTC · next 2026-11-24 03:30 UTC',
    );
    expect(text).toContain(
      '*quarterly-tabletop* — remind: tabletop-region-outage · `0 10 1 1,4,7,10 *` UTC · next 2027-01-01 10:00 UTC',
    );
  });
});
