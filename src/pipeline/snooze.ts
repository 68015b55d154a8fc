/**
 * Un-ignoring ("snoozes", Sentry's GroupSnooze): an issue ignored until N more events or N more
 * users (optionally within a window of minutes) comes back as `unresolved` / `escalating` when an
 * event meets the condition — checked in post-processing, as Sentry's `process_snoozes` does —
 * and one ignored for a duration comes back as `unresolved` / `ongoing` when the time is up
 * (the scheduled SnoozeExpiryTask, like Sentry's `clear_expired_snoozes`).
 * Left out: Sentry's "ignore until escalating" forecast.
 */
import type { Kysely } from 'kysely';
import type { Database, Group } from '../db/index.js';
import { recordActivity } from '../db/models/activity.js';
import { countEvents, countUsers } from './issue-counts.js';

/** Has the ignored issue met its snooze's count / user condition? */
async function countConditionMet(db: Kysely<Database>, groupId: number, now: number): Promise<boolean> {
  const s = await db.selectFrom('group_snoozes').selectAll().where('group_id', '=', groupId).executeTakeFirst();
  if (!s) return false;
  const since = (window: number | null) => Math.max(Number(s.date_added), window ? now - window * 60_000 : 0);
  if (s.count !== null && (await countEvents(db, groupId, since(s.window), s.count)) >= s.count) return true;
  if (s.user_count !== null && (await countUsers(db, groupId, since(s.user_window), s.user_count)) >= s.user_count) return true;
  return false;
}

async function unignore(db: Kysely<Database>, group: Pick<Group, 'id' | 'project_id'>, substatus: 'escalating' | 'ongoing'): Promise<boolean> {
  const r = await db
    .updateTable('groups')
    .set({ status: 'unresolved', substatus, status_details: '{}' })
    .where('id', '=', group.id)
    .where('status', '=', 'ignored')
    .executeTakeFirst();
  if (Number(r.numUpdatedRows) === 0) return false;
  await db.deleteFrom('group_snoozes').where('group_id', '=', group.id).execute();
  await recordActivity(db, { projectId: group.project_id, groupId: group.id, type: substatus === 'escalating' ? 'set_escalating' : 'auto_set_ongoing' });
  return true;
}

/** Post-processing: an event of an ignored issue may end its snooze. Returns whether it did. */
export async function processSnooze(db: Kysely<Database>, group: Group, now = Date.now()): Promise<boolean> {
  if (group.status !== 'ignored') return false;
  if (await countConditionMet(db, group.id, now)) return unignore(db, group, 'escalating');
  return false;
}

/** Scheduled: issues whose ignore duration has passed. Returns how many came back. */
export async function expireSnoozes(db: Kysely<Database>, now = Date.now()): Promise<number> {
  const due = await db
    .selectFrom('group_snoozes')
    .innerJoin('groups', 'groups.id', 'group_snoozes.group_id')
    .select(['groups.id', 'groups.project_id'])
    .where('group_snoozes.until', 'is not', null)
    .where('group_snoozes.until', '<=', now)
    .limit(500)
    .execute();
  let n = 0;
  for (const g of due) if (await unignore(db, g, 'ongoing')) n++;
  return n;
}
