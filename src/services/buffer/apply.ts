/**
 * Writes collected counters to the `groups` rows. Shared by every buffer backend so the SQL (and
 * its dialect differences) lives in one place.
 */
import { sql } from 'kysely';
import { dialectOfDb } from '../../db/sql.js';
import type { Executor } from '../executor.js';
import type { GroupCounters } from './index.js';

/** `done`, if given, gets each issue whose counters are written, so a caller can put back the rest after a failure. */
export async function applyGroupCounters(executor: Executor, counters: Iterable<GroupCounters>, done?: Set<number>): Promise<number> {
  const list = [...counters];
  if (list.length > 1 && dialectOfDb(executor) === 'postgres') {
    // One statement for all of them: per issue, the UPDATE's planning and round trip cost more
    // than the row change. Ascending ids, so two writers lock shared rows in the same order.
    list.sort((a, b) => a.groupId - b.groupId);
    const col = <T>(f: (c: GroupCounters) => T) => list.map(f);
    await sql`update groups as g set
        times_seen = g.times_seen + v.times_seen,
        users_seen = (select count(*) from group_tag_values t where t.group_id = g.id and t.key = 'user'),
        first_seen = least(g.first_seen, v.first_seen),
        last_seen = greatest(g.last_seen, v.last_seen),
        last_release = case when v.last_release is not null and g.last_seen <= v.last_seen then v.last_release else g.last_release end
      from unnest(${col((c) => c.groupId)}::bigint[], ${col((c) => c.timesSeen)}::bigint[], ${col((c) => c.firstSeen)}::bigint[],
          ${col((c) => c.lastSeen)}::bigint[], ${col((c) => c.lastRelease || null)}::text[])
        as v(id, times_seen, first_seen, last_seen, last_release)
      where g.id = v.id`.execute(executor);
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
