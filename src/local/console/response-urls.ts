// Slack's response_url, as the console plays it: one URL per command or click, good for 30 minutes
// and 5 uses; an answer posted to it reaches the person who gave the command.

export interface ResponseTarget {
  user: string;
  /** The command typed, shown above an ephemeral answer. */
  command?: string;
}

interface Entry extends ResponseTarget {
  expiresAt: number;
  usesLeft: number;
}

const LIFETIME_MS = 30 * 60_000;
const USES = 5;

export class ResponseUrls {
  private readonly entries = new Map<string, Entry>();
  private seq = 0;

  /** `base()`: the console's URL, known once it listens. */
  constructor(
    private readonly base: () => string,
    private readonly now: () => number = Date.now,
  ) {}

  create(user: string, command?: string): string {
    const now = this.now();
    for (const [id, entry] of this.entries) if (entry.expiresAt < now) this.entries.delete(id);
    const id = String(++this.seq);
    this.entries.set(id, {
      user,
      ...(command ? { command } : {}),
      expiresAt: now + LIFETIME_MS,
      usesLeft: USES,
    });
    return `${this.base()}/response/${id}`;
  }

  /** Spends one use of the URL with this id; null when it is unknown, expired or used up. */
  use(id: string): ResponseTarget | null {
    const entry = this.entries.get(id);
    if (!entry || entry.expiresAt < this.now() || entry.usesLeft <= 0) return null;
    entry.usesLeft -= 1;
    return { user: entry.user, ...(entry.command ? { command: entry.command } : {}) };
  }
}
