import { getLead, listLeads, MAX_PAGE_SIZE, PAGE_SIZE } from '../api/admin.js';
import { type ApiClient, errorText } from '../api/client.js';
import type { Lead, LeadFilters } from '../api/types.js';
import { appendPage, hasGap, type LoadedList, mergeTop, replaceById } from './merge-leads.js';
import { createStore } from './store.js';

/**
 * The leads list: what is loaded, under which filters, and the last error. Loading
 * follows the filters in the URL; refresh() (live or polling) re-reads only the top of
 * the list and merges it (merge-leads.ts), so it never asks for more than a page.
 */
export interface LeadsState extends LoadedList<Lead> {
  filters: LeadFilters;
  /** JSON of the filters the items belong to; null before the first load. */
  loadedFor: string | null;
  loading: boolean;
  loadingMore: boolean;
  error: string | null;
}

/** A refresh reads at most this many pages from the top before giving up on merging. */
const MAX_TOP_PAGES = 4;
/** Leads changed below the refreshed range are re-read one by one, at most this many per refresh. */
const MAX_SINGLE_REFRESH = 10;

export function filtersFromParams(params: Record<string, string>): LeadFilters {
  const filters: LeadFilters = {};
  if (params.status) filters.status = params.status as LeadFilters['status'];
  if (params.q) filters.q = params.q;
  if (params.assignedTo) filters.assignedTo = params.assignedTo;
  if (params.sla_breached === 'true' || params.sla_breached === 'false') {
    filters.sla_breached = params.sla_breached;
  }
  return filters;
}

export function createLeadsState(api: ApiClient) {
  const store = createStore<LeadsState>({
    items: [],
    nextCursor: null,
    filters: {},
    loadedFor: null,
    loading: false,
    loadingMore: false,
    error: null,
  });
  let generation = 0;

  async function load(filters: LeadFilters): Promise<void> {
    const key = JSON.stringify(filters);
    const mine = ++generation;
    store.set((s) => ({ ...s, filters, loading: true, error: null }));
    try {
      const page = await listLeads(api, filters);
      if (mine !== generation) return;
      store.set((s) => ({ ...s, ...page, loadedFor: key, loading: false }));
    } catch (error) {
      if (mine !== generation) return;
      store.set((s) => ({ ...s, loading: false, error: `Could not load leads: ${errorText(error)}` }));
    }
  }

  async function loadMore(): Promise<void> {
    const state = store.get();
    if (!state.nextCursor || state.loadingMore) return;
    const mine = generation;
    store.set((s) => ({ ...s, loadingMore: true, error: null }));
    try {
      const page = await listLeads(api, state.filters, state.nextCursor);
      if (mine !== generation) return;
      store.set((s) => ({ ...s, ...appendPage(s, page), loadingMore: false }));
    } catch (error) {
      if (mine !== generation) return;
      store.set((s) => ({
        ...s,
        loadingMore: false,
        error: `Could not load more leads: ${errorText(error)}`,
      }));
    }
  }

  /** Re-reads the top of the list (and the given changed leads); throws when the API fails. */
  async function refresh(changedIds: Iterable<string> = []): Promise<void> {
    const state = store.get();
    if (state.loadedFor === null) return load(state.filters);
    const mine = generation;
    let fresh = await listLeads(api, state.filters, null, PAGE_SIZE);
    for (let pages = 1; hasGap(state.items, fresh) && pages < MAX_TOP_PAGES; pages++) {
      const next = await listLeads(api, state.filters, fresh.nextCursor, MAX_PAGE_SIZE);
      fresh = appendPage(fresh, next);
    }
    const gap = hasGap(state.items, fresh);
    const freshIds = new Set(fresh.items.map((lead) => lead.id));
    const loadedIds = new Set(state.items.map((lead) => lead.id));
    const singles = [...new Set(changedIds)]
      .filter((id) => loadedIds.has(id) && !freshIds.has(id))
      .slice(0, MAX_SINGLE_REFRESH);
    const changed = await Promise.all(
      singles.map((id) =>
        getLead(api, id).then(
          (detail) => detail.lead,
          () => null,
        ),
      ),
    );
    if (mine !== generation) return;
    store.set((s) => {
      // Too many new leads to merge: start again from the fresh pages.
      const merged = gap ? fresh : mergeTop(s, fresh);
      const items = replaceById(
        merged.items,
        changed.filter((lead): lead is Lead => lead !== null),
      );
      return { ...s, items, nextCursor: merged.nextCursor, error: null };
    });
  }

  return { store, load, loadMore, refresh };
}

export type LeadsModel = ReturnType<typeof createLeadsState>;
