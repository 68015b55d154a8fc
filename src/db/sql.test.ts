/**
 * `insertRows` on every SQL dialect: rows come back exactly as given, bytes included (on
 * PostgreSQL a column's bytes travel as one parameter, cut apart by offset and length), and the
 * conflict clause a caller adds still applies. On PostgreSQL, `lockRowsInOrder` holds the rows it
 * locks until the transaction ends. `inValues` matches exactly the rows whose column is one of
 * the values, numbers or text.
 */
import { sql, type Kysely } from 'kysely';
import { describe, expect, it } from 'vitest';
import { sqlDialects } from '../../test/helpers/databases.js';
import { servicesOn } from '../../test/helpers/services.js';
import { columnTypes } from './dialect.js';
import { insertIgnore, insertRows, inValues, lockRowsInOrder, rowsLockedInOrder, upsert } from './sql.js';

for (const [dialect, makeDb] of Object.entries(sqlDialects())) {
  describe(`insertRows on ${dialect}`, () => {
    const services = servicesOn(makeDb);

    it('writes bytes of every size, empty and missing ones, and views into larger buffers, exactly', async () => {
      const { db, dialect: d } = services().database;
      const t = columnTypes(d);
      await db.schema
        .createTable('insert_rows_probe')
        .addColumn('id', 'varchar(32)', (c) => c.primaryKey())
        .addColumn('n', 'bigint')
        .addColumn('data', t.blob)
        .addColumn('note', t.text)
        .execute();
      try {
        const big = Buffer.alloc(300_000, 7);
        big[0] = 1;
        big[big.length - 1] = 2;
        const backing = Buffer.from('xxhello, worldyy');
        const rows = [
          { id: 'a', n: 1, data: Buffer.from([0, 1, 2, 255, 0]), note: 'first' },
          { id: 'b', n: 2, data: Buffer.alloc(0), note: null },
          { id: 'c', n: null, data: null, note: 'no bytes' },
          { id: 'd', n: 4, data: backing.subarray(2, 14), note: 'a view' },
          { id: 'e', n: 5, data: big, note: "quotes ' and \" and \\ and {braces}" },
          { id: 'f', n: 6, data: new Uint8Array([9, 8, 7]), note: 'ünïcödé' },
        ];
        const types = { id: 'text', n: 'bigint', data: 'bytea', note: 'text' };
        await insertRows(db, d, 'insert_rows_probe', types, rows);
        const back = await db.selectFrom('insert_rows_probe' as any).selectAll().orderBy('id').execute();
        expect(back.map((r: any) => [r.id, r.n === null ? null : Number(r.n), r.note])).toEqual(rows.map((r) => [r.id, r.n, r.note]));
        const bytes = back.map((r: any) => (r.data === null ? null : Buffer.from(r.data)));
        expect(bytes[0]!.equals(Buffer.from([0, 1, 2, 255, 0]))).toBe(true);
        expect(bytes[1]!.length).toBe(0);
        expect(bytes[2]).toBeNull();
        expect(bytes[3]!.toString()).toBe('hello, world');
        expect(bytes[4]!.equals(big)).toBe(true);
        expect(bytes[5]!.equals(Buffer.from([9, 8, 7]))).toBe(true);

        // The caller's conflict clause: a repeated id is skipped, or merged.
        await insertRows(db, d, 'insert_rows_probe', types, [{ id: 'a', n: 100, data: Buffer.from('changed'), note: 'changed' }, { id: 'g', n: 7, data: Buffer.from('new'), note: 'new' }], (qb) =>
          insertIgnore(qb, d, ['id']),
        );
        await insertRows(db, d, 'insert_rows_probe', { id: 'text', n: 'bigint' }, [{ id: 'f', n: 10 }], (qb) => upsert(qb, d, 'insert_rows_probe', ['id'], { n: 'add' }));
        const after = await db.selectFrom('insert_rows_probe' as any).select(['id', 'n', 'data']).orderBy('id').execute();
        expect(after.map((r: any) => [r.id, r.n === null ? null : Number(r.n)])).toEqual([['a', 1], ['b', 2], ['c', null], ['d', 4], ['e', 5], ['f', 16], ['g', 7]]);
        expect(Buffer.from((after[0] as any).data).equals(Buffer.from([0, 1, 2, 255, 0]))).toBe(true);
        expect(Buffer.from((after[6] as any).data).toString()).toBe('new');
      } finally {
        await db.schema.dropTable('insert_rows_probe').execute();
      }
    });

    // Only PostgreSQL takes these locks: SQLite has one writer, and the MySQL callers update row by row.
    if (dialect === 'postgres') {
      it('locks rows in id order until the transaction ends, so two writers of the same rows queue instead of deadlocking', async () => {
        const { dialect: d } = services().database;
        const db = services().database.db as Kysely<any>; // a table of its own, outside the schema's types
        await db.schema.createTable('lock_rows_probe').addColumn('id', 'integer', (c) => c.primaryKey()).addColumn('n', 'integer').execute();
        try {
          await db.insertInto('lock_rows_probe').values([1, 2, 3].map((id) => ({ id, n: 0 }))).execute();
          const tryLock = (id: number) =>
            sql`select id from lock_rows_probe where id = ${id} for update nowait`.execute(db).then(() => 'free', (err: { code?: string }) => err.code);
          let release!: () => void;
          const held = new Promise<void>((resolve) => (release = resolve));
          const writer = db.transaction().execute(async (trx) => {
            await lockRowsInOrder(trx, d, 'lock_rows_probe', [3, 1, 2, 3]);
            await held;
            await trx.updateTable('lock_rows_probe').set({ n: 1 }).execute();
          });
          await new Promise((r) => setTimeout(r, 100));
          expect(await tryLock(2)).toBe('55P03'); // lock_not_available
          // A second writer taking the same rows in the same order waits for the first to commit.
          const second = db.transaction().execute(async (trx) => {
            await lockRowsInOrder(trx, d, 'lock_rows_probe', [2, 1]);
            await trx.updateTable('lock_rows_probe').set({ n: 2 }).execute();
          });
          release();
          await Promise.all([writer, second]);
          const rows = await db.selectFrom('lock_rows_probe').select('n').execute();
          expect(rows.map((r) => Number(r.n))).toEqual([2, 2, 2]);
          expect(await tryLock(2)).toBe('free');
        } finally {
          await db.schema.dropTable('lock_rows_probe').execute();
        }
      });
    }

    if (dialect === 'postgres') {
      it('locks rows in id order within the update of some of them, in one statement', async () => {
        const db = services().database.db as Kysely<any>;
        await db.schema.createTable('locked_update_probe').addColumn('id', 'integer', (c) => c.primaryKey()).addColumn('n', 'integer').execute();
        try {
          await db.insertInto('locked_update_probe').values([1, 2, 3].map((id) => ({ id, n: 0 }))).execute();
          const tryLock = (id: number) =>
            sql`select id from locked_update_probe where id = ${id} for update nowait`.execute(db).then(() => 'free', (err: { code?: string }) => err.code);
          // Another transaction holds row 2.
          let release!: () => void;
          const held = new Promise<void>((resolve) => (release = resolve));
          let holding!: () => void;
          const holds = new Promise<void>((resolve) => (holding = resolve));
          const other = db.transaction().execute(async (trx) => {
            await sql`select id from locked_update_probe where id = 2 for update`.execute(trx);
            holding();
            await held;
          });
          await holds;
          // Rows 3, 1, 2 listed, only row 3 updated: the statement locks 1, then waits on 2
          // before it locks 3 or updates anything.
          const lock = rowsLockedInOrder('locked_update_probe', [3, 1, 2]);
          const update = sql`${lock.with} update locked_update_probe set n = 7 where id = 3 and ${lock.guard}`.execute(db);
          await new Promise((r) => setTimeout(r, 200));
          expect(await tryLock(1)).toBe('55P03');
          expect(await tryLock(3)).toBe('free');
          release();
          await Promise.all([other, update]);
          const rows = await db.selectFrom('locked_update_probe').select(['id', 'n']).orderBy('id').execute();
          expect(rows.map((r) => [Number(r.id), Number(r.n)])).toEqual([[1, 0], [2, 0], [3, 7]]);
          expect(await tryLock(1)).toBe('free');
        } finally {
          await db.schema.dropTable('locked_update_probe').execute();
        }
      });
    }

    it('selects the rows whose column is one of the values, numbers or text', async () => {
      const { db, dialect: d } = services().database;
      await db.schema.createTable('in_values_probe').addColumn('id', 'bigint', (c) => c.primaryKey()).addColumn('name', 'varchar(32)').execute();
      try {
        await db.insertInto('in_values_probe' as any).values([1, 2, 3, 40_000_000_000].map((id) => ({ id, name: `n'${id}` }))).execute();
        const ids = async (where: ReturnType<typeof inValues>) =>
          (await db.selectFrom('in_values_probe' as any).select('id').where(where).orderBy('id').execute()).map((r: any) => Number(r.id));
        expect(await ids(inValues(d, 'id', [3, 1, 40_000_000_000, 7], 'bigint'))).toEqual([1, 3, 40_000_000_000]);
        expect(await ids(inValues(d, 'name', ["n'2", 'n3', "n'3"], 'text'))).toEqual([2, 3]);
        expect(await ids(inValues(d, 'id', [5], 'bigint'))).toEqual([]);
      } finally {
        await db.schema.dropTable('in_values_probe').execute();
      }
    });
  });
}
