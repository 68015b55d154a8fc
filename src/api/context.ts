/** What API routes share: services, the public URL, and lookups that enforce tenancy. */
import type { Kysely } from 'kysely';
import type { Database, Group, Organization, Project } from '../db/index.js';
import type { Services } from '../services/index.js';
import type { Principal } from './auth.js';
import { assertOrgAccess, requireOrg } from './auth.js';
import { notFound } from './errors.js';

export interface ApiContext {
  services: Services;
  db: Kysely<Database>;
  baseUrl: string;
}

export async function loadProject(ctx: ApiContext, p: Principal, orgSlug: string, projectSlug: string): Promise<{ org: Organization; project: Project }> {
  const org = await requireOrg(ctx.db, p, orgSlug);
  const project = await ctx.db
    .selectFrom('projects')
    .selectAll()
    .where('organization_id', '=', org.id)
    .where('slug', '=', projectSlug)
    .executeTakeFirst();
  if (!project) throw notFound('The requested resource does not exist');
  return { org, project };
}

/** An issue the caller's organization owns; anything else is a 404, never a 403. */
export async function loadIssue(ctx: ApiContext, p: Principal, issueId: string): Promise<{ group: Group; project: Project; org: Organization }> {
  if (!/^\d{1,15}$/.test(issueId)) throw notFound();
  const row = await ctx.db
    .selectFrom('groups')
    .innerJoin('projects', 'projects.id', 'groups.project_id')
    .selectAll('groups')
    .select(['projects.organization_id as org_id'])
    .where('groups.id', '=', Number(issueId))
    .executeTakeFirst();
  if (!row) throw notFound();
  assertOrgAccess(p, row.org_id);
  const { org_id: _org, ...group } = row;
  const project = await ctx.db.selectFrom('projects').selectAll().where('id', '=', group.project_id).executeTakeFirstOrThrow();
  const org = await ctx.db.selectFrom('organizations').selectAll().where('id', '=', project.organization_id).executeTakeFirstOrThrow();
  return { group: group as Group, project, org };
}

export function projectRef(p: Project) {
  return { id: p.id, slug: p.slug, name: p.name, platform: p.platform };
}
