/** Rows that belong to issues, as a whole: what deleting an issue must take with it. */
import type { Kysely } from 'kysely';
import type { Database } from '../schema.js';

/** Per-issue state of triage and alerting, keyed by `group_id`. */
const ISSUE_STATE_TABLES = ['group_assignees', 'group_bookmarks', 'group_subscriptions', 'group_resolutions', 'group_snoozes', 'activities', 'rule_group_status'] as const;

/**
 * Deletes issues with their hashes, tag values, time series and triage state (not their events:
 * the caller deletes those with their bodies first). Run it inside the caller's transaction.
 */
export async function deleteIssueRows(db: Kysely<Database>, ids: number[]): Promise<void> {
  if (ids.length === 0) return;
  await db.deleteFrom('group_hashes').where('group_id', 'in', ids).execute();
  await db.deleteFrom('group_tag_values').where('group_id', 'in', ids).execute();
  await db.deleteFrom('tsdb_points').where('model', '=', 'group').where('key_id', 'in', ids).execute();
  for (const t of ISSUE_STATE_TABLES) await db.deleteFrom(t).where('group_id', 'in', ids).execute();
  await db.deleteFrom('groups').where('id', 'in', ids).execute();
}
