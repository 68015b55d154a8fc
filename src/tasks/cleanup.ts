/**
 * Retention: deletes events older than their organization's retention (default 90 days) with
 * their bodies, then issues left without events, their hashes, tag values and time series, the
 * body dictionaries and stack texts no body left can need, and old outcomes; also upload chunks never assembled into a bundle and the delegator's call log past
 * 30 days. Works in small batches, each its own short transaction, so ingest and the worker never
 * wait long on it; on SQLite the freed pages go back to the disk (incremental vacuum).
 * Used by the daily CleanupTask and by `faultline cleanup --days N`.
 */
import { sql } from 'kysely';
import type { Services } from '../services/index.js';
import { deleteIssueRows } from '../db/models/index.js';
import { eventNodeIds } from '../services/nodestore/index.js';
import { dictionaryCutoff, stackCutoff } from '../services/nodestore/dictionaries.js';
import { deleteStaleChunks } from '../sourcemaps/index.js';

/** The delegator's sampled calls are for comparing backends during a migration (reports read 24 h by default). */
export const DELEGATOR_CALLS_RETENTION_DAYS = 30;

export interface CleanupOptions {
  /** Overrides every organization's retention (the CLI's --days). */
  days?: number;
  batchSize?: number;
  now?: number;
  onProgress?: (deletedEvents: number) => void;
}

export interface CleanupResult {
  events: number;
  issues: number;
  /** Upload chunks of source map uploads that were never assembled (after a day). */
  chunks: number;
  /** Rows of the delegator's call log. */
  delegatorCalls: number;
  /** Body dictionaries no remaining body can have been compressed with. */
  dictionaries: number;
  /** Stack texts stored apart (`body_stacks`) no remaining body can refer to. */
  stacks: number;
}

export async function cleanup(services: Services, opts: CleanupOptions = {}): Promise<CleanupResult> {
  const db = services.database.db;
  const now = opts.now ?? Date.now();
  const batch = opts.batchSize ?? 500;
  const result: CleanupResult = { events: 0, issues: 0, chunks: 0, delegatorCalls: 0, dictionaries: 0, stacks: 0 };
  const orgs = await db.selectFrom('organizations').select(['id', 'retention_days']).execute();
  for (const org of orgs) {
    const days = opts.days ?? org.retention_days ?? services.config.retentionDays;
    const cutoff = now - days * 86_400_000;
    const projectIds = (await db.selectFrom('projects').select('id').where('organization_id', '=', org.id).execute()).map((p) => p.id);
    if (projectIds.length === 0) continue;
    for (;;) {
      const rows = await db
        .selectFrom('events')
        .select(['id', 'project_id', 'event_id', 'received'])
        .where('project_id', 'in', projectIds)
        .where('timestamp', '<', cutoff)
        .limit(batch)
        .execute();
      if (rows.length === 0) break;
      await db.transaction().execute(async (trx) => {
        await services.nodestore.delete(eventNodeIds(rows), trx);
        await trx.deleteFrom('events').where('id', 'in', rows.map((r) => r.id)).execute();
      });
      result.events += rows.length;
      opts.onProgress?.(result.events);
    }
    for (;;) {
      const groups = await db
        .selectFrom('groups')
        .select('id')
        .where('project_id', 'in', projectIds)
        .where('last_seen', '<', cutoff)
        .where((eb) => eb.not(eb.exists(eb.selectFrom('events').select(sql`1`.as('one')).whereRef('events.group_id', '=', 'groups.id'))))
        .limit(batch)
        .execute();
      if (groups.length === 0) break;
      const ids = groups.map((g) => g.id);
      // With their triage state (assignees, bookmarks, resolutions, activity, alert rule windows).
      await db.transaction().execute((trx) => deleteIssueRows(trx, ids));
      result.issues += ids.length;
    }
    await db.deleteFrom('tsdb_points').where('model', '=', 'project').where('key_id', 'in', projectIds).where('bucket', '<', cutoff).execute();
    await db.deleteFrom('outcomes').where('project_id', 'in', projectIds).where('bucket', '<', cutoff).execute();
    // Only now that the events before the cutoff (and their bodies) are gone.
    const dropped = await db
      .deleteFrom('nodestore_dictionaries')
      .where('project_id', 'in', projectIds)
      .where('created', '<', dictionaryCutoff(cutoff))
      .executeTakeFirst();
    result.dictionaries += Number(dropped.numDeletedRows);
    const stacks = await db
      .deleteFrom('body_stacks')
      .where('project_id', 'in', projectIds)
      .where('last_used', '<', stackCutoff(cutoff))
      .executeTakeFirst();
    result.stacks += Number(stacks.numDeletedRows);
  }
  result.chunks = await deleteStaleChunks(db, now);
  const callsCutoff = now - DELEGATOR_CALLS_RETENTION_DAYS * 86_400_000;
  for (;;) {
    // By id in batches: MySQL has no DELETE ... LIMIT with a subquery on the same table.
    const ids = (await db.selectFrom('delegator_calls').select('id').where('sampled_at', '<', callsCutoff).limit(batch * 10).execute()).map((r) => r.id);
    if (ids.length === 0) break;
    await db.deleteFrom('delegator_calls').where('id', 'in', ids).execute();
    result.delegatorCalls += ids.length;
  }
  if (services.database.sqlite) services.database.sqlite.pragma('incremental_vacuum');
  return result;
}
