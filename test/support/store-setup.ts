// vitest globalSetup: with LIFEBOAT_TEST_STORE=postgres, one throwaway PostgreSQL server for the
// whole run, whose URL the tests' engines get (each in a schema of its own); otherwise nothing.
// `npm test` runs the suite once on SQLite and the files that touch the store again on it.

import type { TestProject } from 'vitest/node';
import { startThrowawayServer } from '../../src/providers/postgres/servers.js';

declare module 'vitest' {
  export interface ProvidedContext {
    storeUrl: string | null;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  if (process.env.LIFEBOAT_TEST_STORE !== 'postgres') {
    project.provide('storeUrl', null);
    return () => Promise.resolve();
  }
  const server = await startThrowawayServer();
  project.provide('storeUrl', server.server.url);
  return () => server.stop();
}
