/**
 * SQLite only: events are found by their SDK event id through `event_ids`, filled in bulk, instead
 * of a unique key on `events` that took a page written per event (db/event-ids.ts says why and
 * how). PostgreSQL and MySQL keep the key.
 *
 * SQLite cannot drop a table's UNIQUE constraint, so `events` is rebuilt without it: created anew
 * from its own definition, rows and AUTOINCREMENT sequence copied, indexes made again.
 */
import { sql, type Kysely } from 'kysely';
import type { Dialect } from '../dialect.js';

export async function up(db: Kysely<any>, dialect: Dialect): Promise<void> {
  if (dialect !== 'sqlite') return;
  const table = await sql<{ sql: string }>`select sql from sqlite_master where type = 'table' and name = 'events'`.execute(db);
  const indexes = await sql<{ sql: string }>`select sql from sqlite_master where type = 'index' and tbl_name = 'events' and sql is not null`.execute(db);
  const seq = await sql<{ seq: number }>`select seq from sqlite_sequence where name = 'events'`.execute(db);
  const definition = table.rows[0].sql;
  const withoutKey = definition.replace(/,\s*constraint\s+"events_project_event_id"\s+unique\s*\([^)]*\)/i, '');
  if (withoutKey === definition) throw new Error('0017-event-ids: the events table has no events_project_event_id key to drop');
  await sql.raw(withoutKey.replace(/^create table\s+"?events"?/i, 'create table "events_rebuilt"')).execute(db);
  await sql`insert into events_rebuilt select * from events`.execute(db);
  await sql`drop table events`.execute(db);
  await sql`alter table events_rebuilt rename to events`.execute(db);
  for (const { sql: create } of indexes.rows) await sql.raw(create).execute(db);
  if (seq.rows.length) await sql`update sqlite_sequence set seq = ${seq.rows[0].seq} where name = 'events'`.execute(db);

  await sql`create table event_ids (
    project_id integer not null,
    event_id varchar(32) not null,
    event integer not null,
    primary key (project_id, event_id)
  ) without rowid`.execute(db);
  // The newest events id already in event_ids; those above it are the tail a lookup scans.
  await sql`create table event_ids_merged (upto integer not null)`.execute(db);
  await sql`insert into event_ids (project_id, event_id, event) select project_id, event_id, id from events order by project_id, event_id`.execute(db);
  await sql`insert into event_ids_merged (upto) select coalesce(max(id), 0) from events`.execute(db);
  // Deleted events leave no id behind (retention, deleted issues).
  await sql`create trigger events_delete_event_ids after delete on events begin
    delete from event_ids where project_id = old.project_id and event_id = old.event_id and event = old.id;
  end`.execute(db);
}
