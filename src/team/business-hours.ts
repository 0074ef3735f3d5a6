import { instantOf, nextDay, WEEKDAYS, type Weekday, wallClock } from './time-zones.js';

/**
 * SLA business hours (SLA_BUSINESS_HOURS, in SLA_TIMEZONE): the first-response clock
 * runs only inside them. `mon-fri 09:00-18:00`, or several groups separated by commas
 * (`mon-fri 09:00-18:00, sat 10:00-14:00`). A day has at most one window; 24:00 ends
 * a window at midnight.
 */
export interface DayWindow {
  /** Minutes after local midnight. */
  open: number;
  close: number;
}
export type BusinessHours = Partial<Record<Weekday, DayWindow>>;

const TIME = /^([01]\d|2[0-3]):([0-5]\d)$|^24:00$/;

export function minutesOfTime(text: string): number | null {
  if (!TIME.test(text)) return null;
  const [hours, minutes] = text.split(':').map(Number);
  return hours! * 60 + minutes!;
}

function dayIndex(name: string): number {
  const index = WEEKDAYS.indexOf(name.toLowerCase() as Weekday);
  if (index < 0) throw new Error(`"${name}" is not a weekday (use mon, tue, wed, thu, fri, sat, sun)`);
  return index;
}

/** Parses the SLA_BUSINESS_HOURS text; throws an Error saying what is wrong. */
export function parseBusinessHours(text: string): BusinessHours {
  const hours: BusinessHours = {};
  for (const group of text
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean)) {
    const match = /^([a-z]{3}(?:-[a-z]{3})?)\s+(\d\d:\d\d)-(\d\d:\d\d)$/i.exec(group);
    if (!match) throw new Error(`"${group}" must look like "mon-fri 09:00-18:00"`);
    const [, days, from, to] = match;
    const open = minutesOfTime(from!);
    const close = minutesOfTime(to!);
    if (open === null || close === null || open >= close) {
      throw new Error(`"${group}" needs a time range like 09:00-18:00 that ends after it starts`);
    }
    const [first, last = first] = days!.split('-');
    const start = dayIndex(first!);
    const end = dayIndex(last!);
    // mon-fri runs forward; fri-mon wraps over the weekend.
    for (let i = start; ; i = (i + 1) % 7) {
      const day = WEEKDAYS[i]!;
      if (hours[day]) throw new Error(`${day} appears twice`);
      hours[day] = { open, close };
      if (i === end) break;
    }
  }
  if (Object.keys(hours).length === 0) throw new Error('names no business hours');
  return hours;
}

const MAX_DAYS_AHEAD = 400;

/**
 * When a first response is due: `minutes` of business time after `start`. Without
 * business hours it is plain elapsed time. Each local day's window is turned into
 * instants with that day's offset, so a deadline that crosses a DST change is still
 * counted in business minutes (a Friday 17:55 lead with 10 minutes is due Monday 09:05
 * local time, whichever offset Monday has).
 */
export function businessDeadline(
  start: Date,
  minutes: number,
  hours: BusinessHours | undefined,
  timeZone: string,
): Date {
  let remaining = minutes * 60_000;
  if (!hours) return new Date(start.getTime() + remaining);
  let cursor = start.getTime();
  const wall = wallClock(cursor, timeZone);
  let date = { year: wall.year, month: wall.month, day: wall.day };
  let weekday = WEEKDAYS.indexOf(wall.weekday);
  for (let i = 0; i < MAX_DAYS_AHEAD; i++) {
    const window = hours[WEEKDAYS[weekday]!];
    if (window) {
      const open = instantOf(date, window.open, timeZone);
      const close = instantOf(date, window.close, timeZone);
      if (cursor < close) {
        const from = Math.max(cursor, open);
        if (remaining <= close - from) return new Date(from + remaining);
        remaining -= close - from;
      }
    }
    date = nextDay(date);
    weekday = (weekday + 1) % 7;
    cursor = Math.max(cursor, instantOf(date, 0, timeZone));
  }
  throw new Error('business hours leave no time within a year');
}
