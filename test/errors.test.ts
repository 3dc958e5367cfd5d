import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  ErrorCode,
  GateRefused,
  LifeboatError,
  NotFound,
  ProviderError,
  RunbookError,
  StoreError,
  UsageError,
  closestNames,
} from '../src/errors.js';

describe('the error catalogue', () => {
  it('gives every error class its own code from ErrorCode', () => {
    const errors: LifeboatError[] = [
      new RunbookError('runbooks/a.md', 3, 'x'),
      new ConfigError('services.a.rpo', 'x'),
      new GateRefused('two-person', 'x'),
      new StoreError('lifeboat.db', 'x'),
      new UsageError('x'),
      new NotFound('x'),
      new ProviderError('postgres replica 127.0.0.1:5433', 'x', true),
    ];
    const codes = errors.map((error) => error.code);
    expect(new Set(codes).size).toBe(errors.length);
    for (const code of codes) expect(Object.values(ErrorCode)).toContain(code);
    for (const error of errors) expect(error).toBeInstanceOf(LifeboatError);
  });

  it('names file and line in a runbook error', () => {
    expect(new RunbookError('runbooks/failover.md', 14, 'unknown action').message).toBe(
      'runbooks/failover.md:14: unknown action',
    );
  });

  it('names the key path in a config error', () => {
    const error = new ConfigError(
      'services.payments-db.rpo',
      '"soon" is not a duration',
      'lifeboat.yml',
    );
    expect(error.message).toBe('lifeboat.yml: services.payments-db.rpo: "soon" is not a duration');
  });

  it('suggests the closest known names for a typo', () => {
    expect(closestNames('db.promot', ['db.promote', 'dns.switch', 'wait'])).toEqual(['db.promote']);
    expect(closestNames('zzzzzz', ['db.promote', 'dns.switch'])).toEqual([]);
  });
});
