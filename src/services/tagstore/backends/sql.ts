/** Tagstore in the `group_tag_values` table, upserted once per (issue, key, value) per batch. */
import { sql, type Kysely } from 'kysely';
import type { Database, Dialect } from '../../../db/index.js';
import { insertRows, upsert } from '../../../db/sql.js';
import type { Executor } from '../../executor.js';
import type { TagKeySummary, TagstoreBackend, TagValueIncrement, TagValueSummary } from '../index.js';

const TAG_VALUE_TYPES = {
  project_id: 'bigint',
  group_id: 'bigint',
  key: 'text',
  value: 'text',
  times_seen: 'bigint',
  first_seen: 'bigint',
  last_seen: 'bigint',
};

export class SqlTagstoreBackend implements TagstoreBackend {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly dialect: Dialect,
  ) {}

  async incrMulti(items: TagValueIncrement[], executor?: Executor) {
    const sums = new Map<string, TagValueIncrement>();
    for (const it of items) {
      const k = `${it.groupId}\u0000${it.key}\u0000${it.value}`;
      const cur = sums.get(k);
      if (!cur) sums.set(k, { ...it });
      else {
        cur.count += it.count;
        cur.firstSeen = Math.min(cur.firstSeen, it.firstSeen);
        cur.lastSeen = Math.max(cur.lastSeen, it.lastSeen);
      }
    }
    const db = executor ?? this.db;
    const rows = [...sums.values()].map((it) => ({
      project_id: it.projectId,
      group_id: it.groupId,
      key: it.key,
      value: it.value,
      times_seen: it.count,
      first_seen: it.firstSeen,
      last_seen: it.lastSeen,
    }));
    await insertRows(db, this.dialect, 'group_tag_values', TAG_VALUE_TYPES, rows, (qb) =>
      upsert(qb, this.dialect, 'group_tag_values', ['group_id', 'key', 'value'], { times_seen: 'add', first_seen: 'min', last_seen: 'max' }),
    'tagstore.incr');
  }

  async getGroupTagKeys(groupId: number, topValues = 9): Promise<TagKeySummary[]> {
    const keys = await this.db
      .selectFrom('group_tag_values')
      .select(['key', sql<number>`sum(times_seen)`.as('total'), sql<number>`count(*)`.as('unique_values')])
      .where('group_id', '=', groupId)
      .groupBy('key')
      .orderBy('key')
      .execute();
    const out: TagKeySummary[] = [];
    for (const k of keys) {
      out.push({
        key: k.key,
        totalValues: Number(k.total),
        uniqueValues: Number(k.unique_values),
        topValues: await this.getGroupTagValues(groupId, k.key, topValues),
      });
    }
    return out;
  }

  async getGroupTagValues(groupId: number, key: string, limit: number): Promise<TagValueSummary[]> {
    const rows = await this.db
      .selectFrom('group_tag_values')
      .select(['value', 'times_seen', 'first_seen', 'last_seen'])
      .where('group_id', '=', groupId)
      .where('key', '=', key)
      .orderBy('times_seen', 'desc')
      .orderBy('value')
      .limit(limit)
      .execute();
    return rows.map((r) => ({
      value: r.value,
      count: Number(r.times_seen),
      firstSeen: Number(r.first_seen),
      lastSeen: Number(r.last_seen),
    }));
  }
}
