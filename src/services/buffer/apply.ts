/**
 * Writes collected counters to the `groups` rows. Shared by every buffer backend so the SQL (and
 * its dialect differences) lives in one place.
 */
import { sql, type RawBuilder } from 'kysely';
import { dialectOfDb, rowsLockedInOrder, rowsTable } from '../../db/sql.js';
import type { Executor } from '../executor.js';
import type { GroupCounters } from './index.js';

/** PostgreSQL types of the counters' columns (`rowsTable`). */
const COUNTER_TYPES = { id: 'bigint', times_seen: 'bigint', users_added: 'bigint', first_seen: 'bigint', last_seen: 'bigint', last_release: 'text' };

/**
 * Below this many affected users an issue's count is counted again from its `user` tag values at
 * every flush, even when the new ones are known: cheap at that size, and exact whatever happened
 * before (a flush whose counters failed after its tag values were written). Above it, a recount
 * reads every value of the issue once per batch: 7.5 ms for 200,000 users on SQLite, which made
 * the busiest issues, those with the most users, the costliest to count.
 */
export const USERS_RECOUNT_BELOW = 1000;

/** The affected-user count after a flush: the new users added, or all of them counted again. */
function usersSeen(current: RawBuilder<unknown>, groupId: RawBuilder<unknown>, added: RawBuilder<unknown>): RawBuilder<number> {
  return sql<number>`case when ${added} is null or ${current} < ${sql.lit(USERS_RECOUNT_BELOW)}
    then (select count(*) from group_tag_values t where t.group_id = ${groupId} and t.key = 'user')
    else ${current} + ${added} end`;
}

/** `done`, if given, gets each issue whose counters are written, so a caller can put back the rest after a failure. */
export async function applyGroupCounters(executor: Executor, counters: Iterable<GroupCounters>, done?: Set<number>): Promise<number> {
  const list = [...counters];
  // Ascending ids, so two writers lock shared rows in the same order.
  list.sort((a, b) => a.groupId - b.groupId);
  const rows = list.map((c) => ({ id: c.groupId, times_seen: c.timesSeen, users_added: c.usersAdded ?? null, first_seen: c.firstSeen, last_seen: c.lastSeen, last_release: c.lastRelease || null }));
  const dialect = dialectOfDb(executor);
  const v = list.length > 1 ? rowsTable(dialect, COUNTER_TYPES, rows) : null;
  if (v) {
    // One statement for all of them: per issue, building the UPDATE (and on PostgreSQL planning
    // it and the round trip) cost more than the row change. On PostgreSQL the same statement
    // locks the rows in id order first (rowsLockedInOrder).
    const lock = dialect === 'postgres' ? rowsLockedInOrder('groups', rows.map((r) => r.id)) : null;
    await sql`${lock?.with ?? sql``} update groups as g set
        times_seen = g.times_seen + v.times_seen,
        users_seen = ${usersSeen(sql.ref('g.users_seen'), sql.ref('g.id'), sql.ref('v.users_added'))},
        first_seen = case when v.first_seen < g.first_seen then v.first_seen else g.first_seen end,
        last_seen = case when v.last_seen > g.last_seen then v.last_seen else g.last_seen end,
        last_release = case when v.last_release is not null and g.last_seen <= v.last_seen then v.last_release else g.last_release end
      from ${v}
      where g.id = v.id${lock ? sql` and ${lock.guard}` : sql``}`.execute(executor);
    for (const c of list) done?.add(c.groupId);
    return list.length;
  }
  for (const c of list) {
    await executor
      .updateTable('groups')
      .set({
        times_seen: sql`times_seen + ${c.timesSeen}`,
        users_seen: usersSeen(sql.ref('users_seen'), sql`${c.groupId}`, sql.lit(c.usersAdded ?? null)),
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
