/** Nodestore in a SQL table (`nodestore_node`): the embedded default, and the simple scale-out choice. */
import type { Kysely } from 'kysely';
import type { Database, Dialect } from '../../../db/index.js';
import { insertRows, upsert } from '../../../db/sql.js';
import type { Executor } from '../../executor.js';
import { encodeNode, type NodeData } from '../codec.js';
import type { BodyDictionaries } from '../dictionaries.js';
import type { NodestoreBackend, NodestoreScan } from '../index.js';

export class SqlNodestoreBackend implements NodestoreBackend, NodestoreScan {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly dialect: Dialect,
    /** Where bodies written with a dictionary (format 3) find it. */
    private readonly dictionaries: BodyDictionaries,
  ) {}

  async get(id: string) {
    const row = await this.db.selectFrom('nodestore_node').select('data').where('id', '=', id).executeTakeFirst();
    return row ? (await this.dictionaries.decode([row.data]))[0] : null;
  }

  async getMulti(ids: string[]) {
    const encoded = await this.getEncodedMulti(ids);
    const bodies = await this.dictionaries.decode([...encoded.values()]);
    return new Map([...encoded.keys()].map((id, i) => [id, bodies[i]]));
  }

  async setMulti(items: { id: string; data: NodeData; timestamp: number }[], executor?: Executor) {
    if (items.length === 0) return;
    const db = executor ?? this.db;
    const rows = items.map((it) => ({ id: it.id, data: encodeNode(it.data), timestamp: it.timestamp }));
    await insertRows(db, this.dialect, 'nodestore_node', { id: 'text', data: 'bytea', timestamp: 'bigint' }, rows, (qb) =>
      upsert(qb, this.dialect, 'nodestore_node', ['id'], { data: 'replace', timestamp: 'replace' }),
    'nodestore.set');
  }

  async delete(ids: string[], executor?: Executor) {
    const db = executor ?? this.db;
    for (let i = 0; i < ids.length; i += 500) {
      await db.deleteFrom('nodestore_node').where('id', 'in', ids.slice(i, i + 500)).execute();
    }
  }

  async scan(cursor: string | null, limit: number) {
    let q = this.db.selectFrom('nodestore_node').select(['id', 'timestamp']);
    if (cursor !== null) q = q.where('id', '>', cursor);
    const rows = await q.orderBy('id').limit(limit).execute();
    const items = rows.map((r) => ({ id: r.id, timestamp: Number(r.timestamp) }));
    return { items, next: items.length === limit ? items[items.length - 1].id : null };
  }

  async getEncodedMulti(ids: string[]) {
    const out = new Map<string, Buffer>();
    for (let i = 0; i < ids.length; i += 500) {
      const rows = await this.db.selectFrom('nodestore_node').select(['id', 'data']).where('id', 'in', ids.slice(i, i + 500)).execute();
      for (const r of rows) out.set(r.id, Buffer.from(r.data));
    }
    return out;
  }

  async count() {
    const row = await this.db.selectFrom('nodestore_node').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    return Number(row.n);
  }
}
