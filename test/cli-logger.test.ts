// The CLI's logger: an engine failure the CLI would otherwise never show is one readable line on
// stderr, and counts, so the command exits 1.

import { describe, expect, it } from 'vitest';
import { createCliLogger } from '../src/cli/logger.js';

describe('the CLI logger', () => {
  it('prints errors and warnings as lines, counts errors, and keeps info quiet by default', () => {
    const err: string[] = [];
    const { logger, errors } = createCliLogger({
      out: () => undefined,
      err: (text) => err.push(text),
    });
    logger.info({ run: 'r-1' }, 'step started');
    expect(err).toEqual([]);
    expect(errors()).toBe(0);
    logger.warn('slow answer from Slack');
    logger.error({ err: new Error('database is locked'), run: 'r-1' }, 'run walker failed');
    expect(err).toEqual([
      'lifeboat: slow answer from Slack',
      'lifeboat: error: run walker failed: database is locked',
    ]);
    expect(errors()).toBe(1);
  });

  it('LOG_LEVEL=info shows the rest', () => {
    const err: string[] = [];
    const { logger } = createCliLogger(
      { out: () => undefined, err: (text) => err.push(text) },
      'info',
    );
    logger.info('step started');
    expect(err).toEqual(['lifeboat: step started']);
  });

  it('LOG_LEVEL=silent prints nothing, yet an error still counts toward the exit code', () => {
    const err: string[] = [];
    const { logger, errors } = createCliLogger(
      { out: () => undefined, err: (text) => err.push(text) },
      'silent',
    );
    logger.error(new Error('disk full'), 'could not record the step');
    expect(err).toEqual([]);
    expect(errors()).toBe(1);
    const shown: string[] = [];
    createCliLogger({ out: () => undefined, err: (text) => shown.push(text) }).logger.error(
      new Error('disk full'),
      'could not record the step',
    );
    expect(shown).toEqual(['lifeboat: error: could not record the step: disk full']);
  });
});
