import { useEffect } from 'preact/hooks';
import type { PageProps } from '../pages.js';
import { useStore } from '../state/store.js';
import { ChannelHealthTable } from './charts/channel-health.js';
import { DayBars } from './charts/day-bars.js';
import { ShareBars } from './charts/share-bars.js';
import { SlaMeter } from './charts/sla-meter.js';
import { formatClock, plural } from './format.js';
import { StatsStrip } from './stats.js';

/** #/overview: the trends at a glance (admin_overview: 14 days of leads, 24 h of deliveries). */
export function OverviewPage({ model }: PageProps) {
  const overview = useStore(model.summary.overview);
  useEffect(() => model.summary.watchOverview(), [model]);
  return (
    <>
      <StatsStrip model={model} />
      {!overview ? (
        <p class="card help">Loading the overview…</p>
      ) : (
        <div class="overview">
          <section class="card chart-card wide" aria-labelledby="per-day-heading">
            <div class="card-head">
              <h2 id="per-day-heading">Leads per day</h2>
              <p class="help">
                {plural(overview.total, 'lead')} in the last {overview.days} days (UTC) · as of{' '}
                {formatClock(Date.parse(overview.generatedAt))}
              </p>
            </div>
            <DayBars days={overview.leadsPerDay} label={`Leads per day, last ${overview.days} days`} />
          </section>
          <section class="card chart-card" aria-labelledby="sla-heading">
            <div class="card-head">
              <h2 id="sla-heading">SLA compliance</h2>
              <p class="help">Leads of the last {overview.days} days</p>
            </div>
            <SlaMeter sla={overview.sla} />
          </section>
          <section class="card chart-card" aria-labelledby="channels-heading">
            <div class="card-head">
              <h2 id="channels-heading">Channel health</h2>
              <p class="help">Last 24 hours</p>
            </div>
            <ChannelHealthTable channels={overview.channels} />
          </section>
          <section class="card chart-card" aria-labelledby="source-heading">
            <div class="card-head">
              <h2 id="source-heading">By source</h2>
              <p class="help">Last {overview.days} days</p>
            </div>
            <ShareBars items={overview.bySource} other={overview.sourceOtherCount} label="Leads by source" />
          </section>
          <section class="card chart-card" aria-labelledby="intent-heading">
            <div class="card-head">
              <h2 id="intent-heading">By intent</h2>
              <p class="help">Last {overview.days} days</p>
            </div>
            <ShareBars items={overview.byIntent} other={overview.intentOtherCount} label="Leads by intent" />
          </section>
        </div>
      )}
    </>
  );
}
