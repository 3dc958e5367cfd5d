// A DatabaseProvider that answers what the test tells it: a lag, a standby that becomes a primary
// when promoted, an old primary that does not answer. For the rules around the database, not
// PostgreSQL itself (the failover suites use a real pair).

import type { DatabaseProvider, LagMeasurement, NodeName } from '../../src/providers/types.js';

export interface FakeDatabase {
  provider: DatabaseProvider;
  lag: LagMeasurement;
  promotions: number;
}

export function fakeDatabase(lagSeconds: number | null): FakeDatabase {
  const fake: FakeDatabase = {
    lag: {
      lagSeconds,
      lagBytes: lagSeconds === null ? null : lagSeconds * 1000,
      source: 'replica',
      primaryReachable: false,
      targetIsReplica: true,
      bound: 'lower-bound',
      detail: 'fake',
    },
    promotions: 0,
    provider: undefined as unknown as DatabaseProvider,
  };
  const name = (node: NodeName) => (node === 'primary' ? 'primary fake:1' : 'replica fake:2');
  const unused = () => {
    throw new Error('not used by this test');
  };
  fake.provider = {
    target: 'replica',
    source: 'primary',
    targetName: name('replica'),
    sourceName: name('primary'),
    nameOf: name,
    probe: (node) =>
      Promise.resolve({
        node,
        name: name(node),
        role: node === 'primary' ? 'unreachable' : fake.promotions > 0 ? 'writable' : 'standby',
        streaming: false,
        streamingFrom: null,
        walLsn: null,
        detail: node === 'primary' ? 'does not answer' : 'in recovery',
      }),
    describeFence: () => 'fake fence',
    fenceDisabled: () => null,
    beforeFence: () => Promise.resolve({}),
    fence: unused,
    unfence: unused,
    waitForReplay: unused,
    replicaStatus: unused,
    rebuild: { mode: 'manual', instructions: () => 'by hand' },
    measureLag: () => Promise.resolve(fake.lag),
    preflight: () => Promise.resolve(),
    promote: () => {
      fake.promotions++;
      return Promise.resolve({ alreadyPrimary: false, detail: 'promoted (fake)' });
    },
    isTargetPrimary: () => Promise.resolve(fake.promotions > 0),
    verifyWritable: unused,
    targetEndpoint: () => Promise.resolve('fake'),
  };
  return fake;
}
