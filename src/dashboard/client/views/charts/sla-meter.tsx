import type { Overview } from '../../api/types.js';
import { formatPercent, formatSeconds } from '../format.js';

/**
 * SLA compliance: the share of decided leads answered within their SLA, as a number
 * first, then a bar split into within (solid), breached (hatched) and pending (empty),
 * each named with its count in the legend, so nothing depends on colour.
 */
export function SlaMeter({ sla }: { sla: Overview['sla'] }) {
  const all = sla.withinSla + sla.breached + sla.pending;
  const width = (n: number) => `${all > 0 ? (n / all) * 100 : 0}%`;
  return (
    <div class="sla-meter">
      <div class="big-numbers">
        <p class="big">
          <span class="big-value">{formatPercent(sla.compliance)}</span>
          <span class="big-label">answered within SLA</span>
        </p>
        <p class="big">
          <span class="big-value">{formatSeconds(sla.medianFirstResponseSeconds)}</span>
          <span class="big-label">median time to first response</span>
        </p>
      </div>
      <div class="meter" aria-hidden="true">
        <span class="meter-within" style={{ width: width(sla.withinSla) }} />
        <span class="meter-breached" style={{ width: width(sla.breached) }} />
        <span class="meter-pending" style={{ width: width(sla.pending) }} />
      </div>
      <ul class="legend">
        <li>
          <span class="swatch swatch-within" aria-hidden="true" /> Within SLA:{' '}
          {sla.withinSla.toLocaleString()}
        </li>
        <li>
          <span class="swatch swatch-breached" aria-hidden="true" /> Missed: {sla.breached.toLocaleString()}
        </li>
        <li>
          <span class="swatch swatch-pending" aria-hidden="true" /> Still inside SLA:{' '}
          {sla.pending.toLocaleString()}
        </li>
      </ul>
    </div>
  );
}
