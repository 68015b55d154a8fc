/**
 * Creating projects and managing their client keys (DSNs), in Sentry's shapes:
 * `POST /api/0/organizations/{org}/projects/` (and Sentry's `POST /api/0/teams/{org}/{team}/projects/`,
 * where the team is accepted and ignored: Faultline has no teams yet),
 * `POST /api/0/projects/{org}/{project}/keys/`, `PUT` / `DELETE …/keys/{key_id}/`.
 *
 * Key rotation is two calls, as in Sentry: create a key, then disable the old one (`isActive:
 * false`). A disabled key's events are refused at ingest after the key cache's TTL (10 s; at once
 * in this process, whose cache entry is dropped here). Out of scope: project deletion, transfer,
 * per-key rate limits.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ProjectKey } from '../../db/index.js';
import { createProject, createProjectKey, ModelError, SLUG_RE } from '../../db/models/index.js';
import { requireOrg, requireScope, type Principal } from '../auth.js';
import { loadProject, type ApiContext } from '../context.js';
import { ApiError, badRequest, notFound } from '../errors.js';
import { serializeProjectKey } from '../serializers/project-key.js';
import { loadTeam } from './teams.js';
import { serializeProject } from './projects.js';

interface NewProject {
  name?: unknown;
  slug?: unknown;
  platform?: unknown;
}

interface KeyChange {
  name?: unknown;
  isActive?: unknown;
  rateLimit?: unknown;
}

/** Sentry's slugify: lowercase, runs of other characters become one dash. */
export function slugify(name: string): string {
  return name.toLowerCase().normalize('NFKD').replace(/[^a-z0-9_-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 50);
}

function keyName(raw: unknown, fallback: string): string {
  if (raw === undefined || raw === null || raw === '') return fallback;
  if (typeof raw !== 'string' || raw.length > 200) throw badRequest('Invalid name', { name: ['Enter a name of at most 200 characters.'] });
  return raw.trim() || fallback;
}

export function projectAdminRoutes(app: FastifyInstance, ctx: ApiContext) {
  const principal = (r: FastifyRequest) => r.principal as Principal;

  const create = async (request: FastifyRequest<{ Params: { org: string }; Body: NewProject }>, reply: any) => {
    requireScope(principal(request), 'project:write');
    const org = await requireOrg(ctx.db, principal(request), request.params.org);
    const body = request.body ?? {};
    if (typeof body.name !== 'string' || !body.name.trim() || body.name.length > 200) {
      throw badRequest('Invalid name', { name: ['Enter a project name.'] });
    }
    const slug = body.slug === undefined || body.slug === null || body.slug === '' ? slugify(body.name) : body.slug;
    if (typeof slug !== 'string' || !SLUG_RE.test(slug)) {
      throw badRequest('Invalid slug', { slug: ['Use lowercase letters, digits, - and _ (at most 50).'] });
    }
    if (body.platform !== undefined && body.platform !== null && (typeof body.platform !== 'string' || body.platform.length > 64)) {
      throw badRequest('Invalid platform', { platform: ['Expected a platform name such as "javascript" or "python".'] });
    }
    const teamSlug = (request.params as { team?: string }).team;
    // Sentry's team route: the new project is owned by that team (checked before anything is made).
    const team = teamSlug ? await loadTeam(ctx, org, teamSlug) : null;
    try {
      const project = await createProject(ctx.db, org.id, slug, { name: body.name.trim(), platform: (body.platform as string | undefined) ?? null });
      await createProjectKey(ctx.db, project.id);
      if (team) await ctx.db.insertInto('project_teams').values({ project_id: project.id, team_id: team.id }).execute();
      return reply.code(201).send(serializeProject(project, org.slug));
    } catch (err) {
      if (err instanceof ModelError) throw new ApiError(409, 'A project with this slug already exists.', { slug: [err.message] });
      throw err;
    }
  };

  app.post<{ Params: { org: string }; Body: NewProject }>('/api/0/organizations/:org/projects/', create);
  app.post<{ Params: { org: string; team: string }; Body: NewProject }>('/api/0/teams/:org/:team/projects/', create);

  async function loadKey(request: FastifyRequest<{ Params: { org: string; project: string; keyId: string } }>): Promise<ProjectKey> {
    const { project } = await loadProject(ctx, principal(request), request.params.org, request.params.project);
    const key = await ctx.db
      .selectFrom('project_keys')
      .selectAll()
      .where('project_id', '=', project.id)
      .where('public_key', '=', request.params.keyId)
      .executeTakeFirst();
    if (!key) throw notFound('The requested resource does not exist');
    return key;
  }

  app.post<{ Params: { org: string; project: string }; Body: KeyChange }>('/api/0/projects/:org/:project/keys/', async (request, reply) => {
    requireScope(principal(request), 'project:write');
    const { project } = await loadProject(ctx, principal(request), request.params.org, request.params.project);
    const key = await createProjectKey(ctx.db, project.id, keyName(request.body?.name, 'Default'));
    return reply.code(201).send(serializeProjectKey(key, ctx.baseUrl));
  });

  app.put<{ Params: { org: string; project: string; keyId: string }; Body: KeyChange }>('/api/0/projects/:org/:project/keys/:keyId/', async (request) => {
    requireScope(principal(request), 'project:write');
    const key = await loadKey(request);
    const body = request.body ?? {};
    const changes: Partial<ProjectKey> = {};
    if (body.name !== undefined) changes.label = keyName(body.name, key.label);
    if (body.rateLimit !== undefined) {
      // Sentry's key rate limit: {"window": seconds, "count": events}; null removes it.
      const rl = body.rateLimit as { window?: unknown; count?: unknown } | null;
      if (rl === null) {
        changes.rate_limit_count = null;
        changes.rate_limit_window = null;
      } else if (
        typeof rl === 'object' &&
        Number.isInteger(rl.window) && (rl.window as number) > 0 && (rl.window as number) <= 86_400 &&
        Number.isInteger(rl.count) && (rl.count as number) >= 0
      ) {
        changes.rate_limit_count = rl.count as number;
        changes.rate_limit_window = rl.window as number;
      } else {
        throw badRequest('Invalid rateLimit', { rateLimit: ['Expected {"window": 1..86400 seconds, "count": events} or null.'] });
      }
    }
    if (body.isActive !== undefined) {
      if (typeof body.isActive !== 'boolean') throw badRequest('Invalid isActive', { isActive: ['Must be a valid boolean.'] });
      changes.is_active = body.isActive ? 1 : 0;
    }
    if (Object.keys(changes).length) {
      await ctx.db.updateTable('project_keys').set(changes).where('id', '=', key.id).execute();
      ctx.services.cache.delete(`pk:${key.public_key}`);
    }
    const updated = await ctx.db.selectFrom('project_keys').selectAll().where('id', '=', key.id).executeTakeFirstOrThrow();
    return serializeProjectKey(updated, ctx.baseUrl);
  });

  app.delete<{ Params: { org: string; project: string; keyId: string } }>('/api/0/projects/:org/:project/keys/:keyId/', async (request, reply) => {
    requireScope(principal(request), 'project:admin');
    const key = await loadKey(request);
    await ctx.db.deleteFrom('project_keys').where('id', '=', key.id).execute();
    ctx.services.cache.delete(`pk:${key.public_key}`);
    return reply.code(204).send();
  });
}
