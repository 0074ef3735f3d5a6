import { getOverview, getStats } from '../api/admin.js';
import type { ApiClient } from '../api/client.js';
import type { Overview, Stats } from '../api/types.js';
import { createStore } from './store.js';

/**
 * The counters (every refresh: one cheap call) and the overview's pictures (one
 * heavier call over 14 days of leads: re-read at most every OVERVIEW_EVERY_MS, and only
 * while a view shows it).
 */
const OVERVIEW_EVERY_MS = 15_000;

export function createSummaryState(api: ApiClient) {
  const stats = createStore<Stats | null>(null);
  const overview = createStore<Overview | null>(null);
  let overviewReadAt = 0;
  let overviewWatchers = 0;

  async function refreshStats(): Promise<void> {
    stats.set(await getStats(api));
  }

  async function refreshOverview(force = false): Promise<void> {
    if (overviewWatchers === 0 && !force) return;
    if (!force && Date.now() - overviewReadAt < OVERVIEW_EVERY_MS) return;
    overviewReadAt = Date.now();
    overview.set(await getOverview(api));
  }

  /** A view that shows the overview calls this while mounted; returns the release. */
  function watchOverview(): () => void {
    overviewWatchers++;
    void refreshOverview(true).catch(() => {});
    return () => {
      overviewWatchers--;
    };
  }

  return { stats, overview, refreshStats, refreshOverview, watchOverview };
}

export type SummaryModel = ReturnType<typeof createSummaryState>;
