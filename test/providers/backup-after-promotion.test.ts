// After a promotion, "take a fresh backup and check it" must find a backup of the new primary: a
// backup from before the promotion is one of the old primary, and the step fails saying so. Real
// objects in s3rver; a database that answers what it is told; the clock taken from the store.

import { utimesSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createS3BackupStore } from '../../src/providers/aws/s3.js';
import {
  makeEngine,
  playThrough,
  postgresConfig,
  testClock,
  type TestClock,
} from '../support/engine.js';
import { fakeDatabase } from '../support/fake-database.js';
import { putObject, storeNow, useS3rver } from '../support/s3.js';

const s3 = useS3rver(['after-promotion', 'same-second']);

const runbook = `---
title: Failover
kind: failover
service: payments-db
---
## Fail over
1. Promote \`action: db.promote\`

## After
- [ ] Take a fresh backup of the new primary
- [ ] Check that the newest backup was taken after the promotion \`action: backup.verify\`
`;

/** A failover of payments-db on a database that answers what it is told, its backups in `bucket`. */
async function startFailover(bucket: string, clock: TestClock, maxAge: string) {
  const fake = fakeDatabase(0);
  const t = await makeEngine({
    runbooks: { failover: runbook },
    clock,
    configYaml: postgresConfig(
      'postgres://fake:1/db',
      'postgres://fake:2/db',
      `    backups: { provider: s3, bucket: ${bucket}, prefix: pg/, region: us-west-2, endpoint: "${s3.endpoint()}", credentials: s3rver, max_age: ${maxAge} }\n`,
    ),
    providersFor: (service) => ({
      database: fake.provider,
      dns: null,
      backups: createS3BackupStore(service!.backups!, {
        client: s3.client(),
        retry: { attempts: 1 },
      }),
    }),
  });
  const { runId } = await t.engine.startRun({
    key: 'start',
    actor: { user: 'U0ALICE' },
    runbook: 'failover',
    impactAt: clock(),
  });
  return { t, fake, runId };
}

describe('backup.verify after a promotion', () => {
  it('refuses the old primary’s backup, then passes on one taken after the promotion', async () => {
    // The old primary's backup, two hours old (s3rver dates objects by their file's mtime).
    await putObject(s3.client(), 'after-promotion', 'pg/before.dump', Buffer.alloc(1000, 1));
    const storeTime = await storeNow(s3.client(), 'after-promotion');
    const twoHoursAgo = new Date(storeTime.getTime() - 2 * 3_600_000);
    utimesSync(s3.objectFile('after-promotion', 'pg/before.dump'), twoHoursAgo, twoHoursAgo);
    const clock = testClock(new Date(storeTime.getTime() - 3_600_000).toISOString());
    const { t, fake, runId } = await startFailover('after-promotion', clock, '1d');
    const stuck = await playThrough(t, runId);
    expect(fake.promotions).toBe(1);
    expect(stuck.current).toMatchObject({ index: 2, waitingOn: 'failure' });
    expect(stuck.current?.summary).toMatch(
      /the newest backup, pg\/before\.dump \(.+\), is from before the promotion at .+: it is a backup of the old primary\. Take a fresh backup of the new primary, then retry/,
    );

    // The backup job runs; the operator retries.
    await putObject(s3.client(), 'after-promotion', 'pg/after.dump', Buffer.alloc(1000, 2));
    clock.set((await storeNow(s3.client(), 'after-promotion')).toISOString());
    await t.engine.retryStep({ key: 'retry', actor: { user: 'U0ALICE' }, runId, stepIndex: 2 });
    const done = await playThrough(t, runId);
    expect(done.steps[2]!.state).toBe('done');
    expect(done.steps[2]!.summary).toMatch(/^newest backup pg\/after\.dump: 1000 bytes/);
  });
});

