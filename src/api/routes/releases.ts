/**
 * Releases and deploys as sentry-cli drives them (protocol.md §6.2: `releases new|finalize|info|
 * list|delete|archive|restore|set-commits`, `deploys new|list`), plus what the product shows for
 * a release (new issues, first/last event, deploys per environment, session health).
 *
 * Release routes need `project:releases` (or `project:write`) to write, as Sentry's
 * `OrganizationReleasePermission`; reads need `project:read`. Left out: repositories and commit
 * objects (`repos/` is always `[]`, refs/commits are stored as sent), release file diffs.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Organization, Release } from '../../db/index.js';
import { insertReturningId } from '../../db/sql.js';
import { requireOrg, requireScope, type Principal } from '../auth.js';
import { loadProject, type ApiContext } from '../context.js';
import { badRequest } from '../errors.js';
import { parseCursor, parseLimit, setLinkHeader } from '../pagination.js';
import { attachProjects, findRelease, parseDate, releaseStats, resolveProjects } from '../release-queries.js';
import { serializeDeploy, serializeRelease } from '../serializers/release.js';
import { releaseArtifactsKey } from '../../sourcemaps/artifacts.js';

type OrgParams = { Params: { org: string } };
type ReleaseParams = { Params: { org: string; version: string } };

const principal = (r: FastifyRequest) => r.principal as Principal;

/** Writes to releases: `project:releases`, or any token that may write projects. */
export function requireReleaseWrite(p: Principal): void {
  requireScope(p, p.scopes.has('project:releases') || !p.scopes.has('project:write') ? 'project:releases' : 'project:write');
}

function body(request: FastifyRequest): Record<string, unknown> {
  const b = request.body;
  if (b === undefined || b === null) return {};
  if (typeof b !== 'object' || Array.isArray(b)) throw badRequest('Expected a JSON object.');
  return b as Record<string, unknown>;
}

function optString(v: unknown, field: string, max: number): string | null | undefined {
  if (v === undefined) return undefined;
  if (v === null) return null;
  if (typeof v !== 'string' || v.length > max) throw badRequest(`${field} must be a string of at most ${max} characters`, { [field]: ['Invalid value.'] });
  return v;
}

