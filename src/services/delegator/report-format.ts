/**
 * The delegator report as text for `faultline delegator report`: one table row per backend of each
 * service method, then per secondary its similarity histogram and a heat map of similarity (rows,
 * 1.0 at the top) against time (columns), shaded by count as in Sentry's heat maps (seeds/001).
 * Left out: colour (the output is meant to be pasted into tickets and read over ssh).
 */
import type { DelegatorReport, Quantiles } from './report.js';

const SHADES = ' .:-=+*#%@';

const fmt = (v: number | null) => (v === null ? '-' : v >= 100 ? v.toFixed(0) : v.toFixed(2));
const q3 = (q: Quantiles | null) => (q ? [fmt(q.p50), fmt(q.p90), fmt(q.p99)] : ['-', '-', '-']);

function table(rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => r.map((c, i) => (i < 4 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ')).join('\n');
}

function heatmap(cells: { start: number; counts: number[] }[], bucketMs: number): string[] {
  if (cells.length === 0) return [];
  const max = Math.max(...cells.flatMap((c) => c.counts));
  const lines: string[] = [];
  for (let b = 9; b >= 0; b--) {
    const shade = cells.map((c) => (c.counts[b] === 0 ? ' ' : SHADES[Math.max(1, Math.ceil((c.counts[b] / max) * (SHADES.length - 1)))]));
    lines.push(`      ${(b / 10).toFixed(1)} |${shade.join('')}|`);
  }
  const first = new Date(cells[0].start).toISOString().slice(0, 16);
  const last = new Date(cells[cells.length - 1].start).toISOString().slice(0, 16);
  lines.push(`          ${first} .. ${last}  (${cells.length} buckets of ${Math.round(bucketMs / 60_000)} min)`);
  return lines;
}

export function formatReport(r: DelegatorReport): string {
  const out: string[] = [
    `delegator calls ${new Date(r.since).toISOString()} .. ${new Date(r.until).toISOString()}: ${r.rows} records${r.truncated ? ' (truncated: newest only)' : ''}`,
  ];
  if (r.methods.length === 0) return out.concat('no calls recorded in this window').join('\n') + '\n';
  const rows = [['service', 'method', 'backend', 'role', 'calls', 'errors', 'timeouts', 'p50 ms', 'p90 ms', 'p99 ms', 'Δp50', 'Δp90', 'Δp99', 'similarity']];
  for (const m of r.methods) {
    for (const b of m.backends) {
      rows.push([m.service, m.method, b.backend, b.role, String(b.calls), String(b.errors), String(b.timeouts), ...q3(b.latencyMs), ...q3(b.deltaMs), fmt(b.meanSimilarity)]);
    }
  }
  out.push('', table(rows), '');
  for (const m of r.methods) {
    for (const b of m.backends.filter((x) => x.role === 'secondary')) {
      out.push(`${m.service}.${m.method} ${b.backend}: similarity histogram [0.0 .. 1.0] ${b.histogram.join(' ')}`);
      out.push(...heatmap(b.heatmap, r.bucketMs), '');
    }
  }
  return out.join('\n') + '\n';
}
