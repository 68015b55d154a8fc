/**
 * Issue routes: the stream (project and organization), details, status changes (single and
 * bulk), delete, hashes and tag breakdowns. Shapes follow Sentry's API (protocol.md §8).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Group } from '../../db/index.js';
import { parseSearch, SearchQueryError, type IssueSort } from '../../services/search/index.js';
import { eventNodeId } from '../../services/nodestore/index.js';
import { requireOrg, requireScope, type Principal } from '../auth.js';
import { loadIssue, loadProject, projectRef, type ApiContext } from '../context.js';
import { badRequest } from '../errors.js';
import { parseCursor, parseLimit, setLinkHeader } from '../pagination.js';
import { serializeIssue } from '../serializers/issue.js';

const SORTS: Record<string, IssueSort> = { date: 'date', new: 'new', freq: 'freq', user: 'user' };

type Q = Record<string, string | string[] | undefined>;
const one = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v);

async function statsFor(ctx: ApiContext, groupIds: number[], period: string | undefined) {
  if (period === '' || groupIds.length === 0) return new Map<number, Record<string, [number, number][]>>();
  const now = Date.now();
  const [key, rollup, span] = period === '14d' ? ['14d', 86400, 13 * 86_400_000] as const : ['24h', 3600, 23 * 3_600_000] as const;
  const series = await ctx.services.tsdb.getRange('group', groupIds, now - span, now, rollup);
  const out = new Map<number, Record<string, [number, number][]>>();
  for (const id of groupIds) out.set(id, { [key]: series.get(id) ?? [] });
  return out;
}

async function listIssues(ctx: ApiContext, request: FastifyRequest, reply: any, projectIds: number[], orgSlug: string) {
  const q = request.query as Q;
  const query = one(q.query) ?? 'is:unresolved';
  const sort = SORTS[one(q.sort) ?? 'date'];
  if (!sort) throw badRequest(`Invalid sort: ${one(q.sort)}`);
  const limit = parseLimit(one(q.limit), 25);
  const offset = parseCursor(one(q.cursor));
  let search;
  try {
    search = parseSearch(query);
  } catch (err) {
    if (err instanceof SearchQueryError) throw badRequest(`Invalid query: ${err.message}`);
    throw err;
  }
  let found;
  try {
    found = await ctx.services.search.queryIssues({ projectIds, search, sort, offset, limit, now: Date.now() });
  } catch (err) {
    if (err instanceof SearchQueryError) throw badRequest(`Invalid query: ${err.message}`);
    throw err;
  }
  const groups = found.groupIds.length
    ? await ctx.db.selectFrom('groups').selectAll().where('id', 'in', found.groupIds).execute()
    : [];
  const byId = new Map(groups.map((g) => [g.id, g]));
  const projects = new Map(
    (await ctx.db.selectFrom('projects').selectAll().where('id', 'in', projectIds.length ? projectIds : [-1]).execute()).map((p) => [p.id, p]),
  );
  const stats = await statsFor(ctx, found.groupIds, one(q.statsPeriod) ?? '24h');
  setLinkHeader(request, reply, ctx.baseUrl, offset, limit, found.hasMore);
  return found.groupIds
    .map((id) => byId.get(id))
    .filter((g): g is Group => Boolean(g))
    .map((g) => serializeIssue(g, projectRef(projects.get(g.project_id)!), ctx.baseUrl, orgSlug, stats.get(g.id)));
}

interface StatusUpdate {
  status?: string;
  statusDetails?: Record<string, unknown>;
}

function statusChange(body: StatusUpdate): Partial<Group> | null {
  if (body.status === undefined) return null;
  const now = Date.now();
  switch (body.status) {
    case 'resolved':
    case 'resolvedInNextRelease':
      return {
        status: 'resolved',
        substatus: null,
        resolved_at: now,
        status_details: JSON.stringify(body.status === 'resolvedInNextRelease' ? { inNextRelease: true } : (body.statusDetails ?? {})),
      };
    case 'unresolved':
      return { status: 'unresolved', substatus: 'ongoing', resolved_at: null, status_details: '{}' };
    case 'ignored':
    case 'muted':
      return { status: 'ignored', substatus: 'archived_forever', resolved_at: null, status_details: JSON.stringify(body.statusDetails ?? {}) };
    default:
      throw badRequest(`Invalid status: ${String(body.status)}`, { status: ['"' + String(body.status) + '" is not a valid choice.'] });
  }
}

async function applyUpdate(ctx: ApiContext, ids: number[], body: StatusUpdate) {
  const change = statusChange(body ?? {});
  if (change && ids.length) await ctx.db.updateTable('groups').set(change).where('id', 'in', ids).execute();
  return change
    ? { status: change.status, statusDetails: JSON.parse(change.status_details ?? '{}'), isPublic: false }
    : { isPublic: false };
}

/** Deletes issues with their hashes, events, bodies and tag values. */
async function deleteIssues(ctx: ApiContext, groups: { id: number; project_id: number }[]) {
  for (const g of groups) {
    const events = await ctx.db.selectFrom('events').select('event_id').where('group_id', '=', g.id).execute();
    await ctx.db.transaction().execute(async (trx) => {
      await ctx.services.nodestore.delete(events.map((e) => eventNodeId(g.project_id, e.event_id)), trx);
      await trx.deleteFrom('events').where('group_id', '=', g.id).execute();
      await trx.deleteFrom('group_hashes').where('group_id', '=', g.id).execute();
      await trx.deleteFrom('group_tag_values').where('group_id', '=', g.id).execute();
      await trx.deleteFrom('tsdb_points').where('model', '=', 'group').where('key_id', '=', g.id).execute();
      await trx.deleteFrom('groups').where('id', '=', g.id).execute();
    });
  }
}

