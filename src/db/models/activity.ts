/**
 * Issue activity (Sentry's `Activity` model): status changes, regressions, assignment, merges and
 * notes, newest first in the timeline. Types use Sentry's names (`ActivityType` in
 * sentry/types/activity.py) so the API reads the same. Left out: release/deploy activity.
 */
import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../schema.js';

export const ACTIVITY_TYPES = [
  'first_seen', 'set_resolved', 'set_resolved_in_release', 'set_resolved_in_next_release', 'set_ignored',
  'set_unresolved', 'set_regression', 'set_escalating', 'auto_set_ongoing', 'assigned', 'unassigned', 'merge',
  'unmerge_source', 'note',
] as const;
export type ActivityType = (typeof ACTIVITY_TYPES)[number];

export interface NewActivity {
  projectId: number;
  groupId: number;
  type: ActivityType;
  userId?: number | null;
  data?: Record<string, unknown>;
  at?: number;
}

type Db = Kysely<Database> | Transaction<Database>;

export async function recordActivity(db: Db, a: NewActivity | NewActivity[]): Promise<void> {
  const list = Array.isArray(a) ? a : [a];
  if (list.length === 0) return;
  await db
    .insertInto('activities')
    .values(list.map((x) => ({
      project_id: x.projectId,
      group_id: x.groupId,
      type: x.type,
      user_id: x.userId ?? null,
      data: JSON.stringify(x.data ?? {}),
      date_added: x.at ?? Date.now(),
    })))
    .execute();
}

/** Finds the `@mentions` in a note: `@email` or `@name` of members, as Sentry's mention parser does. */
export function parseMentions(text: string): string[] {
  return [...text.matchAll(/(?:^|\s)@([\w.+-]+(?:@[\w-]+(?:\.[\w-]+)*)?)/g)].map((m) => m[1].replace(/\.$/, '').toLowerCase());
}
