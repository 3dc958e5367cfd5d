import { storeFileOf } from '../support/engine.js';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config.js';
import { checkBackups, latestResults } from '../../src/checks/backups.js';
import { createS3BackupStore } from '../../src/providers/aws/s3.js';
import { openStore } from '../../src/store/db.js';
import { putObject, storeNow, useS3rver } from '../support/s3.js';
import { makeTempDir } from '../support/tmp.js';

const s3 = useS3rver(['backups-a']);

describe('the backup check', () => {
  it('stores one result per service and reports the latest, failing a service whose store does not answer', async () => {
    const client = s3.client();
    await putObject(client, 'backups-a', 'pg/2026-11-24.dump', Buffer.alloc(5000, 7));
    const config = parseConfig(
      `services:
  payments-db:
    rto: 15m
    rpo: 1m
    database: { provider: postgres, primary: "postgres://127.0.0.1:1/p", replica: "postgres://127.0.0.1:2/p" }
    backups: { provider: s3, bucket: backups-a, prefix: pg/, region: us-west-2, endpoint: "${s3.endpoint()}", max_age: 6h }
  orders-db:
    rto: 15m
    rpo: 1m
    database: { provider: postgres, primary: "postgres://127.0.0.1:1/p", replica: "postgres://127.0.0.1:2/p" }
    backups: { provider: s3, bucket: missing-bucket, prefix: pg/, region: us-west-2, endpoint: "${s3.endpoint()}", max_age: 6h }
`,
      `${makeTempDir()}/lifeboat.yml`,
    );
    const store = openStore(storeFileOf(config));
    const providersFor = (service: (typeof config.services)[string] | null) => ({
      database: null,
      dns: null,
      backups: createS3BackupStore(service!.backups!, { client, retry: { attempts: 1 } }),
    });
    const now = await storeNow(client, 'backups-a');
    const results = await checkBackups(config, store, providersFor, now);
    expect(results.map((r) => [r.service, r.ok])).toEqual([
      ['payments-db', true],
      ['orders-db', false],
    ]);
    expect(results[0]!.summary).toMatch(
      /^newest pg\/2026-11-24\.dump: 5000 bytes, \d+s old \(max 6h\)$/,
    );
    expect(results[1]!.summary).toMatch(/^s3:\/\/missing-bucket\/pg\/: NoSuchBucket/);

    await checkBackups(
      config,
      store,
      providersFor,
      new Date(now.getTime() + 7 * 3600_000),
      'payments-db',
    );
    const latest = await latestResults(store, 'backups', ['orders-db', 'payments-db', 'ledger-db']);
    expect(latest.map((r) => [r.service, r.ok])).toEqual([
      ['orders-db', false],
      ['payments-db', false],
    ]);
    expect(latest[1]!.summary).toContain('older than max_age 6h');
    await store.close();
  });
});
