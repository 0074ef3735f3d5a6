/**
 * How a refresh folds fresh leads into the list already on screen, without asking for
 * more than one page at a time (the API caps a page at 200; the list may hold more).
 *
 * The list is ordered newest first by (createdAt, id), like the API's keyset pages. A
 * refresh fetches the first page(s) again: they are the truth for the newest part of
 * the list, down to the oldest lead they contain. Everything loaded below that point
 * stays as it was (with its "Load more" cursor), so new leads appear at the top,
 * changed ones are replaced in place, and ones that stopped matching the filters in
 * the refreshed range disappear. No DOM, no fetch: plain data in, plain data out.
 */
export interface Keyed {
  id: string;
  createdAt: string;
}

/** Newest first: negative when a sorts before b. */
export function compareNewestFirst(a: Keyed, b: Keyed): number {
  const byTime = Date.parse(b.createdAt) - Date.parse(a.createdAt);
  if (byTime !== 0 && !Number.isNaN(byTime)) return byTime;
  // Same millisecond: the timestamps carry microseconds, and the ids break ties.
  if (a.createdAt !== b.createdAt) return a.createdAt < b.createdAt ? 1 : -1;
  return a.id === b.id ? 0 : a.id < b.id ? 1 : -1;
}

export interface LoadedList<T extends Keyed> {
  items: T[];
  /** Cursor of the page after the last loaded item; null when everything is loaded. */
  nextCursor: string | null;
}

/**
 * True when the fresh pages may not reach down to what is loaded: every fresh lead is
 * newer than the newest loaded one and the API has more. Fetch the next page and ask
 * again (up to a bound; past it, replace the list with the fresh pages).
 */
export function hasGap<T extends Keyed>(loaded: T[], fresh: LoadedList<T>): boolean {
  const newestLoaded = loaded[0];
  const oldestFresh = fresh.items.at(-1);
  if (!newestLoaded || !oldestFresh || fresh.nextCursor === null) return false;
  return compareNewestFirst(oldestFresh, newestLoaded) < 0;
}

export function mergeTop<T extends Keyed>(loaded: LoadedList<T>, fresh: LoadedList<T>): LoadedList<T> {
  const oldestFresh = fresh.items.at(-1);
  // The fresh pages reached the end: they are the whole list.
  if (!oldestFresh || fresh.nextCursor === null) return fresh;
  const freshIds = new Set(fresh.items.map((item) => item.id));
  const below = loaded.items.filter(
    (item) => !freshIds.has(item.id) && compareNewestFirst(item, oldestFresh) > 0,
  );
  // Nothing loaded below the fresh range: the fresh cursor is the way on.
  if (below.length === 0) return { items: fresh.items, nextCursor: fresh.nextCursor };
  return { items: [...fresh.items, ...below], nextCursor: loaded.nextCursor };
}

/** Appends a "Load more" page, skipping any lead already shown. */
export function appendPage<T extends Keyed>(loaded: LoadedList<T>, page: LoadedList<T>): LoadedList<T> {
  const ids = new Set(loaded.items.map((item) => item.id));
  return {
    items: [...loaded.items, ...page.items.filter((item) => !ids.has(item.id))],
    nextCursor: page.nextCursor,
  };
}

/** Replaces leads fetched one by one (changed below the refreshed range) in place. */
export function replaceById<T extends Keyed>(items: T[], changed: T[]): T[] {
  if (changed.length === 0) return items;
  const byId = new Map(changed.map((item) => [item.id, item]));
  return items.map((item) => byId.get(item.id) ?? item);
}
