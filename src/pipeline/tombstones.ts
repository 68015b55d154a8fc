/**
 * Step: drop events of issues that were "deleted and discarded" (Sentry's GroupTombstone): the
 * issue's hashes are kept in `group_tombstones`, and an event whose grouping hashes hit one is
 * counted as outcome `filtered` with reason `discarded_hash` (Relay's `DiscardReason`) instead of
 * being stored. The tombstoned hashes of a project are cached for a few seconds.
 */
import type { Services } from '../services/index.js';

export async function isDiscarded(services: Services, projectId: number, hashes: string[]): Promise<boolean> {
  const key = `tombstones:${projectId}`;
  let set = await services.cache.get<string[]>(key);
  if (set === undefined) {
    const rows = await services.database.db.selectFrom('group_tombstones').select('hash').where('project_id', '=', projectId).execute();
    set = rows.map((r) => r.hash);
    await services.cache.set(key, set, 5_000);
  }
  return set.length > 0 && hashes.some((h) => set.includes(h));
}

/** Forgets the cached tombstones after a discard, so this process drops the next event at once. */
export async function forgetTombstones(services: Services, projectId: number): Promise<void> {
  await services.cache.delete(`tombstones:${projectId}`);
}
