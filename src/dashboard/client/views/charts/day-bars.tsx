import { useEffect, useRef, useState } from 'preact/hooks';

/**
 * Leads per day as plain SVG columns, drawn at the container's real pixel width (so
 * text keeps its size on a phone instead of shrinking with a scaled viewBox). Each column carries its number as text and the
 * days are labelled, so the chart reads without colour; a visually hidden table gives
 * screen readers the same data.
 */
export interface DayCount {
  day: string;
  count: number;
}

const HEIGHT = 180;
const TOP = 18;
const BOTTOM = 34;

function dayLabel(day: string): { weekday: string; date: string } {
  const date = new Date(`${day}T00:00:00Z`);
  return {
    weekday: date.toLocaleDateString(undefined, { weekday: 'narrow', timeZone: 'UTC' }),
    date: String(date.getUTCDate()),
  };
}

/** The element's content width, updated when it resizes. */
function useWidth(fallback: number) {
  const ref = useRef<HTMLElement>(null);
  const [width, setWidth] = useState(fallback);
  useEffect(() => {
    const element = ref.current;
    if (!element) return;
    const observer = new ResizeObserver(([entry]) => {
      if (entry) setWidth(Math.max(200, Math.floor(entry.contentRect.width)));
    });
    observer.observe(element);
    return () => observer.disconnect();
  }, []);
  return { ref, width };
}

export function DayBars({ days, label }: { days: DayCount[]; label: string }) {
  const { ref, width } = useWidth(560);
  const max = Math.max(1, ...days.map((d) => d.count));
  const slot = width / Math.max(1, days.length);
  const barWidth = Math.max(4, slot * 0.62);
  const plot = HEIGHT - TOP - BOTTOM;
  const total = days.reduce((sum, d) => sum + d.count, 0);
  return (
    <figure class="chart" ref={ref}>
      <svg
        viewBox={`0 0 ${width} ${HEIGHT}`}
        role="img"
        aria-label={`${label}: ${total} leads in ${days.length} days, at most ${max} a day`}
        class="day-bars"
        width={width}
        height={HEIGHT}
      >
        <line x1="0" x2={width} y1={TOP + plot} y2={TOP + plot} class="axis" />
        {days.map((d, index) => {
          const height = (d.count / max) * plot;
          const x = index * slot + (slot - barWidth) / 2;
          const { weekday, date } = dayLabel(d.day);
          const today = index === days.length - 1;
          return (
            <g key={d.day}>
              <rect
                x={x}
                y={TOP + plot - height}
                width={barWidth}
                height={Math.max(height, d.count > 0 ? 1 : 0)}
                rx="2"
                class={today ? 'bar bar-today' : 'bar'}
              >
                <title>{`${d.day}: ${d.count}`}</title>
              </rect>
              <text x={x + barWidth / 2} y={TOP + plot - height - 4} class="bar-value">
                {d.count}
              </text>
              <text
                x={x + barWidth / 2}
                y={HEIGHT - BOTTOM + 14}
                class={today ? 'bar-label bar-label-today' : 'bar-label'}
              >
                {date}
              </text>
              <text x={x + barWidth / 2} y={HEIGHT - BOTTOM + 28} class="bar-label bar-weekday">
                {weekday}
              </text>
            </g>
          );
        })}
      </svg>
      <table class="visually-hidden">
        <caption>{label}</caption>
        <tbody>
          {days.map((d) => (
            <tr key={d.day}>
              <th scope="row">{d.day}</th>
              <td>{d.count}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </figure>
  );
}
