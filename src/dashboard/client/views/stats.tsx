import type { Stats } from '../api/types.js';
import type { DashboardModel } from '../dashboard.js';
import { useStore } from '../state/store.js';
import { formatSeconds } from './format.js';

/** The counters strip: each figure is a labelled number; problems get a warning mark, not just a colour. */
const COUNTERS: {
  name: keyof Stats;
  label: string;
  warn?: boolean;
  format?: (n: number | null) => string;
}[] = [
  { name: 'leadsToday', label: 'Leads today' },
  { name: 'leadsThisWeek', label: 'This week' },
  { name: 'openSlaBreaches', label: 'Open SLA breaches', warn: true },
  { name: 'medianFirstResponseSeconds', label: 'Median first response', format: formatSeconds },
  { name: 'unprocessedEvents', label: 'Waiting to send' },
  { name: 'deadEvents', label: 'Dead events', warn: true },
  { name: 'failedNotifications24h', label: 'Failed sends (24 h)', warn: true },
];

export function StatsStrip({ model }: { model: DashboardModel }) {
  const stats = useStore(model.summary.stats);
  return (
    <section aria-labelledby="stats-heading">
      <h2 id="stats-heading" class="visually-hidden">
        Counters
      </h2>
      <dl class="stats">
        {COUNTERS.map(({ name, label, warn, format }) => {
          const value = stats ? stats[name] : null;
          const bad = warn && typeof value === 'number' && value > 0;
          return (
            <div key={name} class={bad ? 'stat stat-warn' : 'stat'}>
              <dt>{label}</dt>
              <dd>
                {bad && <span aria-hidden="true">⚠ </span>}
                {stats === null ? '…' : format ? format(value) : (value ?? 0).toLocaleString()}
              </dd>
            </div>
          );
        })}
      </dl>
    </section>
  );
}
