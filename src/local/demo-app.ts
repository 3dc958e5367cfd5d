// Local mode's "application": it writes a payment every half second to whichever database of the
// pair accepts writes — the primary while it lives, the standby once it has been promoted — and
// answers a health check that is green only while writes succeed. So a disaster is an outage you
// can watch, and a failover visibly brings the writes back.

import pg from 'pg';
import type { PostgresPair } from '../providers/postgres/servers.js';

export interface DemoAppState {
  /** Where the last write went, or null while no database accepts writes. */
  writingTo: 'primary' | 'standby' | null;
  rowsWritten: number;
  lastWriteAt: Date | null;
  lastError: string | null;
}

export class DemoApp {
  private timer: NodeJS.Timeout | null = null;
  /** The write under way, if any: one at a time, and stop() waits for it. */
  private writing: Promise<void> | null = null;
  private readonly clients = new Map<string, pg.Client>();
  private state: DemoAppState = {
    writingTo: null,
    rowsWritten: 0,
    lastWriteAt: null,
    lastError: null,
  };

  constructor(
    private readonly pair: () => PostgresPair,
    private readonly onChange: () => void,
    private readonly intervalMs = 500,
    /** True while the app cannot reach the primary's host (the partition scenario). */
    private readonly isPartitioned: () => boolean = () => false,
  ) {}

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.tick(), this.intervalMs);
    void this.tick();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.writing;
    await Promise.allSettled([...this.clients.values()].map((client) => client.end()));
    this.clients.clear();
  }

  snapshot(): DemoAppState {
    return { ...this.state };
  }

  /** Healthy while the last write is less than 3 s old. */
  healthy(now = Date.now()): boolean {
    return this.state.lastWriteAt !== null && now - this.state.lastWriteAt.getTime() < 3000;
  }

  private tick(): Promise<void> {
    this.writing ??= this.writeOnce().finally(() => (this.writing = null));
    return this.writing;
  }

  private async writeOnce(): Promise<void> {
    const pair = this.pair();
    const errors: string[] = [];
    let wrote: 'primary' | 'standby' | null = null;
    for (const role of ['primary', 'standby'] as const) {
      if (role === 'primary' && this.isPartitioned()) {
        errors.push('primary is unreachable from the app (partition)');
        await this.drop(pair.primary.url);
        continue;
      }
      try {
        await this.write(pair[role].url);
        wrote = role;
        break;
      } catch (error) {
        errors.push(`${role} ${brief(error as Error)}`);
        await this.drop(pair[role].url);
      }
    }
    if (wrote) {
      this.state = {
        writingTo: wrote,
        rowsWritten: this.state.rowsWritten + 1,
        lastWriteAt: new Date(),
        lastError: null,
      };
    } else {
      this.state = { ...this.state, writingTo: null, lastError: errors.join('; ') };
    }
    this.onChange();
  }

  private async write(url: string): Promise<void> {
    let client = this.clients.get(url);
    if (!client) {
      client = new pg.Client({
        connectionString: url,
        connectionTimeoutMillis: 1000,
        statement_timeout: 2000,
        application_name: 'lifeboat-demo-app',
      });
      client.on('error', () => undefined); // the server was killed: the next write reconnects
      this.clients.set(url, client);
      await client.connect();
    }
    await client.query('INSERT INTO payments (amount) VALUES ($1)', [
      1 + Math.floor(Math.random() * 500),
    ]);
  }

  private async drop(url: string): Promise<void> {
    const client = this.clients.get(url);
    this.clients.delete(url);
    await client?.end().catch(() => undefined);
  }
}

/** "refuses connections", "is read-only": what the panel says about a failed write. */
function brief(error: Error): string {
  const message = error.message;
  if (/read-only/.test(message)) return 'is read-only';
  if (/ECONNREFUSED|not queryable|terminat|connection/i.test(message)) return 'is unreachable';
  if (/timeout/i.test(message)) return 'does not answer';
  return `failed: ${message}`;
}
