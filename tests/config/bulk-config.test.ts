import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';

/** The bulk-action settings (docs/bulk-actions.md): defaults, and bad values refused by name. */
describe('bulk action config', () => {
  it('defaults to batches of 500, 5 attempts and a 7-day undo window', () => {
    expect(loadConfig({}).bulk).toEqual({ batchSize: 500, batchAttempts: 5, undoExpiryDays: 7 });
    expect(loadConfig({ BULK_BATCH_SIZE: '50', UNDO_EXPIRY_DAYS: '30' }).bulk).toMatchObject({
      batchSize: 50,
      undoExpiryDays: 30,
    });
  });

  it.each([
    [{ BULK_BATCH_SIZE: '0' }, 'BULK_BATCH_SIZE must be at least 1'],
    [{ BULK_BATCH_SIZE: 'many' }, 'BULK_BATCH_SIZE must be a whole number'],
    [{ BULK_BATCH_SIZE: '100000' }, 'BULK_BATCH_SIZE must be at most 5000'],
    [{ BULK_BATCH_ATTEMPTS: '0' }, 'BULK_BATCH_ATTEMPTS must be at least 1'],
    [{ UNDO_EXPIRY_DAYS: '-1' }, 'UNDO_EXPIRY_DAYS must be at least 1'],
    [{ UNDO_EXPIRY_DAYS: '7.5' }, 'UNDO_EXPIRY_DAYS must be a whole number'],
  ])('refuses %o naming the variable', (env, expected) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(expected);
  });
});
