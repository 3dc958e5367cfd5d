// After a promotion, "take a fresh backup and check it" must find a backup of the new primary: a
// backup from before the promotion is one of the old primary, and the step fails saying so. Real
// objects in s3rver; a database that answers what it is told; the clock taken from the store.

import { utimesSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createS3BackupStore } from '../../src/providers/aws/s3.js';
import { makeEngine, playThrough, postgresConfig, testClock } from '../support/engine.js';
import { fakeDatabase } from '../support/fake-database.js';
import { putObject, storeNow, useS3rver } from '../support/s3.js';

const s3 = useS3rver(['after-promotion']);

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

describe('backup.verify after a promotion', () => {
  it('refuses the old primary’s backup, then passes on one taken after the promotion', async () => {
    // The old primary's backup, two hours old (s3rver dates objects by their file's mtime).
    await putObject(s3.client(), 'after-promotion', 'pg/before.dump', Buffer.alloc(1000, 1));
    const storeTime = await storeNow(s3.client(), 'after-promotion');
    const twoHoursAgo = new Date(storeTime.getTime() - 2 * 3_600_000);
    utimesSync(s3.objectFile('after-promotion', 'pg/before.dump'), twoHoursAgo, twoHoursAgo);
    const clock = testClock(new Date(storeTime.getTime() - 3_600_000).toISOString());
    const fake = fakeDatabase(0);
    const t = await makeEngine({
      runbooks: { failover: runbook },
      clock,
      configYaml: postgresConfig(
        'postgres://fake:1/db',
        'postgres://fake:2/db',
        `    backups: { provider: s3, bucket: after-promotion, prefix: pg/, region: us-west-2, endpoint: "${s3.endpoint()}", credentials: s3rver, max_age: 1d }\n`,
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
