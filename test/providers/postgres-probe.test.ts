// Probes of databases that hang instead of refusing: a status look gives up within the service's
// probe_timeout and says so; a decision's probe of a server that froze mid-conversation reports it
// unreachable instead of waiting forever (statement_timeout is the frozen server's to enforce).

import { readdirSync, readFileSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createPostgresProvider } from '../../src/providers/postgres/index.js';
import { startThrowawayServer } from '../../src/providers/postgres/servers.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A port that accepts connections and never says a word: a host whose database hangs. */
async function hungServer(sockets: Socket[] = []): Promise<string> {
  const server = createServer((socket) => void sockets.push(socket));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
  });
  return `postgres://lifeboat@127.0.0.1:${(server.address() as { port: number }).port}/app`;
}

/** The server's processes stopped (SIGSTOP) or let go on (SIGCONT): a host that froze. */
function signalServer(dataDir: string, signal: 'SIGSTOP' | 'SIGCONT'): void {
  const postmaster = Number(
    readFileSync(path.join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0],
  );
  const children = readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .filter((pid) => {
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === postmaster;
      } catch {
        return false;
      }
    })
    .map(Number);
  for (const pid of [postmaster, ...children]) process.kill(pid, signal);
}

describe('probing a database that hangs', () => {
  it('gives a status look up after the probe budget, and says so', async () => {
    const db = createPostgresProvider(
      { primary: await hungServer(), replica: await hungServer() },
      { promote: 'replica', probeBudgetMs: 300 },
    );
    const [primary, replica] = await Promise.all([
      db.probe('primary', 'status'),
      db.probe('replica', 'status'),
    ]);
    expect(primary).toMatchObject({ role: 'unreachable' });
    expect(primary.detail).toMatch(
      /^primary 127\.0\.0\.1:\d+ does not answer: no answer within 0\.3 s$/,
    );
    expect(replica.detail).toMatch(/does not answer: no answer within 0\.3 s$/);
  });

  it('asks a hung server once for a burst of status looks, and never shares a decision', async () => {
    const primarySockets: Socket[] = [];
    const replicaSockets: Socket[] = [];
    const db = createPostgresProvider(
      { primary: await hungServer(primarySockets), replica: await hungServer(replicaSockets) },
      { promote: 'replica', probeBudgetMs: 300 },
    );
    // Twenty people look at the primary at once (/dr status, App Home), while a gate decides on
    // the replica and one more look at the replica goes beside it.
    const [looks, decision] = await Promise.all([
      Promise.all(Array.from({ length: 20 }, () => db.probe('primary', 'status'))),
      db.probe('replica'),
      db.probe('replica', 'status'),
    ]);
    for (const look of looks)
      expect(look.detail).toMatch(
        /^primary 127\.0\.0\.1:\d+ does not answer: no answer within 0\.3 s$/,
      );
    expect(primarySockets).toHaveLength(1);
    // The decision waits its own, longer timeout on its own connection; the status look beside
    // it has one more.
    expect(decision.detail).toMatch(/does not answer: cannot connect: .*connection timeout$/);
    expect(replicaSockets).toHaveLength(2);
    // A look after the burst asks anew: only a probe in flight is shared, never a finished one.
    expect(await db.probe('primary', 'status')).toMatchObject({ role: 'unreachable' });
    expect(primarySockets).toHaveLength(2);
  }, 15_000);

  it('reports a server that froze after answering as unreachable, instead of waiting on it', async () => {
    const server = await startThrowawayServer();
    let frozen = false;
    cleanups.push(async () => {
      if (frozen) signalServer(server.server.dataDir, 'SIGCONT');
      await server.stop();
    });
    const db = createPostgresProvider(
      { primary: server.server.url, replica: await hungServer() },
      { promote: 'replica' },
    );
    // The first probe leaves a pooled connection; the server then stops answering on it.
    expect(await db.probe('primary')).toMatchObject({ role: 'writable' });
    signalServer(server.server.dataDir, 'SIGSTOP');
    frozen = true;
    const probe = await db.probe('primary');
    expect(probe.role).toBe('unreachable');
    expect(probe.detail).toMatch(/^primary 127\.0\.0\.1:\d+ does not answer: /);
  });
});
