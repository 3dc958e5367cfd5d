// The one catalogue of errors a user can cause and fix. Adapters (CLI, Slack) turn these into a
// one-line reply; anything that is not a LifeboatError is a bug and is reported as one.

export const ErrorCode = {
  RunbookError: 'lifeboat_runbook_error',
  ConfigError: 'lifeboat_config_error',
  GateRefused: 'lifeboat_gate_refused',
  StoreError: 'lifeboat_store_error',
  UsageError: 'lifeboat_usage_error',
  NotFound: 'lifeboat_not_found',
  ProviderError: 'lifeboat_provider_error',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** A mistake the user can act on. `message` is the whole sentence shown to them. */
export abstract class LifeboatError extends Error {
  abstract readonly code: ErrorCode;
}

/** A runbook that cannot be parsed: names the file and line. */
export class RunbookError extends LifeboatError {
  readonly code = ErrorCode.RunbookError;
  constructor(
    readonly file: string,
    readonly line: number,
    readonly reason: string,
  ) {
    super(`${file}:${line}: ${reason}`);
    this.name = 'RunbookError';
  }
}

/** A configuration value that is missing or wrong: names the key path, the value, the expectation. */
export class ConfigError extends LifeboatError {
  readonly code = ErrorCode.ConfigError;
  constructor(
    readonly keyPath: string,
    readonly reason: string,
    readonly file?: string,
  ) {
    super(`${file ? `${file}: ` : ''}${keyPath ? `${keyPath}: ` : ''}${reason}`);
    this.name = 'ConfigError';
  }
}

/** A gate said no (self-approval, not an approver, expired, lag over RPO, ...). */
export class GateRefused extends LifeboatError {
  readonly code = ErrorCode.GateRefused;
  constructor(
    readonly gate: string,
    readonly reason: string,
  ) {
    super(reason);
    this.name = 'GateRefused';
  }
}

/** The store cannot be used as it is (written by a newer lifeboat, not a lifeboat database, ...). */
export class StoreError extends LifeboatError {
  readonly code = ErrorCode.StoreError;
  constructor(
    readonly file: string,
    readonly reason: string,
  ) {
    super(`${file}: ${reason}`);
    this.name = 'StoreError';
  }
}

/** A command given wrong arguments. */
export class UsageError extends LifeboatError {
  readonly code = ErrorCode.UsageError;
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Something the user named does not exist; the message lists what does. */
export class NotFound extends LifeboatError {
  readonly code = ErrorCode.NotFound;
  constructor(message: string) {
    super(message);
    this.name = 'NotFound';
  }
}

/**
 * An external system (PostgreSQL, AWS) failed or refused. Wrapped once, at the provider edge, with
 * the resource named. `permanent` errors (access denied, wrong state) are not retried; the step
 * stops and the run stays resumable.
 */
export class ProviderError extends LifeboatError {
  readonly code = ErrorCode.ProviderError;
  /** Facts recorded with the failed step for the report (a command's output), beside the message. */
  readonly details: Record<string, unknown>;
  constructor(
    readonly resource: string,
    readonly reason: string,
    readonly permanent: boolean,
    options?: { cause?: unknown; details?: Record<string, unknown> },
  ) {
    super(`${resource}: ${reason}`, options);
    this.name = 'ProviderError';
    this.details = options?.details ?? {};
  }
}

/** A backup's bytes do not hash to what its store recorded: the backup is corrupt. */
export class ChecksumMismatch extends ProviderError {
  constructor(resource: string, reason: string) {
    super(resource, `checksum mismatch: ${reason}`, true);
    this.name = 'ChecksumMismatch';
  }
}

export function isLifeboatError(error: unknown): error is LifeboatError {
  return error instanceof LifeboatError;
}

/** "did you mean" helper: the known names closest to `name`, best first. */
export function closestNames(name: string, known: readonly string[], max = 3): string[] {
  return known
    .map((candidate) => ({ candidate, distance: editDistance(name, candidate) }))
    .filter(({ distance, candidate }) => distance <= Math.max(2, Math.floor(candidate.length / 3)))
    .sort((a, b) => a.distance - b.distance)
    .slice(0, max)
    .map(({ candidate }) => candidate);
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current[j] = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution);
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

/**
 * A value shown in an error, without the secret it may carry: the password of a URL
 * (`postgres://app:s3cret@db/x` → `postgres://app:***@db/x`), also when the URL does not parse.
 */
export function redact(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  const at = value.lastIndexOf('@');
  if (at < 0) return value;
  const head = value.slice(0, at);
  const userStart = head.lastIndexOf('/') + 1;
  const colon = head.indexOf(':', userStart);
  // user:password@ → user:***@; anything else before the @ may be a secret: hide it all.
  return colon >= 0
    ? `${head.slice(0, colon)}:***${value.slice(at)}`
    : `${head.slice(0, userStart)}***${value.slice(at)}`;
}
