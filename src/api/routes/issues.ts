/**
 * Issue routes: the stream (project and organization), details, triage updates (single and bulk:
 * status, ignore conditions, assignment, bookmarks, merge, delete-and-discard; issue-update.ts and
 * issue-merge.ts), delete, hashes (with unmerge) and tag breakdowns. Shapes follow Sentry's API
 * (protocol.md §8). Activity, comments and alert rules register from here too.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Group } from '../../db/index.js';
import { parseSearch, SearchQueryError, type IssueSort } from '../../services/search/index.js';
import { requireOrg, requireScope, type Principal } from '../auth.js';
import { loadIssue, loadProject, projectRef, type ApiContext } from '../context.js';
import { badRequest } from '../errors.js';
import { parseCursor, parseLimit, setLinkHeader } from '../pagination.js';
import { serializeIssue } from '../serializers/issue.js';
import { loadTriage } from '../serializers/issue-triage.js';
import { applyIssueUpdate, type IssueUpdate } from '../issue-update.js';
import { deleteIssues, discardIssues, mergeIssues, unmergeHashes } from '../issue-merge.js';
import { activityRoutes, serializeActivities } from './activity.js';
import { ruleRoutes } from './rules.js';

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

async function listIssues(ctx: ApiContext, request: FastifyRequest, reply: any, projectIds: number[], orgSlug: string, userId: number | null) {
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
  const triage = await loadTriage(ctx.db, found.groupIds, userId);
  setLinkHeader(request, reply, ctx.baseUrl, offset, limit, found.hasMore);
  return found.groupIds
    .map((id) => byId.get(id))
    .filter((g): g is Group => Boolean(g))
    .map((g) => serializeIssue(g, projectRef(projects.get(g.project_id)!), ctx.baseUrl, orgSlug, stats.get(g.id), triage.get(g.id)));
}

/**
 * The bulk PUT on a set of issues of one organization: merge (`merge: 1`, two or more issues of one
 * project), delete-and-discard (`discard: true`, answered 204), or a status / assignment / flag
 * change. Sentry's bulk reply echoes the changed fields.
 */
async function bulkUpdate(ctx: ApiContext, p: Principal, orgId: number, groups: Group[], body: IssueUpdate, reply: any) {
  if (body.discard) {
    requireScope(p, 'event:admin');
    await discardIssues(ctx, groups);
    return reply.code(204).send();
  }
  if (body.merge !== undefined && body.merge !== false && body.merge !== 0 && body.merge !== '0') {
    if (groups.length < 2) throw badRequest('Merge needs at least two issues (?id=…&id=…)');
    if (new Set(groups.map((g) => g.project_id)).size > 1) throw badRequest('Merging across projects is not supported');
    return { merge: await mergeIssues(ctx, groups, p.userId) };
  }
  return applyIssueUpdate(ctx, p, orgId, groups, body);
}

async function groupsIn(ctx: ApiContext, projectIds: number[], ids: number[]): Promise<Group[]> {
  if (ids.length === 0 || projectIds.length === 0) return [];
  return ctx.db.selectFrom('groups').selectAll().where('project_id', 'in', projectIds).where('id', 'in', ids).execute();
}

/** `?id=` ids, or with none every issue matching `query` (default `is:unresolved`), up to 1000. */
async function targetIds(ctx: ApiContext, q: Q, projectIds: number[]): Promise<number[]> {
  const ids = idsFromQuery(q);
  if (ids.length) return ids;
  let search;
  try {
    search = parseSearch(one(q.query) ?? 'is:unresolved');
  } catch (err) {
    if (err instanceof SearchQueryError) throw badRequest(`Invalid query: ${err.message}`);
    throw err;
  }
  const found = await ctx.services.search.queryIssues({ projectIds, search, sort: 'date', offset: 0, limit: 1000, now: Date.now() });
  return found.groupIds;
}

