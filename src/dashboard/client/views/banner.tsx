import type { DashboardModel } from '../dashboard.js';
import { formatHash } from '../router.js';
import { useStore } from '../state/store.js';
import { formatClock, plural } from './format.js';

/**
 * Alerts above every view: leads overdue for first contact (with a link that filters
 * the list to them) and refresh errors (never swallowed: what failed and since when).
 */
export function Banner({ model }: { model: DashboardModel }) {
  const stats = useStore(model.summary.stats);
  const status = useStore(model.live.status);
  const overdue = (stats?.openSlaBreaches ?? 0) + (stats?.overdueNow ?? 0);
  return (
    <div class="banners">
      {status.error && (
        <div class="banner banner-error" role="alert">
          <strong>Updates failed.</strong> {status.error}
          {status.lastUpdateAt !== null && ` The screen shows data from ${formatClock(status.lastUpdateAt)}.`}
        </div>
      )}
      {overdue > 0 && (
        <div class="banner banner-sla" role="alert">
          <strong>SLA alert:</strong> {plural(overdue, 'lead')} {overdue === 1 ? 'is' : 'are'} overdue for
          first contact.{' '}
          <a href={formatHash({ page: 'leads', id: null, params: { sla_breached: 'true' } })}>
            Show breached leads
          </a>
        </div>
      )}
    </div>
  );
}
