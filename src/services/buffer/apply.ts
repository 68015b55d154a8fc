/**
 * Writes collected counters to the `groups` rows: one UPDATE per issue. Shared by every buffer
 * backend so the SQL (and its dialect differences) lives in one place.
 */
import { sql } from 'kysely';
import type { Executor } from '../executor.js';
import type { GroupCounters } from './index.js';

export async function applyGroupCounters(executor: Executor, counters: Iterable<GroupCounters>): Promise<number> {
  let n = 0;
  for (const c of counters) {
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
    n++;
  }
  return n;
}
