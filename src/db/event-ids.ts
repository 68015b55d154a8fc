/**
 * Finding events by their SDK event id, and telling which ids of a batch a project already has.
 *
 * PostgreSQL and MySQL keep a unique key on `events (project_id, event_id)`. On SQLite that key
 * cost a page written per event once it outgrew a batch: the ids are random, so each event's entry
 * lands on a page of its own, and a commit writes every page it changed whole (185 of the 436 pages
 * a commit of 200 events wrote in a database holding 220,000 events). There the ids go to
 * `event_ids` in bulk instead (migration 0017): events above `event_ids_merged.upto` are the tail,
 * found by a scan of those rows, and once the tail holds MERGE_EVERY events a save adds them in key
 * order, so each page of the index is written once per merge instead of once per event.
 *
 * To tell a batch's duplicates without scanning the tail each time, a writer keeps the tail's ids
 * in memory (`RecentEventIds`), brought up to date from the table inside each save's write
 * transaction: with several writers on one file it still sees every committed event.
 */
import { randomInt } from 'node:crypto';
import { sql, type Kysely, type Selectable, type Transaction } from 'kysely';
import type { Dialect } from './dialect.js';
import { inValues } from './sql.js';
import type { Database, EventTable } from './schema.js';

/** Tail length (events) past which a save merges the tail into `event_ids`. */
export const MERGE_EVERY = 20_000;

type Db = Kysely<Database> | Transaction<Database>;

/** The project's events with these ids (at most a few hundred ids per call). */
export async function eventsByIds(db: Db, dialect: Dialect, projectId: number, eventIds: string[]): Promise<Selectable<EventTable>[]> {
  if (eventIds.length === 0) return [];
  return eventsByIdsQuery(db, dialect, projectId, eventIds).execute();
}

/** `eventsByIds`' query (exported for a test of its SQLite plan). */
export function eventsByIdsQuery(db: Db, dialect: Dialect, projectId: number, eventIds: string[]) {
  if (dialect !== 'sqlite') return db.selectFrom('events').selectAll().where('project_id', '=', projectId).where('event_id', 'in', eventIds);
  const merged = db.selectFrom('events').selectAll().where('id', 'in', db.selectFrom('event_ids').select('event').where('project_id', '=', projectId).where(inValues(dialect, 'event_id', eventIds, 'text')));
  const tail = db
    .selectFrom('events')
    .selectAll()
    .where('id', '>', db.selectFrom('event_ids_merged').select('upto'))
    // `+`: SQLite would otherwise walk the project's index, every event it has, instead of the tail.
    .where(sql<number>`+${sql.ref('project_id')}`, '=', projectId)
    .where(inValues(dialect, 'event_id', eventIds, 'text'));
  return merged.unionAll(tail);
}

/** The project's event with this id, if it has one. */
export async function eventById(db: Db, dialect: Dialect, projectId: number, eventId: string): Promise<Selectable<EventTable> | undefined> {
  return (await eventsByIds(db, dialect, projectId, [eventId]))[0];
}

/** Seeds `tailKey`, so that no client can choose event ids that share a key. */
const KEY_SEED = randomInt(2 ** 30);

/**
 * A 30-bit key for a project's event id (FNV-1a from a random seed): a small integer keeps the
 * tail's 20,000 ids in about a third of the memory their strings took. Two ids can share a key;
 * that only costs a lookup, since a key found is confirmed on the rows.
 */
function tailKey(projectId: number, eventId: string): number {
  let h = (KEY_SEED ^ projectId) >>> 0;
  for (let i = 0; i < eventId.length; i++) h = Math.imul(h ^ eventId.charCodeAt(i), 16777619);
  return h & 0x3fffffff;
}

/** The ids of the tail (events not yet in `event_ids`) as one SQLite writer last read them. */
export class RecentEventIds {
  /** @param mergeEvery tail length that makes `mergeIfDue` merge (tests use small ones) */
  constructor(private readonly mergeEvery = MERGE_EVERY) {}

  /** `tailKey` → the newest events.id with that key */
  #ids = new Map<number, number>();
  /** The newest events.id read. */
  #seen = -1;
  #upto = -1;

  /** Reads what other writers committed since the last call; run inside the write transaction. */
  async refresh(trx: Transaction<Database>): Promise<void> {
    const { upto } = await trx.selectFrom('event_ids_merged').select('upto').executeTakeFirstOrThrow();
    if (upto !== this.#upto) {
      // A merge (ours or another writer's) moved ids into the index.
      for (const [key, id] of this.#ids) if (id <= upto) this.#ids.delete(key);
      this.#upto = upto;
      if (this.#seen < upto) this.#seen = upto;
    }
    const rows = await trx.selectFrom('events').select(['id', 'project_id', 'event_id']).where('id', '>', this.#seen).execute();
    for (const r of rows) {
      this.#ids.set(tailKey(r.project_id, r.event_id), r.id);
      if (r.id > this.#seen) this.#seen = r.id;
    }
  }

  /** Whether the tail may hold this event id of the project (a deleted event can leave it here). */
  has(projectId: number, eventId: string): boolean {
    return this.#ids.has(tailKey(projectId, eventId));
  }

  get size(): number {
    return this.#ids.size;
  }

  /**
   * Moves the tail into `event_ids` once it holds MERGE_EVERY events with the `added` ones this
   * transaction inserted, in key order so that each page of the index is written once. Runs in the
   * save's transaction, after its events insert; the ids leave memory at the next `refresh`, so a
   * rolled-back merge loses nothing.
   */
  async mergeIfDue(trx: Transaction<Database>, added: number): Promise<boolean> {
    if (this.#ids.size + added < this.mergeEvery) return false;
    await sql`insert into event_ids (project_id, event_id, event)
      select project_id, event_id, id from events where id > (select upto from event_ids_merged)
      order by project_id, event_id
      on conflict do nothing`.execute(trx);
    await sql`update event_ids_merged set upto = max(upto, (select coalesce(max(id), 0) from events))`.execute(trx);
    return true;
  }
}

/** The batch's `project:event_id` keys that the project may have already (SQLite; see above). */
export async function knownEventIds(trx: Transaction<Database>, recent: RecentEventIds, byProject: Map<number, string[]>): Promise<Set<string>> {
  await recent.refresh(trx);
  const out = new Set<string>();
  for (const [projectId, ids] of byProject) {
    for (const id of ids) if (recent.has(projectId, id)) out.add(`${projectId}:${id}`);
    const rows = await trx.selectFrom('event_ids').select('event_id').where('project_id', '=', projectId).where(inValues('sqlite', 'event_id', ids, 'text')).execute();
    for (const r of rows) out.add(`${projectId}:${r.event_id}`);
  }
  return out;
}
