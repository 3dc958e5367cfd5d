// Opens the store the config names: the SQLite file, or the PostgreSQL database (its driver
// loaded only then). Inspecting reads the schema version and never creates or migrates anything.

import type { StoreLocation } from '../config.js';
import { inspectStore, openStore, type Store } from './db.js';

export interface OpenOptions {
  clock?: () => Date;
  /** `lifeboat check config`: read what is there; null when a SQLite store does not exist yet. */
  inspectOnly?: boolean;
}

export async function openStoreAt(
  location: StoreLocation,
  options?: { clock?: () => Date },
): Promise<Store>;
export async function openStoreAt(
  location: StoreLocation,
  options: OpenOptions & { inspectOnly: true },
): Promise<Store | null>;
export async function openStoreAt(
  location: StoreLocation,
  options: OpenOptions = {},
): Promise<Store | null> {
  if (location.kind === 'sqlite')
    return options.inspectOnly
      ? inspectStore(location.file)
      : openStore(location.file, { clock: options.clock });
  const { openPostgresStore } = await import('./postgres.js');
  return openPostgresStore(location, { ...options, label: describeStore(location) });
}

/** Where the store is, for messages: the file, or the URL without its password. */
export function describeStore(location: StoreLocation): string {
  if (location.kind === 'sqlite') return location.file;
  return location.url.replace(/^([a-z]+:\/\/[^:/@]+):[^@]*@/i, '$1:***@');
}
