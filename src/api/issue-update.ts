/**
 * The body of `PUT /issues/{id}/` and the bulk `PUT …/issues/?id=` (protocol.md §8.1), as Sentry's
 * `update_groups` reads it: `status` (resolved, resolvedInNextRelease, unresolved, ignored) with
 * `statusDetails` (inRelease, inNextRelease, ignoreDuration, ignoreCount + ignoreWindow,
 * ignoreUserCount + ignoreUserWindow, ignoreUntil), `assignedTo` ("user:ID", "team:ID", an email
 * or a username; "" or null unassigns), `isBookmarked`, `isSubscribed`, `hasSeen`. Each change
 * writes Sentry's activity type. Merge and discard are handled by the routes (issue-merge.ts).
 * Left out: `inCommit`, `isPublic` (always false) and `hasSeen` tracking.
 */
import type { Kysely } from 'kysely';
import type { Database, Group } from '../db/index.js';
import { recordActivity, type NewActivity } from '../db/models/activity.js';
import { upsert } from '../db/sql.js';
import type { Principal } from './auth.js';
import type { ApiContext } from './context.js';
import { badRequest } from './errors.js';

export interface IssueUpdate {
  status?: string;
  statusDetails?: Record<string, unknown>;
  ignoreDuration?: number;
  assignedTo?: string | null;
  isBookmarked?: boolean;
  isSubscribed?: boolean;
  hasSeen?: boolean;
  merge?: boolean | number | string;
  discard?: boolean;
}

const posInt = (v: unknown, name: string): number | null => {
  if (v === undefined || v === null || v === '') return null;
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw badRequest(`Invalid ${name}: ${String(v)}`, { [name]: ['A positive integer is required.'] });
  return n;
};

async function latestRelease(db: Kysely<Database>, projectId: number): Promise<string | null> {
  const r = await db
    .selectFrom('releases')
    .innerJoin('release_projects', 'release_projects.release_id', 'releases.id')
    .select('releases.version')
    .where('release_projects.project_id', '=', projectId)
    .orderBy('releases.date_created', 'desc')
    .orderBy('releases.id', 'desc')
    .limit(1)
    .executeTakeFirst();
  return r?.version ?? null;
}

interface Resolved {
  assignee: { user_id: number | null; team_id: number | null } | null;
  label: string;
}

/** "user:1", "team:2", an email or a username (here: the email or the name) of the organization. */
async function resolveAssignee(db: Kysely<Database>, orgId: number, v: string | null): Promise<Resolved> {
  if (v === null || v === '') return { assignee: null, label: '' };
  const team = /^team:(\d+)$/.exec(v);
  if (team) {
    const t = await db.selectFrom('teams').select(['id', 'slug']).where('id', '=', Number(team[1])).where('organization_id', '=', orgId).executeTakeFirst();
    if (!t) throw badRequest(`Unknown team: ${v}`, { assignedTo: ['Unknown actor input'] });
    return { assignee: { user_id: null, team_id: t.id }, label: t.slug };
  }
  const user = /^user:(\d+)$/.exec(v) ?? /^(\d+)$/.exec(v);
  let q = db.selectFrom('users').innerJoin('organization_members as om', 'om.user_id', 'users.id').select(['users.id', 'users.email']).where('om.organization_id', '=', orgId);
  q = user ? q.where('users.id', '=', Number(user[1])) : q.where((eb) => eb.or([eb('users.email', '=', v.toLowerCase()), eb('users.name', '=', v)]));
  const u = await q.executeTakeFirst();
  if (!u) throw badRequest(`Unknown user: ${v}`, { assignedTo: ['Unknown actor input'] });
  return { assignee: { user_id: u.id, team_id: null }, label: u.email };
}

async function setFlag(ctx: ApiContext, table: 'group_bookmarks' | 'group_subscriptions', ids: number[], userId: number | null, on: boolean) {
  if (userId === null) throw badRequest('Bookmarks and subscriptions need a user: use a session or a token created with --user');
  for (const id of ids) {
    await upsert(ctx.db.insertInto(table).values({ group_id: id, user_id: userId, is_active: on ? 1 : 0, date_added: Date.now() }), ctx.services.database.dialect, table, ['group_id', 'user_id'], {
      is_active: 'replace',
    }).execute();
  }
}

