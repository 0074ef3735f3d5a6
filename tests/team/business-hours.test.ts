import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { businessDeadline, parseBusinessHours } from '../../src/team/business-hours.js';

const weekdays = parseBusinessHours('mon-fri 09:00-18:00');
const at = (iso: string) => new Date(iso);

describe('business-hours SLA clock', () => {
  it('parses day ranges, single days and several groups', () => {
    expect(parseBusinessHours('mon-fri 09:00-18:00, sat 10:00-14:00')).toEqual({
      mon: { open: 540, close: 1080 },
      tue: { open: 540, close: 1080 },
      wed: { open: 540, close: 1080 },
      thu: { open: 540, close: 1080 },
      fri: { open: 540, close: 1080 },
      sat: { open: 600, close: 840 },
    });
    expect(parseBusinessHours('fri-mon 08:00-24:00').sun).toEqual({ open: 480, close: 1440 });
    for (const bad of [
      'weekdays 9-5',
      'mon-fri 18:00-09:00',
      'mon 09:00-18:00, mon 10:00-11:00',
      'xyz 09:00-10:00',
    ]) {
      expect(() => parseBusinessHours(bad)).toThrow();
    }
  });

  it('refuses bad SLA_BUSINESS_HOURS and SLA_TIMEZONE at start, naming the variable', () => {
    expect(() => loadConfig({ SLA_BUSINESS_HOURS: 'always' })).toThrow(/SLA_BUSINESS_HOURS/);
    expect(() => loadConfig({ SLA_TIMEZONE: 'Mars/Olympus' })).toThrow(/SLA_TIMEZONE/);
    expect(() => loadConfig({ ASSIGNMENT_STRATEGY: 'random' })).toThrow(/ASSIGNMENT_STRATEGY/);
    expect(() => loadConfig({ DUPLICATE_WINDOW_DAYS: '-1' })).toThrow(/DUPLICATE_WINDOW_DAYS/);
  });

  it('without business hours the clock always runs (as before)', () => {
    expect(businessDeadline(at('2026-03-27T16:55:00Z'), 10, undefined, 'Europe/Berlin').toISOString()).toBe(
      '2026-03-27T17:05:00.000Z',
    );
  });

  it('a lead posted Friday 17:55 with a 10-minute SLA is due Monday 09:05, across the spring DST weekend', () => {
    // Berlin: Friday 27 March 2026 is CET (+01:00); clocks go forward on Sunday 29 March.
    const due = businessDeadline(at('2026-03-27T16:55:00Z'), 10, weekdays, 'Europe/Berlin');
    expect(due.toISOString()).toBe('2026-03-30T07:05:00.000Z'); // Monday 09:05 CEST (+02:00)
  });

  it('and across the autumn DST weekend', () => {
    // Berlin: Friday 23 October 2026 is CEST; clocks go back on Sunday 25 October.
    const due = businessDeadline(at('2026-10-23T15:55:00Z'), 10, weekdays, 'Europe/Berlin');
    expect(due.toISOString()).toBe('2026-10-26T08:05:00.000Z'); // Monday 09:05 CET (+01:00)
    // New York changes on 8 March 2026: Friday 6 March EST, Monday 9 March EDT.
    const ny = businessDeadline(at('2026-03-06T22:30:00Z'), 60, weekdays, 'America/New_York');
    expect(ny.toISOString()).toBe('2026-03-09T13:30:00.000Z'); // 30 min Friday + 30 min Monday
  });

  it('counts inside the day, waits for opening, and skips closed days', () => {
    expect(businessDeadline(at('2026-03-25T10:00:00Z'), 30, weekdays, 'UTC').toISOString()).toBe(
      '2026-03-25T10:30:00.000Z',
    );
    expect(businessDeadline(at('2026-03-25T05:00:00Z'), 30, weekdays, 'UTC').toISOString()).toBe(
      '2026-03-25T09:30:00.000Z',
    );
    expect(businessDeadline(at('2026-03-28T12:00:00Z'), 5, weekdays, 'UTC').toISOString()).toBe(
      '2026-03-30T09:05:00.000Z',
    );
    // Two full business days and a bit.
    expect(
      businessDeadline(at('2026-03-26T17:00:00Z'), 60 + 9 * 60 + 15, weekdays, 'UTC').toISOString(),
    ).toBe('2026-03-30T09:15:00.000Z');
  });
});
