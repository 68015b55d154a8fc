/**
 * Counts of an issue's saved events and distinct users since a moment, read from the events index
 * (by `received`, so late-arriving SDK timestamps still count when they arrive). Rules and snoozes
 * read these after the batch committed, so the triggering event is always included.
 *
 * They only ask whether a count reaches a threshold, so counting stops at `cap`: a hot issue's
 * "more than 100 in a week" reads 101 index entries, not a week of events. The index on
 * (group_id, received, user_tag) keeps each count to the window and off the table rows.
 */
import { sql, type Kysely } from 'kysely';
import type { Database } from '../db/index.js';
import { countUpTo } from '../db/sql.js';

/** The events received since `since` (Unix ms), counted up to `cap`. */
export function countEvents(db: Kysely<Database>, groupId: number, since: number, cap = Number.MAX_SAFE_INTEGER): Promise<number> {
  return countUpTo(db, db.selectFrom('events').select(sql<number>`1`.as('one')).where('group_id', '=', groupId).where('received', '>=', since), cap);
}

/** The distinct users of the events received since `since` (Unix ms), counted up to `cap`. */
export function countUsers(db: Kysely<Database>, groupId: number, since: number, cap = Number.MAX_SAFE_INTEGER): Promise<number> {
  const users = db.selectFrom('events').select('user_tag').distinct().where('group_id', '=', groupId).where('received', '>=', since).where('user_tag', 'is not', null);
  return countUpTo(db, users, cap);
}
