/**
 * Issue activity and notes: `GET /issues/{id}/activities/` (Sentry's GroupActivitiesEndpoint,
 * newest first, with the synthesized `first_seen` entry Sentry's issue details append) and notes
 * through `POST /issues/{id}/comments/` ({text}), `PUT|DELETE /issues/{id}/comments/{noteId}/`.
 * `@email` or `@name` mentions of organization members subscribe them to the issue, as Sentry's
 * mention handling does. Only a note's author may edit or delete it.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Group } from '../../db/index.js';
import { parseMentions, recordActivity } from '../../db/models/activity.js';
import { upsert } from '../../db/sql.js';
import { requireScope, type Principal } from '../auth.js';
import { loadIssue, type ApiContext } from '../context.js';
import { ApiError, badRequest, notFound } from '../errors.js';

const iso = (ms: number | string) => new Date(Number(ms)).toISOString();

export async function serializeActivities(ctx: ApiContext, group: Group, limit = 100) {
  const rows = await ctx.db
    .selectFrom('activities')
    .leftJoin('users', 'users.id', 'activities.user_id')
    .select(['activities.id', 'activities.type', 'activities.data', 'activities.date_added', 'activities.user_id', 'users.email', 'users.name'])
    .where('activities.group_id', '=', group.id)
    .orderBy('activities.date_added', 'desc')
    .orderBy('activities.id', 'desc')
    .limit(limit)
    .execute();
  const out = rows.map((r) => ({
    id: String(r.id),
    type: r.type,
    data: JSON.parse(r.data),
    dateCreated: iso(r.date_added),
    user: r.user_id === null ? null : { id: String(r.user_id), name: r.name || r.email, email: r.email },
  }));
  out.push({ id: '0', type: 'first_seen', data: {}, dateCreated: iso(group.first_seen), user: null });
  return out;
}

export function activityRoutes(app: FastifyInstance, ctx: ApiContext) {
  const principal = (r: FastifyRequest) => r.principal as Principal;

  for (const prefix of ['/api/0/issues/:id', '/api/0/organizations/:org/issues/:id']) {
    app.get<{ Params: { id: string } }>(`${prefix}/activities/`, async (request) => {
      requireScope(principal(request), 'event:read');
      const { group } = await loadIssue(ctx, principal(request), request.params.id);
      return { activity: await serializeActivities(ctx, group, 1000) };
    });

    app.post<{ Params: { id: string }; Body: { text?: unknown } }>(`${prefix}/comments/`, async (request, reply) => {
      requireScope(principal(request), 'event:write');
      const { group, org } = await loadIssue(ctx, principal(request), request.params.id);
      const text = typeof request.body?.text === 'string' ? request.body.text.trim() : '';
      if (!text) throw badRequest('A note needs text', { text: ['This field is required.'] });
      const names = parseMentions(text);
      const mentioned = names.length
        ? await ctx.db
            .selectFrom('users')
            .innerJoin('organization_members as om', 'om.user_id', 'users.id')
            .select('users.id')
            .where('om.organization_id', '=', org.id)
            .where((eb) => eb.or([eb('users.email', 'in', names), eb('users.name', 'in', names)]))
            .execute()
        : [];
      const userId = principal(request).userId;
      for (const u of [...mentioned.map((m) => m.id), ...(userId === null ? [] : [userId])]) {
        await upsert(ctx.db.insertInto('group_subscriptions').values({ group_id: group.id, user_id: u, is_active: 1, date_added: Date.now() }), ctx.services.database.dialect, 'group_subscriptions', ['group_id', 'user_id'], { is_active: 'replace' }).execute();
      }
      await recordActivity(ctx.db, { projectId: group.project_id, groupId: group.id, type: 'note', userId, data: { text, mentions: mentioned.map((m) => String(m.id)) } });
      const [note] = (await serializeActivities(ctx, group, 1)).filter((a) => a.type === 'note');
      return reply.code(201).send(note);
    });

    const loadNote = async (request: FastifyRequest<{ Params: { id: string; noteId: string } }>) => {
      const { group } = await loadIssue(ctx, principal(request), request.params.id);
      if (!/^\d{1,15}$/.test(request.params.noteId)) throw notFound();
      const note = await ctx.db.selectFrom('activities').selectAll().where('id', '=', Number(request.params.noteId)).where('group_id', '=', group.id).where('type', '=', 'note').executeTakeFirst();
      if (!note) throw notFound();
      if (note.user_id !== null && note.user_id !== principal(request).userId) throw new ApiError(403, 'Only the author may change a note.');
      return { group, note };
    };

    app.put<{ Params: { id: string; noteId: string }; Body: { text?: unknown } }>(`${prefix}/comments/:noteId/`, async (request) => {
      requireScope(principal(request), 'event:write');
      const { group, note } = await loadNote(request);
      const text = typeof request.body?.text === 'string' ? request.body.text.trim() : '';
      if (!text) throw badRequest('A note needs text', { text: ['This field is required.'] });
      await ctx.db.updateTable('activities').set({ data: JSON.stringify({ ...JSON.parse(note.data), text }) }).where('id', '=', note.id).execute();
      return (await serializeActivities(ctx, group, 1000)).find((a) => a.id === String(note.id));
    });

    app.delete<{ Params: { id: string; noteId: string } }>(`${prefix}/comments/:noteId/`, async (request, reply) => {
      requireScope(principal(request), 'event:write');
      const { note } = await loadNote(request);
      await ctx.db.deleteFrom('activities').where('id', '=', note.id).execute();
      return reply.code(204).send();
    });
  }
}