async function orgProjectIds(ctx: ApiContext, orgId: number, q: Q): Promise<number[]> {
  const wanted = (q.project === undefined ? [] : Array.isArray(q.project) ? q.project : [q.project]).map(Number).filter((n) => n !== -1);
  let pq = ctx.db.selectFrom('projects').select('id').where('organization_id', '=', orgId);
  if (wanted.length) pq = pq.where('id', 'in', wanted);
  return (await pq.execute()).map((p) => p.id);
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
  activityRoutes(app, ctx);
  ruleRoutes(app, ctx);

  app.get<{ Params: { org: string; project: string } }>('/api/0/projects/:org/:project/issues/', async (request, reply) => {
    requireScope(principal(request), 'event:read');
    const { org, project } = await loadProject(ctx, principal(request), request.params.org, request.params.project);
    return listIssues(ctx, request, reply, [project.id], org.slug, principal(request).userId);
  });

  app.get<{ Params: { org: string } }>('/api/0/organizations/:org/issues/', async (request, reply) => {
    requireScope(principal(request), 'event:read');
    const org = await requireOrg(ctx.db, principal(request), request.params.org);
    const ids = await orgProjectIds(ctx, org.id, request.query as Q);
    return listIssues(ctx, request, reply, ids, org.slug, principal(request).userId);
  });

  app.put<{ Params: { org: string }; Body: IssueUpdate }>('/api/0/organizations/:org/issues/', async (request, reply) => {
    requireScope(principal(request), 'event:write');
    const org = await requireOrg(ctx.db, principal(request), request.params.org);
    const projectIds = await orgProjectIds(ctx, org.id, request.query as Q);
    const groups = await groupsIn(ctx, projectIds, await targetIds(ctx, request.query as Q, projectIds));
    return bulkUpdate(ctx, principal(request), org.id, groups, request.body ?? {}, reply);
  });

  // Bulk update: `?id=1&id=2`, or with no id every issue matching `query`.
  app.put<{ Params: { org: string; project: string }; Body: IssueUpdate }>('/api/0/projects/:org/:project/issues/', async (request, reply) => {
    requireScope(principal(request), 'event:write');
    const { org, project } = await loadProject(ctx, principal(request), request.params.org, request.params.project);
    const groups = await groupsIn(ctx, [project.id], await targetIds(ctx, request.query as Q, [project.id]));
    return bulkUpdate(ctx, principal(request), org.id, groups, request.body ?? {}, reply);
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
      const triage = await loadTriage(ctx.db, [group.id], principal(request).userId);
      return {
        ...serializeIssue(group, projectRef(project), ctx.baseUrl, org.slug, { ...stats.get(group.id), ...stats14.get(group.id) }, triage.get(group.id)),
        activity: await serializeActivities(ctx, group),
        seenBy: [],
        participants: [],
        userReportCount: 0,
        tags: tags.map((t) => ({ key: t.key, name: t.key, totalValues: t.totalValues, uniqueValues: t.uniqueValues })),
      };
    });

    app.put<{ Params: { id: string }; Body: IssueUpdate }>(`${prefix}/`, async (request, reply) => {
      requireScope(principal(request), 'event:write');
      const { group, project, org } = await loadIssue(ctx, principal(request), request.params.id);
      const body = request.body ?? {};
      if (body.discard) return bulkUpdate(ctx, principal(request), org.id, [group], body, reply);
      await applyIssueUpdate(ctx, principal(request), org.id, [group], body);
      const updated = await ctx.db.selectFrom('groups').selectAll().where('id', '=', group.id).executeTakeFirstOrThrow();
      const triage = await loadTriage(ctx.db, [group.id], principal(request).userId);
      return serializeIssue(updated, projectRef(project), ctx.baseUrl, org.slug, undefined, triage.get(group.id));
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

    // Unmerge (Sentry: DELETE …/hashes/?id=HASH; PUT is accepted too): the hashes leave for a new issue.
    for (const method of ['PUT', 'DELETE'] as const) {
      app.route<{ Params: { id: string } }>({
        method,
        url: `${prefix}/hashes/`,
        handler: async (request, reply) => {
          requireScope(principal(request), 'event:write');
          const { group } = await loadIssue(ctx, principal(request), request.params.id);
          const q = request.query as Q;
          const wanted = (q.id === undefined ? [] : Array.isArray(q.id) ? q.id : [q.id]).filter((h) => /^[0-9a-f]{32}$/.test(h));
          if (wanted.length === 0) throw badRequest('Give the hashes to unmerge with ?id=');
          const own = await ctx.db.selectFrom('group_hashes').select('hash').where('group_id', '=', group.id).execute();
          if (wanted.some((h) => !own.some((o) => o.hash === h))) throw badRequest('A hash does not belong to this issue');
          if (wanted.length >= own.length) throw badRequest('Cannot unmerge every hash of an issue');
          const newId = await unmergeHashes(ctx, group, wanted, principal(request).userId);
          return reply.code(202).send({ id: String(newId) });
        },
      });
    }

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
