/**
 * Counts of an issue's saved events and distinct users since a moment, read from the events index
 * (by `received`, so late-arriving SDK timestamps still count when they arrive). Rules and snoozes
 * read these after the batch committed, so the triggering event is always included.
 */
import { sql, type Kysely } from 'kysely';
import type { Database } from '../db/index.js';

export async function countEvents(db: Kysely<Database>, groupId: number, since: number): Promise<number> {
  const row = await db
    .selectFrom('events')
    .select(sql<number>`count(*)`.as('n'))
    .where('group_id', '=', groupId)
    .where('received', '>=', since)
    .executeTakeFirst();
  return Number(row?.n ?? 0);
}

export async function countUsers(db: Kysely<Database>, groupId: number, since: number): Promise<number> {
  const row = await db
    .selectFrom('events')
    .select(sql<number>`count(distinct user_tag)`.as('n'))
    .where('group_id', '=', groupId)
    .where('received', '>=', since)
    .executeTakeFirst();
  return Number(row?.n ?? 0);
}
