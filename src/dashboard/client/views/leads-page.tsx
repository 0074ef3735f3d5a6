import { useEffect } from 'preact/hooks';
import type { LeadFilters } from '../api/types.js';
import type { PageProps } from '../pages.js';
import { navigate } from '../router.js';
import { filtersFromParams } from '../state/leads.js';
import { BulkHistory } from './bulk-history.js';
import { LeadDetailView } from './lead-detail.js';
import { LeadsList } from './leads-list.js';
import { StatsStrip } from './stats.js';

/**
 * #/leads[/<id>][?filters]: the list and the open lead, side by side on wide screens
 * and stacked on narrow ones. The URL is the source of truth: filters and the open
 * lead follow it, and every change goes through navigate().
 */
export function LeadsPage({ model, route }: PageProps) {
  const filters = filtersFromParams(route.params);
  const filterKey = JSON.stringify(filters);

  useEffect(() => {
    if (model.leads.store.get().loadedFor !== filterKey) void model.leads.load(filters);
  }, [filterKey]);

  useEffect(() => {
    void model.detail.open(route.id);
  }, [route.id]);

  const go = (id: string | null, params: LeadFilters = filters) =>
    navigate({ page: 'leads', id, params: { ...params } as Record<string, string> });

  return (
    <>
      <StatsStrip model={model} />
      <div class={route.id ? 'split has-detail' : 'split'}>
        <LeadsList
          model={model}
          filters={filters}
          selectedId={route.id}
          onFilters={(next) => go(route.id, next)}
          onOpen={(id) => go(id)}
        />
        {route.id ? (
          <LeadDetailView model={model} onClose={() => go(null)} />
        ) : (
          <aside class="card placeholder" aria-label="No lead open">
            <p class="placeholder-title">Pick a lead to see its whole story</p>
            <p class="help">
              Click anywhere on a row, or Tab to the list, move with ↑ and ↓ and press Enter. The timeline,
              follow-ups and every delivery attempt open here.
            </p>
          </aside>
        )}
      </div>
      <BulkHistory model={model} />
    </>
  );
}
