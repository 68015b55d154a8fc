/**
 * Writes collected counters to the `groups` rows. Shared by every buffer backend so the SQL (and
 * its dialect differences) lives in one place.
 */
import { sql } from 'kysely';
import { dialectOfDb, lockRowsInOrder, rowsTable } from '../../db/sql.js';
import type { Executor } from '../executor.js';
import type { GroupCounters } from './index.js';

/** PostgreSQL types of the counters' columns (`rowsTable`). */
const COUNTER_TYPES = { id: 'bigint', times_seen: 'bigint', first_seen: 'bigint', last_seen: 'bigint', last_release: 'text' };

/** `done`, if given, gets each issue whose counters are written, so a caller can put back the rest after a failure. */
export async function applyGroupCounters(executor: Executor, counters: Iterable<GroupCounters>, done?: Set<number>): Promise<number> {
  const list = [...counters];
  // Ascending ids, so two writers lock shared rows in the same order.
  list.sort((a, b) => a.groupId - b.groupId);
  const rows = list.map((c) => ({ id: c.groupId, times_seen: c.timesSeen, first_seen: c.firstSeen, last_seen: c.lastSeen, last_release: c.lastRelease || null }));
  const dialect = dialectOfDb(executor);
  const v = list.length > 1 ? rowsTable(dialect, COUNTER_TYPES, rows) : null;
  if (v) {
    // One statement for all of them: per issue, building the UPDATE (and on PostgreSQL planning
    // it and the round trip) cost more than the row change. On PostgreSQL the rows are locked in
    // id order first (lockRowsInOrder), in a transaction of its own unless the caller has one.
    const write = async (ex: Executor) => {
      await lockRowsInOrder(ex, dialect, 'groups', rows.map((r) => r.id));
      await sql`update groups as g set
          times_seen = g.times_seen + v.times_seen,
          users_seen = (select count(*) from group_tag_values t where t.group_id = g.id and t.key = 'user'),
          first_seen = case when v.first_seen < g.first_seen then v.first_seen else g.first_seen end,
          last_seen = case when v.last_seen > g.last_seen then v.last_seen else g.last_seen end,
          last_release = case when v.last_release is not null and g.last_seen <= v.last_seen then v.last_release else g.last_release end
        from ${v}
        where g.id = v.id`.execute(ex);
    };
    if (dialect === 'postgres' && !executor.isTransaction) await executor.transaction().execute(write);
    else await write(executor);
    for (const c of list) done?.add(c.groupId);
    return list.length;
  }
  for (const c of list) {
    await executor
      .updateTable('groups')
      .set({
        times_seen: sql`times_seen + ${c.timesSeen}`,
        // The distinct `user` tag values are the affected users; recounting is exact and cheap
        // (primary key prefix group_id, key).
        users_seen: sql`(select count(*) from group_tag_values t where t.group_id = ${c.groupId} and t.key = 'user')`,
        first_seen: sql`case when first_seen > ${c.firstSeen} then ${c.firstSeen} else first_seen end`,
        last_seen: sql`case when last_seen < ${c.lastSeen} then ${c.lastSeen} else last_seen end`,
        ...(c.lastRelease
          ? { last_release: sql`case when last_seen <= ${c.lastSeen} then ${c.lastRelease} else last_release end` }
          : {}),
      })
      .where('id', '=', c.groupId)
      .execute();
    done?.add(c.groupId);
  }
  return list.length;
}
