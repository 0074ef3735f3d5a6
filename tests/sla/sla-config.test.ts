import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';

describe('SLA configuration', () => {
  it('defaults to a 5-minute first response and a one-minute sweep', () => {
    const config = loadConfig({});
    expect(config.leads.slaFirstResponseMinutes).toBe(5);
    expect(config.leads.slaSweepIntervalMs).toBe(60_000);
  });

  it('refuses a sweep interval that is not a whole number of ms between 1 s and 1 h', () => {
    for (const value of ['abc', '10', '3600001', '1.5']) {
      expect(() => loadConfig({ SLA_SWEEP_INTERVAL_MS: value })).toThrow(ConfigError);
    }
    expect(() => loadConfig({ SLA_SWEEP_INTERVAL_MS: 'abc' })).toThrow(/SLA_SWEEP_INTERVAL_MS/);
    expect(loadConfig({ SLA_SWEEP_INTERVAL_MS: '15000' }).leads.slaSweepIntervalMs).toBe(15_000);
  });
});