export function releaseRoutes(app: FastifyInstance, ctx: ApiContext) {
  const dialect = ctx.services.database.dialect;
  const details = async (r: Release) => serializeRelease(r, await releaseStats(ctx.db, r, { environments: true }));

  async function listReleases(request: FastifyRequest, reply: any, org: Organization, projectId: number | null) {
    const q = request.query as Record<string, string | undefined>;
    const offset = parseCursor(q.cursor);
    const limit = parseLimit(q.per_page ?? q.limit);
    let query = ctx.db.selectFrom('releases').selectAll('releases').where('releases.organization_id', '=', org.id);
    const filterProject = projectId ?? (q.project && /^\d+$/.test(q.project) ? Number(q.project) : null);
    if (filterProject !== null) {
      query = query.where('releases.id', 'in', ctx.db.selectFrom('release_projects').select('release_id').where('project_id', '=', filterProject));
    }
    if (q.query) query = query.where('releases.version', 'like', `%${q.query.replace(/[\\%_]/g, '')}%`);
    if (q.status === 'archived') query = query.where('releases.status', '=', 'archived');
    else if (q.status === 'open') query = query.where((eb) => eb.or([eb('releases.status', 'is', null), eb('releases.status', '=', 'open')]));
    const rows = await query.orderBy('releases.date_created', 'desc').orderBy('releases.id', 'desc').limit(limit + 1).offset(offset).execute();
    setLinkHeader(request, reply, ctx.baseUrl, offset, limit, rows.length > limit);
    const out = [];
    for (const r of rows.slice(0, limit)) out.push(serializeRelease(r, await releaseStats(ctx.db, r)));
    return out;
  }

  app.get<OrgParams>('/api/0/organizations/:org/releases/', async (request, reply) => {
    requireScope(principal(request), 'project:read');
    const org = await requireOrg(ctx.db, principal(request), request.params.org);
    return listReleases(request, reply, org, null);
  });

  app.get<{ Params: { org: string; project: string } }>('/api/0/projects/:org/:project/releases/', async (request, reply) => {
    requireScope(principal(request), 'project:read');
    const { org, project } = await loadProject(ctx, principal(request), request.params.org, request.params.project);
    return listReleases(request, reply, org, project.id);
  });

  app.post<OrgParams>('/api/0/organizations/:org/releases/', async (request, reply) => {
    requireReleaseWrite(principal(request));
    const org = await requireOrg(ctx.db, principal(request), request.params.org);
    return createRelease(request, reply, org, null);
  });

  // sentry-cli 2.x creates a release of one project here (`releases new` with a single project).
  app.post<{ Params: { org: string; project: string } }>('/api/0/projects/:org/:project/releases/', async (request, reply) => {
    requireReleaseWrite(principal(request));
    const { org, project } = await loadProject(ctx, principal(request), request.params.org, request.params.project);
    return createRelease(request, reply, org, project.id);
  });

  async function createRelease(request: FastifyRequest, reply: any, org: Organization, projectId: number | null) {
    const b = body(request);
    const version = b.version;
    if (typeof version !== 'string' || !version.trim() || version.length > 200 || /[\n\r\t/\\]/.test(version) || version === '.' || version === '..') {
      throw badRequest('Invalid version', { version: ['Release with name contains invalid characters.'] });
    }
    const projectIds = projectId !== null ? [projectId] : await resolveProjects(ctx.db, org, b.projects);
    const status = b.status === undefined ? undefined : b.status;
    if (status !== undefined && status !== 'archived' && status !== 'open') throw badRequest('status must be "open" or "archived"', { status: ['Invalid status.'] });
    const url = optString(b.url, 'url', 1024);
    const ref = optString(b.ref, 'ref', 250);
    const dateStarted = parseDate(b.dateStarted, 'dateStarted');
    const dateReleased = parseDate(b.dateReleased, 'dateReleased');
    let release = await ctx.db.selectFrom('releases').selectAll().where('organization_id', '=', org.id).where('version', '=', version).executeTakeFirst();
    const created = !release;
    // sentry-cli `releases archive|restore` (2.x) POST here with `projects: []` for an existing release.
    if (!release && projectIds.length === 0) throw badRequest('projects is required', { projects: ['This field is required.'] });
    if (!release) {
      await insertReturningId(
        ctx.db.insertInto('releases').values({ organization_id: org.id, version, date_created: Date.now(), date_released: dateReleased, date_started: dateStarted, url: url ?? null, ref: ref ?? null, status: status ?? 'open' }),
        dialect,
      ).catch(() => null); // lost a race with another create: read it below
      release = await findRelease(ctx.db, org, version);
    } else {
      const changes: Partial<Release> = {};
      if (url !== undefined) changes.url = url;
      if (ref !== undefined) changes.ref = ref;
      if (dateReleased !== null) changes.date_released = dateReleased;
      if (status !== undefined) changes.status = status;
      if (Object.keys(changes).length) await ctx.db.updateTable('releases').set(changes).where('id', '=', release.id).execute();
      release = await findRelease(ctx.db, org, version);
    }
    await attachProjects(ctx.db, dialect, release.id, projectIds);
    // Sentry answers 208 for a release that already existed; sentry-cli accepts any 2xx.
    reply.code(created ? 201 : 208);
    return details(release);
  }

  app.get<ReleaseParams>('/api/0/organizations/:org/releases/:version/', async (request) => {
    requireScope(principal(request), 'project:read');
    const org = await requireOrg(ctx.db, principal(request), request.params.org);
    return details(await findRelease(ctx.db, org, request.params.version));
  });

  app.put<ReleaseParams>('/api/0/organizations/:org/releases/:version/', async (request) => {
    requireReleaseWrite(principal(request));
    const org = await requireOrg(ctx.db, principal(request), request.params.org);
    const release = await findRelease(ctx.db, org, request.params.version);
    const b = body(request);
    const changes: Partial<Release> = {};
    const url = optString(b.url, 'url', 1024);
    if (url !== undefined) changes.url = url;
    const ref = optString(b.ref, 'ref', 250);
    if (ref !== undefined) changes.ref = ref;
    if (b.dateReleased !== undefined) changes.date_released = parseDate(b.dateReleased, 'dateReleased');
    if (b.status !== undefined) {
      if (b.status !== 'archived' && b.status !== 'open') throw badRequest('status must be "open" or "archived"', { status: ['Invalid status.'] });
      changes.status = b.status;
    }
    if (b.refs !== undefined || b.commits !== undefined) {
      const refs = Array.isArray(b.refs) ? b.refs.slice(0, 100) : undefined;
      const commits = Array.isArray(b.commits) ? b.commits.slice(0, 10_000) : undefined;
      const text = JSON.stringify({ refs, commits });
      if (text.length > 1_000_000) throw badRequest('Too many commits.');
      changes.commits = text;
      changes.commit_count = commits?.length ?? 0;
      const head = commits?.[0]?.id ?? refs?.[0]?.commit;
      changes.last_commit_id = typeof head === 'string' ? head.slice(0, 64) : null;
    }
    if (Object.keys(changes).length) await ctx.db.updateTable('releases').set(changes).where('id', '=', release.id).execute();
    if (b.projects !== undefined) await attachProjects(ctx.db, dialect, release.id, await resolveProjects(ctx.db, org, b.projects));
    return details(await findRelease(ctx.db, org, release.version));
  });

  app.delete<ReleaseParams>('/api/0/organizations/:org/releases/:version/', async (request, reply) => {
    requireReleaseWrite(principal(request));
    const org = await requireOrg(ctx.db, principal(request), request.params.org);
    const release = await findRelease(ctx.db, org, request.params.version);
    await ctx.db.transaction().execute(async (trx) => {
      await trx.deleteFrom('deploys').where('release_id', '=', release.id).execute();
      await trx.deleteFrom('release_projects').where('release_id', '=', release.id).execute();
      await trx.deleteFrom('artifact_files').where('organization_id', '=', org.id).where('release', '=', release.version).where('bundle_id', 'is', null).execute();
      await trx.deleteFrom('releases').where('id', '=', release.id).execute();
    });
    await ctx.services.cache.delete(releaseArtifactsKey(org.id, release.version));
    return reply.code(204).send();
  });

  app.get<OrgParams>('/api/0/organizations/:org/repos/', async (request) => {
    requireScope(principal(request), 'org:read');
    await requireOrg(ctx.db, principal(request), request.params.org);
    return [];
  });

  app.get<ReleaseParams>('/api/0/organizations/:org/releases/:version/previous-with-commits/', async (request) => {
    requireScope(principal(request), 'project:read');
    await requireOrg(ctx.db, principal(request), request.params.org);
    return {};
  });

  app.post<ReleaseParams>('/api/0/organizations/:org/releases/:version/deploys/', async (request, reply) => {
    requireReleaseWrite(principal(request));
    const org = await requireOrg(ctx.db, principal(request), request.params.org);
    const release = await findRelease(ctx.db, org, request.params.version);
    const b = body(request);
    const environment = b.environment;
    if (typeof environment !== 'string' || !environment || environment.length > 64 || /[\n\r/]/.test(environment)) {
      throw badRequest('Invalid environment', { environment: ['This field is required.'] });
    }
    if (b.projects !== undefined) await attachProjects(ctx.db, dialect, release.id, await resolveProjects(ctx.db, org, b.projects));
    const row = {
      organization_id: org.id,
      release_id: release.id,
      environment,
      name: optString(b.name, 'name', 255) ?? null,
      url: optString(b.url, 'url', 1024) ?? null,
      date_started: parseDate(b.dateStarted, 'dateStarted'),
      date_finished: parseDate(b.dateFinished, 'dateFinished') ?? Date.now(),
    };
    const id = await insertReturningId(ctx.db.insertInto('deploys').values(row), dialect);
    reply.code(201);
    return serializeDeploy({ id: id ?? 0, ...row });
  });

  app.get<ReleaseParams>('/api/0/organizations/:org/releases/:version/deploys/', async (request) => {
    requireScope(principal(request), 'project:read');
    const org = await requireOrg(ctx.db, principal(request), request.params.org);
    const release = await findRelease(ctx.db, org, request.params.version);
    const rows = await ctx.db.selectFrom('deploys').selectAll().where('release_id', '=', release.id).orderBy('date_finished', 'desc').limit(100).execute();
    return rows.map(serializeDeploy);
  });
}
