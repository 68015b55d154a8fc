/**
 * Event-count charts from the API's `stats` series (`[[unixSeconds, count], …]`): a tiny sparkline
 * for the stream and a bar chart for issue details. Plain SVG, no chart library: a few rects.
 */
import type { Series } from '../types';

function scale(series: Series) {
  const max = Math.max(1, ...series.map(([, c]) => c));
  return { max, total: series.reduce((n, [, c]) => n + c, 0) };
}

export function Sparkline({ series, label }: { series: Series | undefined; label: string }) {
  const data = series ?? [];
  const { max, total } = scale(data);
  const w = 96;
  const h = 24;
  const bw = data.length ? w / data.length : w;
  return (
    <svg className="sparkline" width={w} height={h} viewBox={`0 0 ${w} ${h}`} role="img" aria-label={`${label}: ${total} events in 24 hours`}>
      {data.map(([t, c], i) => {
        const bh = c ? Math.max(2, (c / max) * (h - 2)) : 1;
        return <rect key={t} x={i * bw + 0.5} y={h - bh} width={Math.max(1, bw - 1)} height={bh} className={c ? 'bar' : 'bar zero'} />;
      })}
    </svg>
  );
}

export function BarChart({ series, period }: { series: Series | undefined; period: '24h' | '14d' }) {
  const data = series ?? [];
  const { max, total } = scale(data);
  const w = 320;
  const h = 80;
  const bw = data.length ? w / data.length : w;
  const when = (t: number) =>
    period === '24h'
      ? new Date(t * 1000).toLocaleString(undefined, { hour: '2-digit', minute: '2-digit', day: 'numeric', month: 'short' })
      : new Date(t * 1000).toLocaleDateString(undefined, { day: 'numeric', month: 'short' });
  return (
    <figure className="barchart">
      <svg width="100%" viewBox={`0 0 ${w} ${h}`} preserveAspectRatio="none" role="img" aria-label={`${total} events in the last ${period === '24h' ? '24 hours' : '14 days'}`}>
        {data.map(([t, c], i) => {
          const bh = c ? Math.max(2, (c / max) * (h - 4)) : 1;
          return (
            <rect key={t} x={i * bw + 1} y={h - bh} width={Math.max(1, bw - 2)} height={bh} className={c ? 'bar' : 'bar zero'}>
              <title>{`${when(t)}: ${c} event${c === 1 ? '' : 's'}`}</title>
            </rect>
          );
        })}
      </svg>
      <figcaption className="muted small">
        {total} event{total === 1 ? '' : 's'}, max {max} per {period === '24h' ? 'hour' : 'day'}
      </figcaption>
    </figure>
  );
}
