/**
 * The delegator report: per service and method, for every backend, how many calls, errors and
 * timeouts, latency quantiles p50/p90/p99 and the per-call delta against the primary, a
 * similarity histogram in tenths, and a heat map of similarity against time — the views Sentry
 * used to decide when Snuba could take over (seeds/001: histograms "to a tenth", daily heat maps,
 * quantiles of latency and of the latency delta "for the exact same query parameters").
 *
 * Quantiles are computed here over the window's rows rather than in SQL, because the three
 * dialects share no quantile function; `maxRows` bounds the work. Left out: charts (the CLI
 * prints a table and a text heat map; the API returns the numbers for a UI to draw).
 */
import type { Kysely } from 'kysely';
import type { Database } from '../../db/index.js';

export interface Quantiles {
  p50: number | null;
  p90: number | null;
  p99: number | null;
}

export interface BackendReport {
  backend: string;
  role: 'primary' | 'secondary';
  calls: number;
  errors: number;
  timeouts: number;
  latencyMs: Quantiles;
  /** This backend's latency minus the primary's, per call (secondaries only). */
  deltaMs: Quantiles | null;
  meanSimilarity: number | null;
  /** Counts of similarity in [0,0.1), [0.1,0.2) … [0.9,1.0]. */
  histogram: number[];
  /** One row per time bucket that has calls: its start (epoch ms) and its similarity histogram. */
  heatmap: { start: number; counts: number[] }[];
}

export interface MethodReport {
  service: string;
  method: string;
  calls: number;
  backends: BackendReport[];
}

export interface DelegatorReport {
  since: number;
  until: number;
  bucketMs: number;
  rows: number;
  /** True when the window had more than `maxRows` rows and only the newest were read. */
  truncated: boolean;
  methods: MethodReport[];
}

function quantiles(values: number[]): Quantiles {
  if (values.length === 0) return { p50: null, p90: null, p99: null };
  const v = [...values].sort((a, b) => a - b);
  const q = (p: number) => Math.round(v[Math.min(v.length - 1, Math.max(0, Math.ceil(p * v.length) - 1))] * 100) / 100;
  return { p50: q(0.5), p90: q(0.9), p99: q(0.99) };
}

const bin = (s: number) => Math.min(9, Math.max(0, Math.floor(s * 10)));

export async function buildReport(
  db: Kysely<Database>,
  opts: { since?: number; until?: number; bucketMs?: number; service?: string; maxRows?: number } = {},
): Promise<DelegatorReport> {
  const until = opts.until ?? Date.now();
  const since = opts.since ?? until - 24 * 3_600_000;
  const bucketMs = opts.bucketMs ?? 3_600_000;
  const maxRows = opts.maxRows ?? 200_000;
  let q = db
    .selectFrom('delegator_calls')
    .select(['call_id', 'service', 'method', 'backend', 'role', 'latency_ms', 'error', 'similarity', 'sampled_at'])
    .where('sampled_at', '>=', since)
    .where('sampled_at', '<', until);
  if (opts.service) q = q.where('service', '=', opts.service);
  const rows = await q.orderBy('sampled_at', 'desc').limit(maxRows + 1).execute();
  const truncated = rows.length > maxRows;
  if (truncated) rows.pop();

  const primaryLatency = new Map<string, number>();
  for (const r of rows) if (r.role === 'primary' && !r.error) primaryLatency.set(r.call_id, Number(r.latency_ms));

  type Acc = { b: BackendReport; latencies: number[]; deltas: number[]; simSum: number; simN: number; heat: Map<number, number[]> };
  const methods = new Map<string, { service: string; method: string; calls: Set<string>; backends: Map<string, Acc> }>();
  for (const r of rows) {
    const key = `${r.service}\u0000${r.method}`;
    let m = methods.get(key);
    if (!m) methods.set(key, (m = { service: r.service, method: r.method, calls: new Set(), backends: new Map() }));
    m.calls.add(r.call_id);
    const bkey = `${r.role}\u0000${r.backend}`;
    let a = m.backends.get(bkey);
    if (!a) {
      const b: BackendReport = { backend: r.backend, role: r.role as 'primary' | 'secondary', calls: 0, errors: 0, timeouts: 0, latencyMs: quantiles([]), deltaMs: null, meanSimilarity: null, histogram: new Array(10).fill(0), heatmap: [] };
      m.backends.set(bkey, (a = { b, latencies: [], deltas: [], simSum: 0, simN: 0, heat: new Map() }));
    }
    a.b.calls++;
    if (r.error === 'timeout') a.b.timeouts++;
    else if (r.error) a.b.errors++;
    else {
      const lat = Number(r.latency_ms);
      a.latencies.push(lat);
      const p = primaryLatency.get(r.call_id);
      if (r.role === 'secondary' && p !== undefined) a.deltas.push(lat - p);
    }
    if (r.similarity !== null) {
      const s = Number(r.similarity);
      a.simSum += s;
      a.simN++;
      a.b.histogram[bin(s)]++;
      const start = Math.floor(Number(r.sampled_at) / bucketMs) * bucketMs;
      let cell = a.heat.get(start);
      if (!cell) a.heat.set(start, (cell = new Array(10).fill(0)));
      cell[bin(s)]++;
    }
  }

  const out: MethodReport[] = [];
  for (const m of methods.values()) {
    const backends = [...m.backends.values()].map((a) => ({
      ...a.b,
      latencyMs: quantiles(a.latencies),
      deltaMs: a.b.role === 'secondary' ? quantiles(a.deltas) : null,
      meanSimilarity: a.simN ? Math.round((a.simSum / a.simN) * 10_000) / 10_000 : null,
      heatmap: [...a.heat.entries()].sort(([x], [y]) => x - y).map(([start, counts]) => ({ start, counts })),
    }));
    backends.sort((x, y) => (x.role === y.role ? x.backend.localeCompare(y.backend) : x.role === 'primary' ? -1 : 1));
    out.push({ service: m.service, method: m.method, calls: m.calls.size, backends });
  }
  out.sort((x, y) => x.service.localeCompare(y.service) || x.method.localeCompare(y.method));
  return { since, until, bucketMs, rows: rows.length, truncated, methods: out };
}

/** `30m`, `24h`, `7d` → ms. */
export function parseDuration(text: string): number {
  const m = /^(\d+)\s*(s|m|h|d)$/.exec(text.trim());
  if (!m) throw new Error(`expected a duration like 30m, 24h or 7d, got "${text}"`);
  return Number(m[1]) * { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 's' | 'm' | 'h' | 'd'];
}

export { formatReport } from './report-format.js';
