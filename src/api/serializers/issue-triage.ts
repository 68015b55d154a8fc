/**
 * The per-viewer and triage fields of an Issue (Sentry's GroupSerializer attrs): `assignedTo`
 * (`{type: 'user'|'team', id, name, email?}`), `isBookmarked` and `isSubscribed` for the caller,
 * and `numComments`, loaded for a page of issues in a few queries.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../../db/index.js';

export interface Assignee {
  type: 'user' | 'team';
  id: string;
  name: string;
  email?: string;
}

export interface IssueTriage {
  assignedTo: Assignee | null;
  isBookmarked: boolean;
  isSubscribed: boolean;
  numComments: number;
}

export async function loadTriage(db: Kysely<Database>, groupIds: number[], userId: number | null): Promise<Map<number, IssueTriage>> {
  const out = new Map<number, IssueTriage>();
  for (const id of groupIds) out.set(id, { assignedTo: null, isBookmarked: false, isSubscribed: false, numComments: 0 });
  if (groupIds.length === 0) return out;
  const assignees = await db
    .selectFrom('group_assignees')
    .leftJoin('users', 'users.id', 'group_assignees.user_id')
    .leftJoin('teams', 'teams.id', 'group_assignees.team_id')
    .select(['group_assignees.group_id', 'group_assignees.user_id', 'group_assignees.team_id', 'users.email', 'users.name as user_name', 'teams.slug as team_slug'])
    .where('group_assignees.group_id', 'in', groupIds)
    .execute();
  for (const a of assignees) {
    out.get(a.group_id)!.assignedTo = a.user_id !== null
      ? { type: 'user', id: String(a.user_id), name: a.user_name || a.email || '', email: a.email ?? undefined }
      : { type: 'team', id: String(a.team_id), name: a.team_slug ?? '' };
  }
  const comments = await db
    .selectFrom('activities')
    .select(['group_id', (eb) => eb.fn.countAll<number>().as('n')])
    .where('group_id', 'in', groupIds)
    .where('type', '=', 'note')
    .groupBy('group_id')
    .execute();
  for (const c of comments) out.get(c.group_id)!.numComments = Number(c.n);
  if (userId !== null) {
    for (const [table, field] of [['group_bookmarks', 'isBookmarked'], ['group_subscriptions', 'isSubscribed']] as const) {
      const rows = await db.selectFrom(table).select('group_id').where('user_id', '=', userId).where('is_active', '=', 1).where('group_id', 'in', groupIds).execute();
      for (const r of rows) out.get(r.group_id)![field] = true;
    }
  }
  return out;
}
