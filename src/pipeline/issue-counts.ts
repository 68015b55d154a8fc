/**
 * Counts of an issue's saved events and distinct users since a moment, by the events' timestamps
 * as Sentry counts them (its frequency conditions and snoozes sum events by their time, so an
 * event that arrives late counts in the window it happened in). Rules and snoozes read these after
 * the batch committed.
 *
 * They only ask whether a count reaches a threshold, so counting stops at `cap`: a hot issue's
 * "more than 100 in a week" reads 101 index entries, not a week of events. The index on
 * (group_id, timestamp, id, user_tag) keeps each count to the window and off the table rows.
 */
import { sql, type Kysely } from 'kysely';
import type { Database } from '../db/index.js';
import { countUpTo } from '../db/sql.js';

/** The events since `since` (Unix ms), counted up to `cap`. */
export function countEvents(db: Kysely<Database>, groupId: number, since: number, cap = Number.MAX_SAFE_INTEGER): Promise<number> {
  return countUpTo(db, db.selectFrom('events').select(sql<number>`1`.as('one')).where('group_id', '=', groupId).where('timestamp', '>=', since), cap);
}

/** The distinct users of the events since `since` (Unix ms), counted up to `cap`. */
export function countUsers(db: Kysely<Database>, groupId: number, since: number, cap = Number.MAX_SAFE_INTEGER): Promise<number> {
  const users = db.selectFrom('events').select('user_tag').distinct().where('group_id', '=', groupId).where('timestamp', '>=', since).where('user_tag', 'is not', null);
  return countUpTo(db, users, cap);
}
