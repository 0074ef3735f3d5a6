import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe('LEAD_RETENTION_DAYS', () => {
  it('is unset (keep leads for ever) by default and when empty', () => {
    expect(loadConfig({}).ops.leadRetentionDays).toBeUndefined();
    expect(loadConfig({ LEAD_RETENTION_DAYS: '' }).ops.leadRetentionDays).toBeUndefined();
  });

  it('takes a whole number of days', () => {
    expect(loadConfig({ LEAD_RETENTION_DAYS: '365' }).ops.leadRetentionDays).toBe(365);
  });

  it.each([
    ['0', 'LEAD_RETENTION_DAYS must be at least 1'],
    ['-3', 'LEAD_RETENTION_DAYS must be at least 1'],
    ['1.5', 'LEAD_RETENTION_DAYS must be a whole number of days'],
    ['a year', 'LEAD_RETENTION_DAYS must be a whole number of days'],
    ['99999', 'LEAD_RETENTION_DAYS must be at most 36500'],
  ])('refuses %s, naming the variable', (value, message) => {
    expect(problemsOf({ LEAD_RETENTION_DAYS: value }).join('\n')).toContain(message);
  });
});
