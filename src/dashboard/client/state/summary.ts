import { getOverview, getStats } from '../api/admin.js';
import type { ApiClient } from '../api/client.js';
import type { Overview, Stats } from '../api/types.js';
import { createStore } from './store.js';

/**
 * The counters (on every change the live feed names; on idle poll ticks at most every
 * STATS_IDLE_EVERY_MS, since admin_stats reads the median over all answered leads) and
 * the overview's pictures (one heavier call over 14 days of leads: re-read at most every
 * OVERVIEW_EVERY_MS, and only while a view shows it).
 */
const OVERVIEW_EVERY_MS = 15_000;
/** A poll tick (nothing known to have changed) re-reads the counters at most this often. */
const STATS_IDLE_EVERY_MS = 5_000;

export function createSummaryState(api: ApiClient) {
  const stats = createStore<Stats | null>(null);
  const overview = createStore<Overview | null>(null);
  let overviewReadAt = 0;
  let statsReadAt = 0;
  let overviewWatchers = 0;

  /** `changed`: the live feed named a change, so read now; otherwise throttled. */
  async function refreshStats(changed = true): Promise<void> {
    if (!changed && stats.get() !== null && Date.now() - statsReadAt < STATS_IDLE_EVERY_MS) return;
    statsReadAt = Date.now();
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

  /** After the user changed something: the next refresh re-reads the counters. */
  function invalidate(): void {
    statsReadAt = 0;
  }

  return { stats, overview, refreshStats, refreshOverview, watchOverview, invalidate };
}

export type SummaryModel = ReturnType<typeof createSummaryState>;
