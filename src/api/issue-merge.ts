/**
 * Moving issues' data around: delete (with events, bodies, tag values, series), delete-and-discard
 * (Sentry's GroupTombstone: the hashes are remembered and the worker drops their future events),
 * merge (Sentry's `handle_merge`: the issue with the most events is the primary; hashes, events,
 * tag values, series and activity move to it and counts add up) and unmerge (hashes move to a new
 * issue that future events with them join).
 * Left out: moving already-stored events on unmerge — the events index does not record which
 * hash an event had, so past events stay with the issue they were merged into.
 */
import type { Kysely, Transaction } from 'kysely';
import type { Database, Group } from '../db/index.js';
import { recordActivity } from '../db/models/activity.js';
import { deleteIssueRows } from '../db/models/issues.js';
import { insertIgnore, insertReturningId, upsert } from '../db/sql.js';
import { nextShortIdIn } from '../pipeline/short-id.js';
import { forgetTombstones } from '../pipeline/tombstones.js';
import { eventNodeIds } from '../services/nodestore/index.js';
import type { ApiContext } from './context.js';

/** Deletes issues with their hashes, events, bodies, tag values and triage state. */
export async function deleteIssues(ctx: ApiContext, groups: { id: number; project_id: number }[]) {
  for (const g of groups) {
    const events = await ctx.db.selectFrom('events').select(['project_id', 'event_id', 'received']).where('group_id', '=', g.id).execute();
    await ctx.db.transaction().execute(async (trx) => {
      await ctx.services.nodestore.delete(eventNodeIds(events), trx);
      await trx.deleteFrom('events').where('group_id', '=', g.id).execute();
      await deleteIssueRows(trx, [g.id]);
    });
  }
}

/** Tombstones the issues' hashes, then deletes the issues. */
export async function discardIssues(ctx: ApiContext, groups: Group[]) {
  const now = Date.now();
  for (const g of groups) {
    const hashes = await ctx.db.selectFrom('group_hashes').select('hash').where('group_id', '=', g.id).execute();
    if (hashes.length) {
      await insertIgnore(
        ctx.db.insertInto('group_tombstones').values(hashes.map((h) => ({ project_id: g.project_id, hash: h.hash, title: g.title.slice(0, 1024), date_added: now }))),
        ctx.services.database.dialect,
        ['project_id', 'hash'],
      ).execute();
    }
    await forgetTombstones(ctx.services, g.project_id);
  }
  await deleteIssues(ctx, groups);
}

async function recountUsers(db: Kysely<Database> | Transaction<Database>, groupId: number): Promise<number> {
  const r = await db.selectFrom('group_tag_values').select((eb) => eb.fn.countAll<number>().as('n')).where('group_id', '=', groupId).where('key', '=', 'user').executeTakeFirst();
  return Number(r?.n ?? 0);
}

/** Merges issues of one project into the one with the most events. Returns parent and children. */
export async function mergeIssues(ctx: ApiContext, groups: Group[], userId: number | null): Promise<{ parent: string; children: string[] }> {
  const sorted = [...groups].sort((a, b) => Number(b.times_seen) - Number(a.times_seen) || a.id - b.id);
  const [primary, ...children] = sorted;
  const childIds = children.map((c) => c.id);
  const dialect = ctx.services.database.dialect;
  await ctx.db.transaction().execute(async (trx) => {
    await trx.updateTable('group_hashes').set({ group_id: primary.id }).where('group_id', 'in', childIds).execute();
    await trx.updateTable('events').set({ group_id: primary.id }).where('group_id', 'in', childIds).execute();
    await trx.updateTable('activities').set({ group_id: primary.id }).where('group_id', 'in', childIds).execute();
    const tags = await trx.selectFrom('group_tag_values').selectAll().where('group_id', 'in', childIds).execute();
    for (const t of tags) {
      await upsert(trx.insertInto('group_tag_values').values({ ...t, group_id: primary.id }), dialect, 'group_tag_values', ['group_id', 'key', 'value'], {
        times_seen: 'add', first_seen: 'min', last_seen: 'max',
      }).execute();
    }
    const points = await trx.selectFrom('tsdb_points').selectAll().where('model', '=', 'group').where('key_id', 'in', childIds).execute();
    for (const p of points) {
      await upsert(trx.insertInto('tsdb_points').values({ ...p, key_id: primary.id }), dialect, 'tsdb_points', ['model', 'key_id', 'rollup', 'bucket'], { count: 'add' }).execute();
    }
    await deleteIssueRows(trx, childIds);
    const all = [primary, ...children];
    await trx
      .updateTable('groups')
      .set({
        times_seen: all.reduce((n, g) => n + Number(g.times_seen), 0),
        users_seen: await recountUsers(trx, primary.id),
        first_seen: Math.min(...all.map((g) => Number(g.first_seen))),
        last_seen: Math.max(...all.map((g) => Number(g.last_seen))),
      })
      .where('id', '=', primary.id)
      .execute();
    await recordActivity(trx, { projectId: primary.project_id, groupId: primary.id, type: 'merge', userId, data: { issues: children.map((c) => ({ id: String(c.id), title: c.title })) } });
  });
  return { parent: String(primary.id), children: childIds.map(String) };
}

/** Moves hashes of an issue to a new issue (Sentry's unmerge); returns the new issue's id. */
export async function unmergeHashes(ctx: ApiContext, group: Group, hashes: string[], userId: number | null): Promise<number> {
  const dialect = ctx.services.database.dialect;
  return ctx.db.transaction().execute(async (trx) => {
    const shortId = await nextShortIdIn(trx, group.project_id, dialect);
    const { id: _id, ...copy } = group;
    const newId = (await insertReturningId(
      trx.insertInto('groups').values({ ...copy, short_id: shortId, status: 'unresolved', substatus: 'new', status_details: '{}', times_seen: 0, users_seen: 0, resolved_at: null }),
      dialect,
    ))!;
    await trx.updateTable('group_hashes').set({ group_id: newId }).where('group_id', '=', group.id).where('hash', 'in', hashes).execute();
    await recordActivity(trx, { projectId: group.project_id, groupId: group.id, type: 'unmerge_source', userId, data: { fingerprints: hashes, destination: String(newId) } });
    return newId;
  });
}
