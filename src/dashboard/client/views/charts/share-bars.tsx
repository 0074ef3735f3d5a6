import type { CountByKey } from '../../api/types.js';

/**
 * Counts by key as labelled horizontal bars (HTML, not SVG: labels wrap and scale with
 * the text). Each row says its name, count and share in words; the bar only repeats it.
 */
export function ShareBars({ items, other, label }: { items: CountByKey[]; other: number; label: string }) {
  const rows = other > 0 ? [...items, { key: 'all others', count: other }] : items;
  const total = rows.reduce((sum, row) => sum + row.count, 0);
  const max = Math.max(1, ...rows.map((row) => row.count));
  if (rows.length === 0) return <p class="help">No leads in this period.</p>;
  return (
    <ul class="share-bars" aria-label={label}>
      {rows.map((row) => {
        const share = total > 0 ? Math.round((row.count / total) * 100) : 0;
        return (
          <li key={row.key} class="share-row">
            <span class="share-key">{row.key}</span>
            <span class="share-track" aria-hidden="true">
              <span class="share-fill" style={{ width: `${(row.count / max) * 100}%` }} />
            </span>
            <span class="share-count">
              {row.count.toLocaleString()} <span class="share-pct">({share} %)</span>
            </span>
          </li>
        );
      })}
    </ul>
  );
}