describe('backup.verify after a promotion, at the store’s precision', () => {
  it('refuses a backup stored a whole second before the promotion, trusts a manifest’s start to the millisecond, and counts one stored in the promotion’s second as after it, saying so', async () => {
    const bucket = 'same-second';
    const dateObject = (key: string, at: number) =>
      utimesSync(s3.objectFile(bucket, key), new Date(at), new Date(at));
    await putObject(s3.client(), bucket, 'pg/a-old.dump', Buffer.alloc(1000, 1));
    const storeTime = await storeNow(s3.client(), bucket);
    const start = Math.floor((storeTime.getTime() - 3_600_000) / 1000) * 1000 + 600;
    dateObject('pg/a-old.dump', start - 3_600_000);
    const clock = testClock(new Date(start).toISOString());
    const { t, runId } = await startFailover(bucket, clock, '30d');
    const backups = createS3BackupStore(t.config.services['payments-db']!.backups!, {
      client: s3.client(),
      retry: { attempts: 1 },
    });
    const first = await playThrough(t, runId);
    expect(first.current?.summary).toMatch(/pg\/a-old\.dump .* is from before the promotion/);
    // When the promotion ended (the test clock runs on through the steps): 600 ms into a second.
    const promotedAt = Date.parse(first.steps[0]!.finishedAt!);
    const second = promotedAt - (promotedAt % 1000);
    expect(promotedAt - second).toBe(600);
    let retries = 0;
    const retry = async () => {
      retries += 1;
      await t.engine.retryStep({
        key: `retry-${retries}`,
        actor: { user: 'U0ALICE' },
        runId,
        stepIndex: 2,
      });
      return playThrough(t, runId);
    };

    // Stored in the second before the promotion's: surely older, whatever the millisecond.
    dateObject('pg/a-old.dump', second - 100);
    expect((await retry()).current?.summary).toMatch(
      /pg\/a-old\.dump \(.*\.000Z\), is from before the promotion/,
    );

    // A manifest that cannot be read is not passed over in silence: the store's date decides,
    // and the step says why.
    await putObject(s3.client(), bucket, 'pg/a-old.dump.lifeboat.json', 'not a manifest');
    expect((await retry()).current?.summary).toMatch(
      /pg\/a-old\.dump \(.*\.000Z; its manifest could not be read \(.*\), so it is judged by the store's date\), is from before the promotion/,
    );

    // lifeboat's own backup, stored in the promotion's second: its manifest says the dump
    // started 100 ms before the promotion ended, so it is before it.
    await putObject(s3.client(), bucket, 'pg/c-manifest.dump', Buffer.alloc(1000, 3));
    dateObject('pg/c-manifest.dump', second + 950);
    await backups.writeManifest({
      format: 'lifeboat-backup/1',
      service: 'payments-db',
      key: 'pg/c-manifest.dump',
      tool: 'pg_dump -Fc',
      source: 'fake:1',
      startedAt: new Date(second + 500).toISOString(),
      finishedAt: new Date(second + 950).toISOString(),
      bytes: 1000,
      sha256: '0'.repeat(64),
      tables: {},
      lifeboatVersion: 'test',
    });
    expect((await retry()).current?.summary).toMatch(
      /pg\/c-manifest\.dump \(its dump started .*\.500Z\), is from before the promotion at .*\.600Z/,
    );

    // Another tool's backup ended 300 ms after the promotion; S3 dates it to that second, which
    // cannot put it before or after: counted as after, and the step says why.
    await putObject(s3.client(), bucket, 'pg/d-same-second.dump', Buffer.alloc(1000, 2));
    dateObject('pg/d-same-second.dump', second + 900);
    const done = await retry();
    expect(done.steps[2]!.state).toBe('done');
    expect(done.steps[2]!.summary).toMatch(
      /^newest backup pg\/d-same-second\.dump: .*stored in the second of the promotion \(.*\.000Z: the store keeps whole seconds\), so counted as after it/,
    );
  });
});
