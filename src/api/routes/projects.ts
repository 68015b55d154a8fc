/** Organization and project routes, including project settings and client keys (DSNs). */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { parseFingerprintingRules, parseStacktraceRules } from '../../grouping/index.js';
import type { Project } from '../../db/index.js';
import { requireOrg, requireScope, type Principal } from '../auth.js';
import { loadProject, type ApiContext } from '../context.js';
import { badRequest } from '../errors.js';
import { projectSettingsKey } from '../../pipeline/context.js';
import { iso } from '../serializers/issue.js';
import { serializeProjectKey } from '../serializers/project-key.js';
import { serializeProjectOptions, updatedOptions } from '../project-options.js';

export function serializeProject(p: Project, orgSlug: string) {
  return {
    id: String(p.id),
    slug: p.slug,
    name: p.name,
    platform: p.platform,
    dateCreated: iso(p.date_created),
    isMember: true,
    hasAccess: true,
    status: 'active',
    organization: { slug: orgSlug },
    fingerprintingRules: p.fingerprinting_rules,
    groupingEnhancements: p.grouping_enhancements ?? '',
    groupingConfig: 'newstyle:2023-01-11',
    ...serializeProjectOptions(p.options),
  };
}

interface ProjectUpdate {
  name?: unknown;
  platform?: unknown;
  fingerprintingRules?: unknown;
  groupingEnhancements?: unknown;
}

export function projectRoutes(app: FastifyInstance, ctx: ApiContext) {
  const principal = (r: FastifyRequest) => r.principal as Principal;

  app.get('/api/0/organizations/', async (request) => {
    requireScope(principal(request), 'org:read');
    const org = await ctx.db.selectFrom('organizations').selectAll().where('id', 'in', [...principal(request).organizationIds]).orderBy('slug').execute();
    return org.map((o) => ({ id: String(o.id), slug: o.slug, name: o.name, dateCreated: iso(o.date_created) }));
  });

  app.get<{ Params: { org: string } }>('/api/0/organizations/:org/', async (request) => {
    requireScope(principal(request), 'org:read');
    const o = await requireOrg(ctx.db, principal(request), request.params.org);
    return { id: String(o.id), slug: o.slug, name: o.name, dateCreated: iso(o.date_created) };
  });

  app.get<{ Params: { org: string } }>('/api/0/organizations/:org/projects/', async (request) => {
    requireScope(principal(request), 'project:read');
    const o = await requireOrg(ctx.db, principal(request), request.params.org);
    const rows = await ctx.db.selectFrom('projects').selectAll().where('organization_id', '=', o.id).orderBy('slug').execute();
    return rows.map((p) => serializeProject(p, o.slug));
  });

  app.get<{ Params: { org: string; project: string } }>('/api/0/projects/:org/:project/', async (request) => {
    requireScope(principal(request), 'project:read');
    const { org, project } = await loadProject(ctx, principal(request), request.params.org, request.params.project);
    return serializeProject(project, org.slug);
  });

  app.put<{ Params: { org: string; project: string }; Body: ProjectUpdate }>('/api/0/projects/:org/:project/', async (request) => {
    requireScope(principal(request), 'project:write');
    const { org, project } = await loadProject(ctx, principal(request), request.params.org, request.params.project);
    const body = request.body ?? {};
    const changes: Partial<Project> = {};
    if (body.name !== undefined) {
      if (typeof body.name !== 'string' || !body.name.trim() || body.name.length > 200) throw badRequest('Invalid name', { name: ['Enter a valid name.'] });
      changes.name = body.name.trim();
    }
    if (body.platform !== undefined) {
      if (body.platform !== null && (typeof body.platform !== 'string' || body.platform.length > 64)) throw badRequest('Invalid platform');
      changes.platform = body.platform as string | null;
    }
    if (body.fingerprintingRules !== undefined) {
      const text = body.fingerprintingRules === null ? '' : body.fingerprintingRules;
      if (typeof text !== 'string' || text.length > 65_536) throw badRequest('Invalid fingerprintingRules', { fingerprintingRules: ['Expected a string.'] });
      try {
        parseFingerprintingRules(text);
      } catch (err) {
        throw badRequest(`Invalid syntax near ${(err as Error).message}`, { fingerprintingRules: [(err as Error).message] });
      }
      changes.fingerprinting_rules = text;
    }
    if (body.groupingEnhancements !== undefined) {
      const text = body.groupingEnhancements === null ? '' : body.groupingEnhancements;
      if (typeof text !== 'string' || text.length > 65_536) throw badRequest('Invalid groupingEnhancements', { groupingEnhancements: ['Expected a string.'] });
      try {
        parseStacktraceRules(text);
      } catch (err) {
        throw badRequest((err as Error).message, { groupingEnhancements: [(err as Error).message] });
      }
      changes.grouping_enhancements = text;
    }
    const options = updatedOptions(project.options, body as Record<string, unknown>);
    if (options !== null) changes.options = options;
    if (Object.keys(changes).length) {
      await ctx.db.updateTable('projects').set(changes).where('id', '=', project.id).execute();
      await ctx.services.cache.delete(projectSettingsKey(project.id));
    }
    const updated = await ctx.db.selectFrom('projects').selectAll().where('id', '=', project.id).executeTakeFirstOrThrow();
    return serializeProject(updated, org.slug);
  });

  app.get<{ Params: { org: string; project: string } }>('/api/0/projects/:org/:project/keys/', async (request) => {
    requireScope(principal(request), 'project:read');
    const { project } = await loadProject(ctx, principal(request), request.params.org, request.params.project);
    const keys = await ctx.db.selectFrom('project_keys').selectAll().where('project_id', '=', project.id).orderBy('id').execute();
    return keys.map((k) => serializeProjectKey(k, ctx.baseUrl));
  });
}
