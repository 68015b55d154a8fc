/**
 * Inbound filters, as Sentry's API has them: `GET /api/0/projects/{org}/{project}/filters/` lists
 * them and `PUT .../filters/{id}/` switches one (`{"active": true}`); the error-message filter is
 * set with `PUT .../filters/error-messages/` and `{"value": "pattern\npattern"}` (Sentry keeps it
 * in the project option `filters:error_messages`).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { INBOUND_FILTERS, parseProjectOptions, type InboundFilterId } from '../../db/models/project-options.js';
import { projectSettingsKey } from '../../pipeline/context.js';
import { requireScope, type Principal } from '../auth.js';
import { loadProject, type ApiContext } from '../context.js';
import { badRequest, notFound } from '../errors.js';

const DESCRIPTIONS: Record<InboundFilterId, string> = {
  'browser-extensions': 'Filter out errors known to be caused by browser extensions',
  localhost: 'Filter out events coming from localhost',
  'legacy-browsers': 'Filter out known errors from legacy browsers',
  'web-crawlers': 'Filter out known web crawlers',
};

export function filterRoutes(app: FastifyInstance, ctx: ApiContext) {
  const principal = (r: FastifyRequest) => r.principal as Principal;

  app.get<{ Params: { org: string; project: string } }>('/api/0/projects/:org/:project/filters/', async (request) => {
    requireScope(principal(request), 'project:read');
    const { project } = await loadProject(ctx, principal(request), request.params.org, request.params.project);
    const o = parseProjectOptions(project.options);
    return [
      ...INBOUND_FILTERS.map((id) => ({ id, active: o.filters[id], description: DESCRIPTIONS[id], name: id})),
      { id: 'error-messages', active: o.filters.errorMessages.length > 0, value: o.filters.errorMessages.join('\n'), description: 'Filter out errors whose message matches a pattern' },
    ];
  });

  app.put<{ Params: { org: string; project: string; filter: string }; Body: { active?: unknown; value?: unknown } }>(
    '/api/0/projects/:org/:project/filters/:filter/',
    async (request, reply) => {
      requireScope(principal(request), 'project:write');
      const { project } = await loadProject(ctx, principal(request), request.params.org, request.params.project);
      const o = parseProjectOptions(project.options);
      const id = request.params.filter;
      const body = request.body ?? {};
      if (id === 'error-messages') {
        const v = body.value;
        const list = typeof v === 'string' ? v.split('\n') : Array.isArray(v) ? v : null;
        if (!list || list.some((x) => typeof x !== 'string' || x.length > 200) || list.length > 200) throw badRequest('Invalid value', { value: ['Expected patterns, one per line.'] });
        o.filters.errorMessages = list.map((x: string) => x.trim()).filter(Boolean);
      } else if ((INBOUND_FILTERS as readonly string[]).includes(id)) {
        if (typeof body.active !== 'boolean') throw badRequest('Invalid active', { active: ['Must be a valid boolean.'] });
        o.filters[id as InboundFilterId] = body.active;
      } else {
        throw notFound('Unknown filter');
      }
      await ctx.db.updateTable('projects').set({ options: JSON.stringify(o) }).where('id', '=', project.id).execute();
      await ctx.services.cache.delete(projectSettingsKey(project.id));
      return reply.code(204).send();
    },
  );
}