/** Applies a status / assignment / flag change to issues of one organization; returns Sentry's bulk reply. */
export async function applyIssueUpdate(ctx: ApiContext, p: Principal, orgId: number, groups: Group[], body: IssueUpdate): Promise<Record<string, unknown>> {
  const db = ctx.db;
  const ids = groups.map((g) => g.id);
  const now = Date.now();
  const actor = p.userId === null ? null : { id: String(p.userId) };
  const activities: NewActivity[] = [];
  const reply: Record<string, unknown> = {};
  const each = (type: NewActivity['type'], data: Record<string, unknown> = {}) =>
    groups.forEach((g) => activities.push({ projectId: g.project_id, groupId: g.id, type, userId: p.userId, data }));
  const d = body.statusDetails ?? {};

  if (body.status !== undefined && ids.length) {
    const status = body.status === 'resolvedInNextRelease' || (body.status === 'resolved' && d.inNextRelease) ? 'inNextRelease' : body.status;
    await db.deleteFrom('group_snoozes').where('group_id', 'in', ids).execute();
    await db.deleteFrom('group_resolutions').where('group_id', 'in', ids).execute();
    let details: Record<string, unknown> = {};
    let set: Partial<Group>;
    if (status === 'resolved' || status === 'inNextRelease') {
      set = { status: 'resolved', substatus: null, resolved_at: now };
      for (const g of groups) {
        // "latest" means the project's newest release, as in Sentry's resolve menu.
        let version = status === 'inNextRelease' ? await latestRelease(db, g.project_id) : typeof d.inRelease === 'string' ? d.inRelease : null;
        if (version === 'latest') version = await latestRelease(db, g.project_id);
        if (status === 'inNextRelease' || version !== null) {
          await db.insertInto('group_resolutions').values({ group_id: g.id, type: status === 'inNextRelease' ? 'in_next_release' : 'in_release', release: version, date_added: now }).execute();
        }
        details = status === 'inNextRelease' ? { inNextRelease: true, actor } : version !== null ? { inRelease: version, actor } : {};
        activities.push({ projectId: g.project_id, groupId: g.id, type: status === 'resolved' && version === null ? 'set_resolved' : 'set_resolved_in_release', userId: p.userId, data: version !== null && status === 'resolved' ? { version } : { version: '' } });
      }
    } else if (status === 'unresolved') {
      set = { status: 'unresolved', substatus: 'ongoing', resolved_at: null };
      each('set_unresolved');
    } else if (status === 'ignored' || status === 'muted') {
      const duration = posInt(d.ignoreDuration ?? body.ignoreDuration, 'ignoreDuration');
      const until = duration !== null ? now + duration * 60_000 : typeof d.ignoreUntil === 'string' ? Date.parse(d.ignoreUntil) || null : null;
      const snooze = {
        until,
        count: posInt(d.ignoreCount, 'ignoreCount'),
        window: posInt(d.ignoreWindow, 'ignoreWindow'),
        user_count: posInt(d.ignoreUserCount, 'ignoreUserCount'),
        user_window: posInt(d.ignoreUserWindow, 'ignoreUserWindow'),
      };
      const conditional = snooze.until !== null || snooze.count !== null || snooze.user_count !== null;
      if (conditional) await db.insertInto('group_snoozes').values(ids.map((group_id) => ({ group_id, ...snooze, date_added: now }))).execute();
      details = conditional
        ? { ignoreUntil: until === null ? null : new Date(until).toISOString(), ignoreCount: snooze.count, ignoreWindow: snooze.window, ignoreUserCount: snooze.user_count, ignoreUserWindow: snooze.user_window, actor }
        : {};
      set = { status: 'ignored', substatus: conditional ? 'archived_until_condition_met' : 'archived_forever', resolved_at: null };
      each('set_ignored', { ignoreDuration: duration, ignoreCount: snooze.count, ignoreWindow: snooze.window, ignoreUserCount: snooze.user_count, ignoreUserWindow: snooze.user_window });
    } else {
      throw badRequest(`Invalid status: ${String(body.status)}`, { status: ['"' + String(body.status) + '" is not a valid choice.'] });
    }
    await db.updateTable('groups').set({ ...set, status_details: JSON.stringify(details) }).where('id', 'in', ids).execute();
    Object.assign(reply, { status: set.status === 'resolved' ? 'resolved' : set.status, statusDetails: details, substatus: set.substatus });
  }

  if (body.assignedTo !== undefined) {
    const { assignee, label } = await resolveAssignee(db, orgId, body.assignedTo);
    await db.deleteFrom('group_assignees').where('group_id', 'in', ids).execute();
    if (assignee) {
      await db.insertInto('group_assignees').values(ids.map((group_id) => ({ group_id, ...assignee, date_added: now }))).execute();
      each('assigned', { assignee: String(assignee.user_id ?? assignee.team_id), assigneeType: assignee.user_id !== null ? 'user' : 'team', assigneeEmail: assignee.user_id !== null ? label : null });
      // Sentry subscribes the assignee to the issue's workflow notifications.
      if (assignee.user_id !== null) await setFlag(ctx, 'group_subscriptions', ids, assignee.user_id, true);
    } else {
      each('unassigned');
    }
    reply.assignedTo = assignee ? { type: assignee.user_id !== null ? 'user' : 'team', id: String(assignee.user_id ?? assignee.team_id), name: label } : null;
  }
  if (body.isBookmarked !== undefined) {
    await setFlag(ctx, 'group_bookmarks', ids, p.userId, Boolean(body.isBookmarked));
    reply.isBookmarked = Boolean(body.isBookmarked);
  }
  if (body.isSubscribed !== undefined) {
    await setFlag(ctx, 'group_subscriptions', ids, p.userId, Boolean(body.isSubscribed));
    reply.isSubscribed = Boolean(body.isSubscribed);
  }
  if (body.hasSeen !== undefined) reply.hasSeen = Boolean(body.hasSeen);
  await recordActivity(db, activities);
  return { isPublic: false, ...reply };
}