function idsFromQuery(q: Q): number[] {
  const raw = q.id === undefined ? [] : Array.isArray(q.id) ? q.id : [q.id];
  return raw.map((v) => {
    if (!/^\d{1,15}$/.test(v)) throw badRequest(`Invalid issue id: ${v}`);
    return Number(v);
  });
}

export function issueRoutes(app: FastifyInstance, ctx: ApiContext) {
  const principal = (r: FastifyRequest) => r.principal as Principal;

  app.get<{ Params: { org: string; project: string } }>('/api/0/projects/:org/:project/issues/', async (request, reply) => {
    requireScope(principal(request), 'event:read');
    const { org, project } = await loadProject(ctx, principal(request), request.params.org, request.params.project);
    return listIssues(ctx, request, reply, [project.id], org.slug);
  });

  app.get<{ Params: { org: string } }>('/api/0/organizations/:org/issues/', async (request, reply) => {
    requireScope(principal(request), 'event:read');
    const org = await requireOrg(ctx.db, principal(request), request.params.org);
    const q = request.query as Q;
    const wanted = (q.project === undefined ? [] : Array.isArray(q.project) ? q.project : [q.project]).map(Number).filter((n) => n !== -1);
    let pq = ctx.db.selectFrom('projects').select('id').where('organization_id', '=', org.id);
    if (wanted.length) pq = pq.where('id', 'in', wanted);
    const ids = (await pq.execute()).map((p) => p.id);
    return listIssues(ctx, request, reply, ids, org.slug);
  });

  // Bulk update / delete: `?id=1&id=2`, or with no id every issue matching `query`.
  app.put<{ Params: { org: string; project: string }; Body: StatusUpdate }>('/api/0/projects/:org/:project/issues/', async (request) => {
    requireScope(principal(request), 'event:write');
    const { project } = await loadProject(ctx, principal(request), request.params.org, request.params.project);
    const q = request.query as Q;
    let ids = idsFromQuery(q);
    if (ids.length === 0) {
      const found = await ctx.services.search.queryIssues({
        projectIds: [project.id],
        search: parseSearch(one(q.query) ?? 'is:unresolved'),
        sort: 'date',
        offset: 0,
        limit: 1000,
        now: Date.now(),
      });
      ids = found.groupIds;
    }
    const owned = ids.length ? (await ctx.db.selectFrom('groups').select('id').where('project_id', '=', project.id).where('id', 'in', ids).execute()).map((g) => g.id) : [];
    return applyUpdate(ctx, owned, request.body ?? {});
  });

  app.delete<{ Params: { org: string; project: string } }>('/api/0/projects/:org/:project/issues/', async (request, reply) => {
    requireScope(principal(request), 'event:admin');
    const { project } = await loadProject(ctx, principal(request), request.params.org, request.params.project);
    const ids = idsFromQuery(request.query as Q);
    if (ids.length === 0) throw badRequest('Give the issues to delete with ?id=');
    const groups = await ctx.db.selectFrom('groups').select(['id', 'project_id']).where('project_id', '=', project.id).where('id', 'in', ids).execute();
    await deleteIssues(ctx, groups);
    return reply.code(204).send();
  });

  for (const prefix of ['/api/0/issues/:id', '/api/0/organizations/:org/issues/:id']) {
    app.get<{ Params: { id: string } }>(`${prefix}/`, async (request) => {
      requireScope(principal(request), 'event:read');
      const { group, project, org } = await loadIssue(ctx, principal(request), request.params.id);
      const stats = await statsFor(ctx, [group.id], '24h');
      const stats14 = await statsFor(ctx, [group.id], '14d');
      const tags = await ctx.services.tagstore.getGroupTagKeys(group.id, 0);
      return {
        ...serializeIssue(group, projectRef(project), ctx.baseUrl, org.slug, { ...stats.get(group.id), ...stats14.get(group.id) }),
        activity: [],
        seenBy: [],
        participants: [],
        userReportCount: 0,
        tags: tags.map((t) => ({ key: t.key, name: t.key, totalValues: t.totalValues, uniqueValues: t.uniqueValues })),
      };
    });

    app.put<{ Params: { id: string }; Body: StatusUpdate }>(`${prefix}/`, async (request) => {
      requireScope(principal(request), 'event:write');
      const { group, project, org } = await loadIssue(ctx, principal(request), request.params.id);
      await applyUpdate(ctx, [group.id], request.body ?? {});
      const updated = await ctx.db.selectFrom('groups').selectAll().where('id', '=', group.id).executeTakeFirstOrThrow();
      return serializeIssue(updated, projectRef(project), ctx.baseUrl, org.slug);
    });

    app.delete<{ Params: { id: string } }>(`${prefix}/`, async (request, reply) => {
      requireScope(principal(request), 'event:admin');
      const { group } = await loadIssue(ctx, principal(request), request.params.id);
      await deleteIssues(ctx, [group]);
      return reply.code(202).send();
    });

    app.get<{ Params: { id: string } }>(`${prefix}/hashes/`, async (request) => {
      requireScope(principal(request), 'event:read');
      const { group } = await loadIssue(ctx, principal(request), request.params.id);
      const hashes = await ctx.db.selectFrom('group_hashes').select('hash').where('group_id', '=', group.id).orderBy('id').execute();
      return hashes.map((h) => ({ id: h.hash, latestEvent: null, mergedBySeer: false }));
    });

    app.get<{ Params: { id: string } }>(`${prefix}/tags/`, async (request) => {
      requireScope(principal(request), 'event:read');
      const { group } = await loadIssue(ctx, principal(request), request.params.id);
      const keys = await ctx.services.tagstore.getGroupTagKeys(group.id, 9);
      return keys.map((k) => ({
        key: k.key,
        name: k.key,
        totalValues: k.totalValues,
        uniqueValues: k.uniqueValues,
        topValues: k.topValues.map((v) => ({ key: k.key, name: v.value, value: v.value, count: v.count, firstSeen: new Date(v.firstSeen).toISOString(), lastSeen: new Date(v.lastSeen).toISOString() })),
      }));
    });

    app.get<{ Params: { id: string; key: string } }>(`${prefix}/tags/:key/values/`, async (request) => {
      requireScope(principal(request), 'event:read');
      const { group } = await loadIssue(ctx, principal(request), request.params.id);
      const values = await ctx.services.tagstore.getGroupTagValues(group.id, request.params.key, 1000);
      return values.map((v) => ({ key: request.params.key, name: v.value, value: v.value, count: v.count, firstSeen: new Date(v.firstSeen).toISOString(), lastSeen: new Date(v.lastSeen).toISOString() }));
    });
  }
}
