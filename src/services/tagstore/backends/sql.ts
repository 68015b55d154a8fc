/** Tagstore in the `group_tag_values` table, upserted once per (issue, key, value) per batch. */
import { sql, type Kysely } from 'kysely';
import type { Database, Dialect, GroupTagValueTable } from '../../../db/index.js';
import { insertRows, upsert, type AnyInsert } from '../../../db/sql.js';
import type { Executor } from '../../executor.js';
import { TagValueCounts } from '../counts.js';
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

/** The tag key whose distinct values are an issue's affected users. */
const USER_KEY = 'user';

type TagValueRow = GroupTagValueTable & Record<string, unknown>;

export class SqlTagstoreBackend implements TagstoreBackend {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly dialect: Dialect,
  ) {}

  async incrMulti(items: TagValueCounts | TagValueIncrement[], executor?: Executor) {
    const counts = items instanceof TagValueCounts ? items : TagValueCounts.of(items);
    const db = executor ?? this.db;
    const columns = {
      project_id: counts.projectIds,
      group_id: counts.groupIds,
      key: counts.keys,
      value: counts.values,
      times_seen: counts.counts,
      first_seen: counts.firstSeen,
      last_seen: counts.lastSeen,
    };
    const rows: number[] = [];
    const users: number[] = [];
    for (let i = 0; i < counts.size; i++) (counts.keys[i] === USER_KEY && this.dialect !== 'mysql' ? users : rows).push(i);
    const merge = (qb: AnyInsert) => upsert(qb, this.dialect, 'group_tag_values', ['group_id', 'key', 'value'], { times_seen: 'add', first_seen: 'min', last_seen: 'max' });
    await insertRows<TagValueRow>(db, this.dialect, 'group_tag_values', TAG_VALUE_TYPES, { columns, pick: rows }, merge, 'tagstore.incr');
    if (this.dialect === 'mysql') return null; // ON DUPLICATE KEY UPDATE tells inserts from updates only per statement
    // The `user` values apart, returning which rows are new: the affected-user count grows
    // by that many (buffer/apply.ts) instead of being counted again from all its values.
    const inserted =
      this.dialect === 'postgres'
        ? sql<boolean>`(xmax = 0)`.as('inserted') // a row version no transaction updated: this statement inserted it
        : sql<number>`times_seen`.as('times_seen'); // SQLite: a row that existed had at least 1 before the add
    const returned = await insertRows<TagValueRow>(db, this.dialect, 'group_tag_values', TAG_VALUE_TYPES, { columns, pick: users }, (qb) => merge(qb).returning(['group_id', 'value', inserted] as any), 'tagstore.incr.users');
    const added = new Map<number, number>();
    const userCounts = new Map(users.map((i) => [`${counts.groupIds[i]}\u0000${counts.values[i]}`, counts.counts[i]]));
    for (const r of returned) {
      const groupId = Number(r.group_id);
      const isNew = this.dialect === 'postgres' ? r.inserted === true : Number(r.times_seen) === userCounts.get(`${groupId}\u0000${r.value as string}`);
      if (isNew) added.set(groupId, (added.get(groupId) ?? 0) + 1);
    }
    return added;
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
