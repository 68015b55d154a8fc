/** Event routes: an issue's events (list, latest, oldest, one), and a project's events. */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { EventRow } from '../../db/index.js';
import { eventById } from '../../db/event-ids.js';
import type { NormalizedEvent } from '../../protocol/index.js';
import { getEventBodies } from '../../services/nodestore/index.js';
import { requireScope, type Principal } from '../auth.js';
import { loadIssue, loadProject, type ApiContext } from '../context.js';
import { notFound } from '../errors.js';
import { parseCursor, parseLimit, setLinkHeader } from '../pagination.js';
import { serializeEvent } from '../serializers/event.js';
import { iso } from '../serializers/issue.js';

type Q = Record<string, string | undefined>;

function summary(row: EventRow, body?: NormalizedEvent | null) {
  return {
    id: row.event_id,
    eventID: row.event_id,
    groupID: row.group_id === null ? null : String(row.group_id),
    projectID: String(row.project_id),
    title: row.title,
    message: row.message,
    platform: row.platform,
    'event.type': row.type,
    dateCreated: iso(row.timestamp),
    dateReceived: iso(row.received),
    tags: (body?.tags ?? []).map(([key, value]) => ({ key, value })),
    user: body?.user ?? null,
  };
}

/** Neighbours in the issue's timeline, by (timestamp, id). */
async function neighbours(ctx: ApiContext, row: EventRow) {
  if (row.group_id === null) return { previous: null, next: null };
  const prev = await ctx.db
    .selectFrom('events')
    .select('event_id')
    .where('group_id', '=', row.group_id)
    // The plain bound lets every database seek to the row in the index instead of walking to it.
    .where('timestamp', '<=', row.timestamp)
    .where((eb) => eb.or([eb('timestamp', '<', row.timestamp), eb.and([eb('timestamp', '=', row.timestamp), eb('id', '<', row.id)])]))
    .orderBy('timestamp', 'desc')
    .orderBy('id', 'desc')
    .limit(1)
    .executeTakeFirst();
  const next = await ctx.db
    .selectFrom('events')
    .select('event_id')
    .where('group_id', '=', row.group_id)
    .where('timestamp', '>=', row.timestamp)
    .where((eb) => eb.or([eb('timestamp', '>', row.timestamp), eb.and([eb('timestamp', '=', row.timestamp), eb('id', '>', row.id)])]))
    .orderBy('timestamp', 'asc')
    .orderBy('id', 'asc')
    .limit(1)
    .executeTakeFirst();
  return { previous: prev?.event_id ?? null, next: next?.event_id ?? null };
}

async function detailed(ctx: ApiContext, row: EventRow | undefined) {
  if (!row) throw notFound('Event not found');
  const [body] = (await getEventBodies(ctx.services.nodestore, [row])) as (NormalizedEvent | null)[];
  return serializeEvent(row, body, await neighbours(ctx, row));
}

/** One page of an issue's or a project's events, newest first, with Sentry's Link header; `full` gives whole events. */
async function eventPage(ctx: ApiContext, request: FastifyRequest, reply: FastifyReply, column: 'group_id' | 'project_id', id: number) {
  const q = request.query as Q;
  const limit = parseLimit(q.limit, 100);
  const offset = parseCursor(q.cursor);
  const rows = await ctx.db
    .selectFrom('events')
    .selectAll()
    .where(column, '=', id)
    .orderBy('timestamp', 'desc')
    .orderBy('id', 'desc')
    .limit(limit + 1)
    .offset(offset)
    .execute();
  setLinkHeader(request, reply, ctx.baseUrl, offset, limit, rows.length > limit);
  const page = rows.slice(0, limit);
  const bodies = (await getEventBodies(ctx.services.nodestore, page)) as (NormalizedEvent | null)[];
  const full = q.full === 'true' || q.full === '1';
  return page.map((r, i) => (full ? serializeEvent(r, bodies[i]) : summary(r, bodies[i])));
}

export function eventRoutes(app: FastifyInstance, ctx: ApiContext) {
  const principal = (r: FastifyRequest) => r.principal as Principal;

  for (const prefix of ['/api/0/issues/:id', '/api/0/organizations/:org/issues/:id']) {
    app.get<{ Params: { id: string } }>(`${prefix}/events/`, async (request, reply) => {
      requireScope(principal(request), 'event:read');
      const { group } = await loadIssue(ctx, principal(request), request.params.id);
      return eventPage(ctx, request, reply, 'group_id', group.id);
    });

    app.get<{ Params: { id: string; eventId: string } }>(`${prefix}/events/:eventId/`, async (request) => {
      requireScope(principal(request), 'event:read');
      const { group } = await loadIssue(ctx, principal(request), request.params.id);
      const which = request.params.eventId;
      const q = ctx.db.selectFrom('events').selectAll().where('group_id', '=', group.id);
      if (which === 'latest' || which === 'recommended') return detailed(ctx, await q.orderBy('timestamp', 'desc').orderBy('id', 'desc').limit(1).executeTakeFirst());
      if (which === 'oldest') return detailed(ctx, await q.orderBy('timestamp', 'asc').orderBy('id', 'asc').limit(1).executeTakeFirst());
      const row = await eventById(ctx.db, ctx.services.database.dialect, group.project_id, which.replace(/-/g, '').toLowerCase());
      return detailed(ctx, row?.group_id === group.id ? row : undefined);
    });
  }

  app.get<{ Params: { org: string; project: string } }>('/api/0/projects/:org/:project/events/', async (request, reply) => {
    requireScope(principal(request), 'event:read');
    const { project } = await loadProject(ctx, principal(request), request.params.org, request.params.project);
    return eventPage(ctx, request, reply, 'project_id', project.id);
  });

  app.get<{ Params: { org: string; project: string; eventId: string } }>('/api/0/projects/:org/:project/events/:eventId/', async (request) => {
    requireScope(principal(request), 'event:read');
    const { project } = await loadProject(ctx, principal(request), request.params.org, request.params.project);
    const id = request.params.eventId.replace(/-/g, '').toLowerCase();
    return detailed(ctx, await eventById(ctx.db, ctx.services.database.dialect, project.id, id));
  });
}
