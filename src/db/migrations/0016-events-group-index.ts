/**
 * One index on events by issue instead of two. `events_group_timestamp` (lists, latest and oldest
 * event, neighbours) and `events_group_received` (the counts of rules and snoozes) each took a
 * page write per event under load: an issue's entries sit together, so a batch of events of many
 * issues lands on as many pages of each index, and a SQLite commit writes every page it changed
 * whole. In a database holding 220,000 events they were 288 of the 585 pages a commit of 200
 * events wrote (docs/decisions.md). The counts now go by the event's timestamp as Sentry's do,
 * so one index by (issue, timestamp, id) with the user serves both; `id` is in the key so that
 * lists in (timestamp, id) order read it in order on every database.
 */
import type { Kysely } from 'kysely';
import type { Dialect } from '../dialect.js';

export async function up(db: Kysely<any>, dialect: Dialect): Promise<void> {
  await db.schema.createIndex('events_group_timestamp_id').on('events').columns(['group_id', 'timestamp', 'id', 'user_tag']).execute();
  for (const name of ['events_group_timestamp', 'events_group_received']) {
    // MySQL names an index within its table; the others within the schema.
    await (dialect === 'mysql' ? db.schema.dropIndex(name).on('events') : db.schema.dropIndex(name)).execute();
  }
}
