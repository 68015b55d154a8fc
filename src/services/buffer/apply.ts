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
/** And of what the issues show (`GroupCounters.shown`). */
const SHOWN_TYPES = { id: 'bigint', last_seen: 'bigint', title: 'text', culprit: 'text', level: 'text', metadata: 'text' };

/**
 * Below this many affected users an issue's count is counted again from its `user` tag values at
 * every flush, even when the new ones are known: cheap at that size, and exact whatever happened
 * before (a flush whose counters failed after its tag values were written). Above it, a recount
 * reads every value of the issue once per batch: 7.5 ms for 200,000 users on SQLite, which made
 * the busiest issues, those with the most users, the costliest to count.
 */
export const USERS_RECOUNT_BELOW = 1000;

/** The SET clauses of the counters, from the rows `v`. */
function counterSets(): RawBuilder<unknown> {
  return sql`times_seen = g.times_seen + v.times_seen,
    users_seen = ${usersSeen(sql.ref('g.users_seen'), sql.ref('g.id'), sql.ref('v.users_added'))},
    first_seen = case when v.first_seen < g.first_seen then v.first_seen else g.first_seen end,
    last_seen = case when v.last_seen > g.last_seen then v.last_seen else g.last_seen end,
    last_release = case when v.last_release is not null and g.last_seen <= v.last_seen then v.last_release else g.last_release end`;
}

/** The affected-user count after a flush: the new users added, or all of them counted again. */
function usersSeen(current: RawBuilder<unknown>, groupId: RawBuilder<unknown>, added: RawBuilder<unknown>): RawBuilder<number> {
  return sql<number>`case when ${added} is null or ${current} < ${sql.lit(USERS_RECOUNT_BELOW)}
    then (select count(*) from group_tag_values t where t.group_id = ${groupId} and t.key = 'user')
    else ${current} + ${added} end`;
}

/**
 * The SET clauses of what an issue shows: each field from the counters' latest event when they
 * carry them and it is at least as recent as the issue's last event (the row's `last_seen` before
 * this update), as the title of an event older than the one shown must not replace it.
 */
function shownFrom(): RawBuilder<unknown> {
  const set = (f: string) => sql`${sql.ref(f)} = case when v.shown = 1 and g.last_seen <= v.last_seen then ${sql.ref(`v.${f}`)} else ${sql.ref(`g.${f}`)} end`;
  return sql.join(['title', 'culprit', 'level', 'metadata'].map(set));
}

/** `done`, if given, gets each issue whose counters are written, so a caller can put back the rest after a failure. */
export async function applyGroupCounters(executor: Executor, counters: Iterable<GroupCounters>, done?: Set<number>): Promise<number> {
  const list = [...counters];
  // Ascending ids, so two writers lock shared rows in the same order.
  list.sort((a, b) => a.groupId - b.groupId);
  const rows = list.map((c) => ({ id: c.groupId, times_seen: c.timesSeen, users_added: c.usersAdded ?? null, first_seen: c.firstSeen, last_seen: c.lastSeen, last_release: c.lastRelease || null }));
  const dialect = dialectOfDb(executor);
  if (list.length > 1 && dialect === 'postgres') {
    // One statement for all of them: per issue, planning the UPDATE and the round trip cost more
    // than the row change. The same statement locks the rows in id order first (rowsLockedInOrder).
    const all = list.map((c, i) => ({ ...rows[i], shown: c.shown ? 1 : 0, title: c.shown?.title ?? null, culprit: c.shown?.culprit ?? null, level: c.shown?.level ?? null, metadata: c.shown?.metadata ?? null }));
    const v = rowsTable(dialect, { ...COUNTER_TYPES, shown: 'int', title: 'text', culprit: 'text', level: 'text', metadata: 'text' }, all)!;
    const lock = rowsLockedInOrder('groups', rows.map((r) => r.id));
    await sql`${lock.with} update groups as g set ${counterSets()}, ${shownFrom()}
      from ${v}
      where g.id = v.id and ${lock.guard}`.execute(executor);
    for (const c of list) done?.add(c.groupId);
    return list.length;
  }
  if (list.length > 1 && dialect === 'sqlite') {
    // Two statements: SQLite reads each column of a row from its JSON text again (`->>`), so the
    // titles' long text in the counters' rows cost more than a statement of their own. What the
    // issues show goes first, while their rows still hold the last event seen before.
    const shown = list.flatMap((c) => (c.shown ? [{ id: c.groupId, last_seen: c.lastSeen, ...c.shown }] : []));
    const s = shown.length ? rowsTable(dialect, SHOWN_TYPES, shown) : null;
    if (s) await sql`update groups as g set title = v.title, culprit = v.culprit, level = v.level, metadata = v.metadata from ${s} where g.id = v.id and g.last_seen <= v.last_seen`.execute(executor);
    await sql`update groups as g set ${counterSets()} from ${rowsTable(dialect, COUNTER_TYPES, rows)} where g.id = v.id`.execute(executor);
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
        ...(c.shown
          ? Object.fromEntries(
              (['title', 'culprit', 'level', 'metadata'] as const).map((f) => [f, sql`case when last_seen <= ${c.lastSeen} then ${c.shown![f]} else ${sql.ref(f)} end`]),
            )
          : {}),
      })
      .where('id', '=', c.groupId)
      .execute();
    done?.add(c.groupId);
  }
  return list.length;
}
