/**
 * Issue alert rules per project (Sentry's ProjectRulesEndpoint / ProjectRuleDetailsEndpoint):
 * `GET|POST /api/0/projects/{org}/{project}/rules/` and `GET|PUT|DELETE …/rules/{id}/`. Bodies and
 * replies use Sentry's shape (src/alerts/rules.ts); invalid components get a 400 naming the field.
 * Left out: Sentry's rule snooze, owner and "preview" endpoints.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ruleData, ruleInput, serializeRule } from '../../alerts/rules.js';
import { insertReturningId } from '../../db/sql.js';
import { requireScope, type Principal } from '../auth.js';
import { loadProject, type ApiContext } from '../context.js';
import { badRequest, notFound } from '../errors.js';
import { projectSettingsKey } from '../../pipeline/context.js';

type P = { org: string; project: string };

function parseRule(body: unknown) {
  const parsed = ruleInput.safeParse(body ?? {});
  if (!parsed.success) {
    const fields: Record<string, string[]> = {};
    for (const i of parsed.error.issues) (fields[String(i.path[0] ?? 'detail')] ??= []).push(`${i.path.join('.')}: ${i.message}`);
    throw badRequest(`Invalid rule: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`, fields);
  }
  return parsed.data;
}

export function ruleRoutes(app: FastifyInstance, ctx: ApiContext) {
  const principal = (r: FastifyRequest) => r.principal as Principal;
  const base = '/api/0/projects/:org/:project/rules';

  const loadRule = async (request: FastifyRequest<{ Params: P & { ruleId: string } }>) => {
    const { project } = await loadProject(ctx, principal(request), request.params.org, request.params.project);
    if (!/^\d{1,15}$/.test(request.params.ruleId)) throw notFound();
    const rule = await ctx.db.selectFrom('alert_rules').selectAll().where('id', '=', Number(request.params.ruleId)).where('project_id', '=', project.id).executeTakeFirst();
    if (!rule) throw notFound();
    return rule;
  };

  app.get<{ Params: P }>(`${base}/`, async (request) => {
    requireScope(principal(request), 'project:read');
    const { project } = await loadProject(ctx, principal(request), request.params.org, request.params.project);
    const rows = await ctx.db.selectFrom('alert_rules').selectAll().where('project_id', '=', project.id).orderBy('id').execute();
    return rows.map(serializeRule);
  });

  app.post<{ Params: P }>(`${base}/`, async (request, reply) => {
    requireScope(principal(request), 'project:write');
    const { project } = await loadProject(ctx, principal(request), request.params.org, request.params.project);
    const input = parseRule(request.body);
    const row = {
      project_id: project.id,
      label: input.name,
      environment: input.environment ?? null,
      data: JSON.stringify(ruleData(input)),
      created_by: principal(request).userId,
      date_added: Date.now(),
    };
    const id = (await insertReturningId(ctx.db.insertInto('alert_rules').values(row), ctx.services.database.dialect))!;
    await ctx.services.cache.delete(projectSettingsKey(project.id)); // its events now need post-processing
    return reply.code(201).send(serializeRule({ ...row, id }));
  });

  app.get<{ Params: P & { ruleId: string } }>(`${base}/:ruleId/`, async (request) => {
    requireScope(principal(request), 'project:read');
    return serializeRule(await loadRule(request));
  });

  app.put<{ Params: P & { ruleId: string } }>(`${base}/:ruleId/`, async (request) => {
    requireScope(principal(request), 'project:write');
    const rule = await loadRule(request);
    const input = parseRule(request.body);
    const set = { label: input.name, environment: input.environment ?? null, data: JSON.stringify(ruleData(input)) };
    await ctx.db.updateTable('alert_rules').set(set).where('id', '=', rule.id).execute();
    await ctx.services.cache.delete(projectSettingsKey(rule.project_id)); // workers read rules with the project's settings
    return serializeRule({ ...rule, ...set });
  });

  app.delete<{ Params: P & { ruleId: string } }>(`${base}/:ruleId/`, async (request, reply) => {
    requireScope(principal(request), 'project:write');
    const rule = await loadRule(request);
    await ctx.db.deleteFrom('alert_rules').where('id', '=', rule.id).execute();
    await ctx.db.deleteFrom('rule_group_status').where('rule_id', '=', rule.id).execute();
    await ctx.services.cache.delete(projectSettingsKey(rule.project_id));
    return reply.code(202).send();
  });
}
