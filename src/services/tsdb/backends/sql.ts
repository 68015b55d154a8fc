/** tsdb in the `tsdb_points` table: one row per (model, key, rollup, bucket), upserted per batch. */
import type { Kysely } from 'kysely';
import type { Database, Dialect } from '../../../db/index.js';
import { insertRows, upsert } from '../../../db/sql.js';
import type { Executor } from '../../executor.js';
import { bucketOf, ROLLUPS, type Rollup, type TsdbBackend, type TsdbIncrement, type TsdbModel } from '../index.js';

const POINT_TYPES = { model: 'text', key_id: 'bigint', rollup: 'integer', bucket: 'bigint', count: 'bigint' };

export class SqlTsdbBackend implements TsdbBackend {
  readonly transactional = true;
  constructor(
    private readonly db: Kysely<Database>,
    private readonly dialect: Dialect,
  ) {}

  async incrMulti(items: TsdbIncrement[], executor?: Executor): Promise<void> {
    // Collapse the batch first: a thousand events of one issue in one hour are one upsert.
    const sums = new Map<string, { model: string; key_id: number; rollup: number; bucket: number; count: number }>();
    for (const it of items) {
      for (const rollup of ROLLUPS) {
        const bucket = bucketOf(it.timestamp, rollup);
        const k = `${it.model}|${it.keyId}|${rollup}|${bucket}`;
        const cur = sums.get(k);
        if (cur) cur.count += it.count;
        else sums.set(k, { model: it.model, key_id: it.keyId, rollup, bucket, count: it.count });
      }
    }
    const db = executor ?? this.db;
    await insertRows(db, this.dialect, 'tsdb_points', POINT_TYPES, [...sums.values()], (qb) =>
      upsert(qb, this.dialect, 'tsdb_points', ['model', 'key_id', 'rollup', 'bucket'], { count: 'add' }),
    'tsdb.incr');
  }

  async getRange(model: TsdbModel, keyIds: number[], start: number, end: number, rollup: Rollup) {
    const first = bucketOf(start, rollup);
    const last = bucketOf(end, rollup);
    const out = new Map<number, [number, number][]>();
    const index = new Map<number, Map<number, number>>();
    for (const id of keyIds) index.set(id, new Map());
    for (let i = 0; i < keyIds.length; i += 500) {
      const rows = await this.db
        .selectFrom('tsdb_points')
        .select(['key_id', 'bucket', 'count'])
        .where('model', '=', model)
        .where('rollup', '=', rollup)
        .where('key_id', 'in', keyIds.slice(i, i + 500))
        .where('bucket', '>=', first)
        .where('bucket', '<=', last)
        .execute();
      for (const r of rows) index.get(Number(r.key_id))?.set(Number(r.bucket), Number(r.count));
    }
    for (const id of keyIds) {
      const series: [number, number][] = [];
      const m = index.get(id)!;
      for (let b = first; b <= last; b += rollup * 1000) series.push([b / 1000, m.get(b) ?? 0]);
      out.set(id, series);
    }
    return out;
  }
}
