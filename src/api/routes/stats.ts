/**
 * Sentry's organization stats (`GET /api/0/organizations/:org/stats_v2/`): how many items each
 * project's clients sent, by outcome (accepted, filtered, rate_limited, invalid, client_discard),
 * category and reason, per interval. Dropped and non-event items come from the `outcomes` table;
 * accepted errors from the project time series (the events the worker saved). Sentry's shape:
 * `{start, end, intervals, groups: [{by, totals, series}]}`.
 * Left out: `sum(times_seen)` (outcomes are kept as hourly sums, not as records).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { requireOrg, requireScope, type Principal } from '../auth.js';
import type { ApiContext } from '../context.js';
import { ApiError, badRequest } from '../errors.js';

const FIELD = 'sum(quantity)';
const GROUP_BY = ['outcome', 'category', 'reason', 'project'] as const;
type GroupKey = (typeof GROUP_BY)[number];
const PARAMS = new Set(['field', 'groupBy', 'statsPeriod', 'start', 'end', 'interval', 'project', 'category', 'outcome', 'reason', 'utc']);
const HOUR = 3_600_000;
/** At most this many intervals in one answer. */
const MAX_INTERVALS = 1_000;

type Query = Record<string, string | string[] | undefined>;

const list = (v: string | string[] | undefined): string[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]).flatMap((x) => x.split(',')).map((x) => x.trim()).filter(Boolean);

/** `1h`, `6h`, `1d`, `2w` in ms; whole hours only (outcomes are hourly). */
function duration(text: string, what: string): number {
  const m = /^(\d+)([hdw])$/.exec(text.trim());
  if (!m || Number(m[1]) === 0) throw badRequest(`Invalid ${what}: "${text}"`);
  return Number(m[1]) * { h: HOUR, d: 24 * HOUR, w: 7 * 24 * HOUR }[m[2] as 'h' | 'd' | 'w'];
}

function time(text: string, what: string): number {
  const t = Date.parse(text);
  if (!Number.isFinite(t)) throw badRequest(`Invalid ${what}: "${text}"`);
  return t;
}

interface Row {
  project: number;
  bucket: number;
  category: string;
  outcome: string;
  reason: string;
  quantity: number;
}

export function statsRoutes(app: FastifyInstance, ctx: ApiContext) {
  const principal = (r: FastifyRequest) => r.principal as Principal;

  app.get<{ Params: { org: string }; Querystring: Query }>('/api/0/organizations/:org/stats_v2/', async (request) => {
    requireScope(principal(request), 'org:read');
    const org = await requireOrg(ctx.db, principal(request), request.params.org);
    const q = request.query;
    for (const key of Object.keys(q)) if (!PARAMS.has(key)) throw badRequest(`Invalid parameter: "${key}"`);
    const fields = list(q.field);
    if (fields.length === 0) throw badRequest('Request is missing a "field"');
    for (const f of fields) if (f !== FIELD) throw badRequest(`Invalid field: "${f}"`);
    const groupBy = list(q.groupBy) as GroupKey[];
    for (const g of groupBy) if (!GROUP_BY.includes(g)) throw badRequest(`Invalid groupBy: "${g}"`);

    // Intervals aligned to their own length (days start at 00:00 UTC); as Sentry does, the first
    // is the first whole one after the start, the last the one the end falls in.
    const interval = duration(list(q.interval)[0] ?? '1h', 'interval');
    const now = Date.now();
    const end = list(q.end)[0] ? time(list(q.end)[0], 'end') : now;
    const start = list(q.start)[0] ? time(list(q.start)[0], 'start') : end - duration(list(q.statsPeriod)[0] ?? '14d', 'statsPeriod');
    if (start >= end) throw badRequest('start must be before end');
    const first = Math.min(Math.ceil(start / interval) * interval, Math.floor(end / interval) * interval);
    const count = Math.max(1, Math.ceil((end - first) / interval));
    if (count > MAX_INTERVALS) throw badRequest(`Too many intervals: ${count} (at most ${MAX_INTERVALS}); choose a longer interval`);
    const intervals = Array.from({ length: count }, (_, i) => first + i * interval);

    const projectRows = await ctx.db.selectFrom('projects').select('id').where('organization_id', '=', org.id).execute();
    const wanted = list(q.project).map(Number).filter((n) => n !== -1);
    if (wanted.some((id) => !projectRows.some((p) => p.id === id))) throw new ApiError(403, 'You do not have permission to perform this action.');
    const projectIds = wanted.length ? wanted : projectRows.map((p) => p.id);
    if (projectIds.length === 0) throw badRequest('No projects available');
    const categories = new Set(list(q.category));
    const outcomes = new Set(list(q.outcome));
    const reasons = new Set(list(q.reason));
    const keep = (r: Row) => (!categories.size || categories.has(r.category)) && (!outcomes.size || outcomes.has(r.outcome)) && (!reasons.size || reasons.has(r.reason));

    const rows: Row[] = (
      await ctx.db
        .selectFrom('outcomes')
        .select(['project_id', 'bucket', 'category', 'outcome', 'reason', 'quantity'])
        .where('project_id', 'in', projectIds)
        .where('bucket', '>=', first)
        .where('bucket', '<', end)
        .execute()
    ).map((r) => ({ project: r.project_id, bucket: Number(r.bucket), category: r.category, outcome: r.outcome, reason: r.reason, quantity: Number(r.quantity) }));
    // Accepted errors are the saved events, counted per project by the tsdb (daily series for
    // whole-day intervals: they are kept longer than the hourly ones).
    const series = await ctx.services.tsdb.getRange('project', projectIds, first, end - 1, interval % (24 * HOUR) === 0 ? 86400 : 3600);
    for (const [project, points] of series) {
      for (const [bucketSeconds, n] of points) if (n > 0) rows.push({ project, bucket: bucketSeconds * 1000, category: 'error', outcome: 'accepted', reason: 'none', quantity: n });
    }

    const groups = new Map<string, { by: Partial<Record<GroupKey, string | number>>; series: number[] }>();
    for (const r of rows) {
      if (!keep(r) || r.bucket < first || r.bucket >= end) continue;
      const by: Partial<Record<GroupKey, string | number>> = {};
      for (const g of groupBy) by[g] = r[g];
      const key = JSON.stringify(groupBy.map((g) => by[g]));
      let group = groups.get(key);
      if (!group) groups.set(key, (group = { by, series: new Array<number>(count).fill(0) }));
      group.series[Math.floor((r.bucket - first) / interval)] += r.quantity;
    }
    // With nothing grouped, one group (of zeros if need be), so a chart always has its series.
    if (groups.size === 0 && groupBy.length === 0) groups.set('[]', { by: {}, series: new Array<number>(count).fill(0) });
    return {
      start: new Date(first).toISOString().replace(/\.000Z$/, 'Z'),
      end: new Date(first + count * interval).toISOString().replace(/\.000Z$/, 'Z'),
      intervals: intervals.map((t) => new Date(t).toISOString().replace(/\.000Z$/, 'Z')),
      groups: [...groups.values()].map((g) => ({ by: g.by, totals: { [FIELD]: g.series.reduce((a, b) => a + b, 0) }, series: { [FIELD]: g.series } })),
    };
  });
}
