/**
 * Teams, in Sentry's API shapes: an organization's teams (list, create, details, delete), their
 * members (`POST|DELETE /api/0/organizations/{org}/members/{member_id}/teams/{team}/`), and the
 * projects they own (`POST|DELETE /api/0/projects/{org}/{project}/teams/{team}/`). Teams are what
 * issues can be assigned to and alert mails can go to.
 * Left out: Sentry's closed membership (projects visible only to their teams' members); every
 * member of an organization sees all its projects, as with Sentry's default "open membership".
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { SLUG_RE } from '../../db/models/index.js';
import { insertIgnore, insertReturningId } from '../../db/sql.js';
import type { Organization, Team } from '../../db/index.js';
import { requireOrg, requireScope, type Principal } from '../auth.js';
import { loadProject, type ApiContext } from '../context.js';
import { ApiError, badRequest, notFound } from '../errors.js';
import { iso } from '../serializers/issue.js';

export async function loadTeam(ctx: ApiContext, org: Organization, slug: string): Promise<Team> {
  const team = await ctx.db.selectFrom('teams').selectAll().where('organization_id', '=', org.id).where('slug', '=', slug).executeTakeFirst();
  if (!team) throw notFound('The requested resource does not exist');
  return team;
}

async function serializeTeam(ctx: ApiContext, team: Team, userId: number | null) {
  const members = await ctx.db.selectFrom('team_members').select('user_id').where('team_id', '=', team.id).execute();
  const projects = await ctx.db
    .selectFrom('project_teams')
    .innerJoin('projects', 'projects.id', 'project_teams.project_id')
    .select(['projects.id', 'projects.slug', 'projects.name'])
    .where('project_teams.team_id', '=', team.id)
    .orderBy('projects.slug')
    .execute();
  return {
    id: String(team.id),
    slug: team.slug,
    name: team.name,
    dateCreated: iso(team.date_created),
    isMember: userId !== null && members.some((m) => m.user_id === userId),
    memberCount: members.length,
    projects: projects.map((p) => ({ id: String(p.id), slug: p.slug, name: p.name })),
  };
}

export function teamRoutes(app: FastifyInstance, ctx: ApiContext) {
  const principal = (r: FastifyRequest) => r.principal as Principal;

  app.get<{ Params: { org: string } }>('/api/0/organizations/:org/teams/', async (request) => {
    requireScope(principal(request), 'team:read');
    const org = await requireOrg(ctx.db, principal(request), request.params.org);
    const teams = await ctx.db.selectFrom('teams').selectAll().where('organization_id', '=', org.id).orderBy('slug').execute();
    return Promise.all(teams.map((t) => serializeTeam(ctx, t, principal(request).userId)));
  });

  app.post<{ Params: { org: string }; Body: { name?: unknown; slug?: unknown } }>('/api/0/organizations/:org/teams/', async (request, reply) => {
    requireScope(principal(request), 'team:write');
    const org = await requireOrg(ctx.db, principal(request), request.params.org);
    const body = request.body ?? {};
    const name = typeof body.name === 'string' && body.name.trim() ? body.name.trim().slice(0, 200) : null;
    const slug = typeof body.slug === 'string' && body.slug ? body.slug : name?.toLowerCase().replace(/[^a-z0-9_-]+/g, '-').replace(/^-+|-+$/g, '');
    if (!slug || !SLUG_RE.test(slug)) throw badRequest('Invalid slug', { slug: ['Use lowercase letters, digits, - and _ (at most 50).'] });
    const exists = await ctx.db.selectFrom('teams').select('id').where('organization_id', '=', org.id).where('slug', '=', slug).executeTakeFirst();
    if (exists) throw new ApiError(409, 'A team with this slug already exists.', { slug: ['A team with this slug already exists.'] });
    const id = await insertReturningId(
      ctx.db.insertInto('teams').values({ organization_id: org.id, slug, name: name ?? slug, date_created: Date.now() }),
      ctx.services.database.dialect,
    );
    const team = await ctx.db.selectFrom('teams').selectAll().where('id', '=', id!).executeTakeFirstOrThrow();
    return reply.code(201).send(await serializeTeam(ctx, team, principal(request).userId));
  });

  app.get<{ Params: { org: string; team: string } }>('/api/0/teams/:org/:team/', async (request) => {
    requireScope(principal(request), 'team:read');
    const org = await requireOrg(ctx.db, principal(request), request.params.org);
    return serializeTeam(ctx, await loadTeam(ctx, org, request.params.team), principal(request).userId);
  });

  app.delete<{ Params: { org: string; team: string } }>('/api/0/teams/:org/:team/', async (request, reply) => {
    requireScope(principal(request), 'team:admin');
    const org = await requireOrg(ctx.db, principal(request), request.params.org);
    const team = await loadTeam(ctx, org, request.params.team);
    await ctx.db.transaction().execute(async (trx) => {
      await trx.deleteFrom('project_teams').where('team_id', '=', team.id).execute();
      await trx.deleteFrom('team_members').where('team_id', '=', team.id).execute();
      await trx.deleteFrom('teams').where('id', '=', team.id).execute();
    });
    return reply.code(204).send();
  });

  app.get<{ Params: { org: string; team: string } }>('/api/0/teams/:org/:team/projects/', async (request) => {
    requireScope(principal(request), 'project:read');
    const org = await requireOrg(ctx.db, principal(request), request.params.org);
    return (await serializeTeam(ctx, await loadTeam(ctx, org, request.params.team), null)).projects;
  });

  // Project ↔ team.
  for (const method of ['post', 'delete'] as const) {
    app[method]<{ Params: { org: string; project: string; team: string } }>('/api/0/projects/:org/:project/teams/:team/', async (request, reply) => {
      requireScope(principal(request), 'project:write');
      const { org, project } = await loadProject(ctx, principal(request), request.params.org, request.params.project);
      const team = await loadTeam(ctx, org, request.params.team);
      if (method === 'post') {
        await insertIgnore(ctx.db.insertInto('project_teams').values({ project_id: project.id, team_id: team.id }), ctx.services.database.dialect, ['project_id', 'team_id']).execute();
        return reply.code(201).send(await serializeTeam(ctx, team, principal(request).userId));
      }
      await ctx.db.deleteFrom('project_teams').where('project_id', '=', project.id).where('team_id', '=', team.id).execute();
      return reply.code(204).send();
    });
  }

  app.get<{ Params: { org: string; project: string } }>('/api/0/projects/:org/:project/teams/', async (request) => {
    requireScope(principal(request), 'project:read');
    const { project } = await loadProject(ctx, principal(request), request.params.org, request.params.project);
    const teams = await ctx.db
      .selectFrom('teams')
      .innerJoin('project_teams', 'project_teams.team_id', 'teams.id')
      .selectAll('teams')
      .where('project_teams.project_id', '=', project.id)
      .orderBy('teams.slug')
      .execute();
    return Promise.all(teams.map((t) => serializeTeam(ctx, t, principal(request).userId)));
  });

  // Members of the organization, and their teams.
  app.get<{ Params: { org: string } }>('/api/0/organizations/:org/members/', async (request) => {
    requireScope(principal(request), 'member:read');
    const org = await requireOrg(ctx.db, principal(request), request.params.org);
    const rows = await ctx.db
      .selectFrom('organization_members')
      .innerJoin('users', 'users.id', 'organization_members.user_id')
      .select(['organization_members.id', 'organization_members.role', 'organization_members.date_created', 'users.id as user_id', 'users.email', 'users.name'])
      .where('organization_members.organization_id', '=', org.id)
      .orderBy('users.email')
      .execute();
    return rows.map((m) => ({
      id: String(m.id),
      email: m.email,
      name: m.name || m.email,
      role: m.role,
      orgRole: m.role,
      dateCreated: iso(m.date_created),
      user: { id: String(m.user_id), email: m.email, name: m.name || m.email },
    }));
  });

  for (const method of ['post', 'delete'] as const) {
    app[method]<{ Params: { org: string; member: string; team: string } }>('/api/0/organizations/:org/members/:member/teams/:team/', async (request, reply) => {
      requireScope(principal(request), 'member:write');
      const org = await requireOrg(ctx.db, principal(request), request.params.org);
      const member = /^\d{1,15}$/.test(request.params.member)
        ? await ctx.db.selectFrom('organization_members').selectAll().where('organization_id', '=', org.id).where('id', '=', Number(request.params.member)).executeTakeFirst()
        : undefined;
      if (!member) throw notFound('The requested resource does not exist');
      const team = await loadTeam(ctx, org, request.params.team);
      if (method === 'post') {
        await insertIgnore(ctx.db.insertInto('team_members').values({ team_id: team.id, user_id: member.user_id }), ctx.services.database.dialect, ['team_id', 'user_id']).execute();
        return reply.code(201).send(await serializeTeam(ctx, team, principal(request).userId));
      }
      await ctx.db.deleteFrom('team_members').where('team_id', '=', team.id).where('user_id', '=', member.user_id).execute();
      return reply.code(204).send();
    });
  }
}
