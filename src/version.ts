// lifeboat's version, read once from its package.json (one folder up from src/, two from dist/src/).

import { readFileSync } from 'node:fs';

function readVersion(): string {
  for (const relative of ['../package.json', '../../package.json']) {
    try {
      const manifest = JSON.parse(readFileSync(new URL(relative, import.meta.url), 'utf8')) as {
        name?: string;
        version?: string;
      };
      if (manifest.name === 'lifeboat' && manifest.version) return manifest.version;
    } catch {
      continue;
    }
  }
  return 'unknown';
}

export const VERSION = readVersion();
