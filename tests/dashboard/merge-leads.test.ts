import { describe, expect, it } from 'vitest';
import { appendPage, hasGap, mergeTop, replaceById } from '../../src/dashboard/client/state/merge-leads.js';

/**
 * How a live refresh folds the top page into a list longer than any page the API
 * allows (the old dashboard asked for limit = everything loaded, got 400 past 200
 * and froze). Leads here are newest first; `at(n)` is n minutes after a fixed start.
 */
const at = (minute: number) => new Date(Date.UTC(2026, 10, 20, 12, minute)).toISOString();
const lead = (id: string, minute: number, status = 'new') => ({ id, createdAt: at(minute), status });

describe('merging a refreshed top page into the loaded list', () => {
  const loaded = {
    items: [lead('e', 50), lead('d', 40), lead('c', 30), lead('b', 20), lead('a', 10)],
    nextCursor: 'after-a',
  };

  it('puts new leads on top, replaces changed ones, keeps everything below the page and its cursor', () => {
    const fresh = {
      items: [lead('g', 70), lead('f', 60), lead('e', 50, 'contacted')],
      nextCursor: 'after-e',
    };
    expect(hasGap(loaded.items, fresh)).toBe(false);
    const merged = mergeTop(loaded, fresh);
    expect(merged.items.map((l) => l.id)).toEqual(['g', 'f', 'e', 'd', 'c', 'b', 'a']);
    expect(merged.items[2]?.status).toBe('contacted');
    expect(merged.nextCursor).toBe('after-a');
  });

  it('drops loaded leads inside the refreshed range that no longer match the filters', () => {
    const fresh = { items: [lead('e', 50), lead('c', 30)], nextCursor: 'after-c' };
    expect(mergeTop(loaded, fresh).items.map((l) => l.id)).toEqual(['e', 'c', 'b', 'a']);
  });

  it('sees a gap when every fresh lead is newer than the loaded ones and the API has more', () => {
    const fresh = { items: [lead('z', 90), lead('y', 80)], nextCursor: 'after-y' };
    expect(hasGap(loaded.items, fresh)).toBe(true);
    const filled = appendPage(fresh, { items: [lead('x', 70), lead('e', 50)], nextCursor: 'after-e' });
    expect(hasGap(loaded.items, filled)).toBe(false);
    expect(mergeTop(loaded, filled).items.map((l) => l.id)).toEqual(['z', 'y', 'x', 'e', 'd', 'c', 'b', 'a']);
  });

  it('takes the fresh pages as the whole list when they reach the end', () => {
    const fresh = { items: [lead('f', 60), lead('e', 50)], nextCursor: null };
    expect(mergeTop(loaded, fresh)).toEqual(fresh);
  });

  it('orders leads created in the same millisecond by their microseconds, then by id', () => {
    const base = { items: [{ id: 'b', createdAt: '2026-11-20T12:00:00.000200+00:00' }], nextCursor: 'x' };
    const fresh = {
      items: [
        { id: 'c', createdAt: '2026-11-20T12:00:00.000300+00:00' },
        { id: 'a', createdAt: '2026-11-20T12:00:00.000300+00:00' },
      ],
      nextCursor: 'y',
    };
    expect(hasGap(base.items, fresh)).toBe(true);
    expect(mergeTop(base, fresh).items.map((l) => l.id)).toEqual(['c', 'a', 'b']);
  });

  it('appends "Load more" pages without repeating a lead, and replaces single re-read leads in place', () => {
    const more = appendPage(loaded, { items: [lead('a', 10), lead('0', 5)], nextCursor: null });
    expect(more.items.map((l) => l.id)).toEqual(['e', 'd', 'c', 'b', 'a', '0']);
    expect(more.nextCursor).toBeNull();
    const replaced = replaceById(loaded.items, [lead('b', 20, 'won')]);
    expect(replaced.map((l) => l.status)).toEqual(['new', 'new', 'new', 'won', 'new']);
  });
});
