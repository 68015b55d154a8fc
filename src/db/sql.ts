/**
 * The few statements whose SQL differs between SQLite, PostgreSQL and MySQL, as small builders:
 * insert-or-ignore, upsert-with-arithmetic, insert returning the new id, LIKE escaping, and rows
 * as a table for bulk updates.
 * SQLite and PostgreSQL share `ON CONFLICT ... excluded.x` and RETURNING; MySQL has
 * `INSERT IGNORE`, `ON DUPLICATE KEY UPDATE ... VALUES(x)` and `insertId` instead.
 */
import { CompiledQuery, MysqlAdapter, PostgresAdapter, sql, type InsertQueryBuilder, type Kysely, type RawBuilder, type SelectQueryBuilder, type SqlBool } from 'kysely';
import type { Dialect } from './dialect.js';

export type AnyInsert = InsertQueryBuilder<any, any, any>;

/** INSERT that silently skips rows whose unique key already exists. */
export function insertIgnore<QB extends AnyInsert>(qb: QB, dialect: Dialect, conflict: string[]): QB {
  if (dialect === 'mysql') return qb.ignore() as QB;
  return qb.onConflict((oc) => oc.columns(conflict as any).doNothing()) as QB;
}

export type MergeRule = 'add' | 'min' | 'max' | 'replace';

/** INSERT, or on a duplicate key merge each listed column with the existing row by its rule. */
export function upsert<QB extends AnyInsert>(qb: QB, dialect: Dialect, table: string, conflict: string[], merge: Record<string, MergeRule>): QB {
  const updates: Record<string, RawBuilder<unknown>> = {};
  for (const [col, rule] of Object.entries(merge)) {
    const cur = dialect === 'mysql' ? sql.ref(col) : sql.ref(`${table}.${col}`);
    const incoming = dialect === 'mysql' ? sql`values(${sql.ref(col)})` : sql.ref(`excluded.${col}`);
    updates[col] =
      rule === 'add'
        ? sql`${cur} + ${incoming}`
        : rule === 'min'
          ? sql`case when ${incoming} < ${cur} then ${incoming} else ${cur} end`
          : rule === 'max'
            ? sql`case when ${incoming} > ${cur} then ${incoming} else ${cur} end`
            : sql`${incoming}`;
  }
  if (dialect === 'mysql') return qb.onDuplicateKeyUpdate(updates as any) as QB;
  return qb.onConflict((oc) => oc.columns(conflict as any).doUpdateSet(updates as any)) as QB;
}

/**
 * How many rows `query` gives, counted only up to `cap` (`LIMIT` in a subquery): enough to tell
 * whether a threshold is reached without reading every row past it.
 */
export async function countUpTo(db: Kysely<any>, query: SelectQueryBuilder<any, any, any>, cap: number): Promise<number> {
  const row = await db.selectFrom(query.limit(cap).as('counted')).select(sql<number>`count(*)`.as('n')).executeTakeFirst();
  return Number((row as { n?: unknown } | undefined)?.n ?? 0);
}

/**
 * Runs an INSERT of one row and returns the new row's `id` (null when an ignore skipped it).
 * SQLite gets the id from the connection (`last_insert_rowid`), not from RETURNING: SQLite
 * collects RETURNING rows in a temporary table, which made an issue's INSERT take 38–41 instead
 * of 6 µs (docs/decisions.md).
 */
export async function insertReturningId(qb: AnyInsert, dialect: Dialect): Promise<number | null> {
  if (dialect === 'mysql' || dialect === 'sqlite') {
    const r = await qb.executeTakeFirst();
    return r && Number(r.numInsertedOrUpdatedRows ?? 0) > 0 && r.insertId !== undefined ? Number(r.insertId) : null;
  }
  const row = (await qb.returning('id' as any).executeTakeFirst()) as { id: number } | undefined;
  return row ? Number(row.id) : null;
}

/** The ESCAPE clause for LIKE patterns built with `escapeLike` (backslash is special in MySQL strings). */
export function likeEscape(dialect: Dialect): RawBuilder<unknown> {
  return dialect === 'mysql' ? sql.raw(`escape '\\\\'`) : sql.raw(`escape '\\'`);
}

/** Escapes LIKE metacharacters and turns Sentry's `*` wildcard into `%`. */
export function escapeLike(value: string): string {
  return value.replace(/[\\%_]/g, (c) => `\\${c}`).replace(/\*/g, '%');
}

/**
 * Case-insensitive `column LIKE pattern` (pattern built with `escapeLike`). SQLite's LIKE already
 * ignores ASCII case; PostgreSQL has ILIKE; MySQL's answer depends on the collation, so lower both.
 */
export function likeInsensitive(dialect: Dialect, column: string, pattern: string): RawBuilder<SqlBool> {
  const col = sql.ref(column);
  if (dialect === 'postgres') return sql<SqlBool>`${col} ilike ${pattern} ${likeEscape(dialect)}`;
  if (dialect === 'mysql') return sql<SqlBool>`lower(${col}) like lower(${pattern}) ${likeEscape(dialect)}`;
  return sql<SqlBool>`${col} like ${pattern} ${likeEscape(dialect)}`;
}

/** The dialect behind a Kysely instance (or transaction), for code that is handed only `db`. */
export function dialectOfDb(db: { getExecutor(): { adapter: unknown } }): Dialect {
  const adapter = db.getExecutor().adapter;
  if (adapter instanceof MysqlAdapter) return 'mysql';
  if (adapter instanceof PostgresAdapter) return 'postgres';
  return 'sqlite';
}

/**
 * PostgreSQL: locks the rows of `table` with these ids in ascending order (`SELECT ... ORDER BY id
 * FOR UPDATE`), in the caller's transaction. A multi-row UPDATE locks rows in the order its plan
 * visits them (a hash join: the table's order), not the ids' order; with the locks taken in one
 * order first, two transactions writing the same rows (workers, the buffer's flush) wait for each
 * other instead of deadlocking. Other dialects: nothing (SQLite has one writer; the MySQL callers
 * update one row at a time).
 */
export async function lockRowsInOrder(trx: Kysely<any>, dialect: Dialect, table: string, ids: number[]): Promise<void> {
  if (dialect !== 'postgres' || ids.length < 2) return;
  await sql`select id from ${sql.table(table)} where id = any(${[...new Set(ids)]}::bigint[]) order by id for update`.execute(trx);
}

/**
 * PostgreSQL: `lockRowsInOrder` and an UPDATE of those rows as one statement, one round trip
 * instead of two (and no transaction of its own needed, the statement being atomic). Put `with`
 * before the UPDATE and `guard` in its WHERE clause: the locking SELECT is a CTE read by an
 * uncorrelated subquery, which PostgreSQL runs once before the update reaches its first row (in
 * its plan, an InitPlan behind a one-time filter), so the rows are locked in id order first.
 */
export function rowsLockedInOrder(table: string, ids: number[]): { with: RawBuilder<unknown>; guard: RawBuilder<SqlBool> } {
  return {
    with: sql`with locked_in_order as (select id from ${sql.table(table)} where id = any(${[...new Set(ids)]}::bigint[]) order by id for update)`,
    guard: sql<SqlBool>`(select count(*) from locked_in_order) >= 0`,
  };
}

/**
 * `column IN (values)` with the values in one parameter where the database can take them so
 * (SQLite `json_each`, PostgreSQL `= any(array)`): one statement text whatever their number. A list
 * of `?` per value makes a statement for each count, and SQLite keeps each prepared (connect.ts).
 * `values`: at least one. `pgType`: the array's PostgreSQL element type.
 */
export function inValues(dialect: Dialect, column: string, values: readonly (string | number)[], pgType: 'bigint' | 'text') {
  if (dialect === 'sqlite') return sql<boolean>`${sql.ref(column)} in (select value from json_each(${JSON.stringify(values)}))`;
  if (dialect === 'postgres') return sql<boolean>`${sql.ref(column)} = any(${values}::${sql.raw(pgType)}[])`;
  return sql<boolean>`${sql.ref(column)} in (${sql.join(values)})`;
}

/**
 * Rows as a derived table `v` with the columns of `types` (PostgreSQL types), for one
 * `UPDATE ... FROM` over many rows instead of a statement per row: PostgreSQL gets `unnest` of one
 * array per column, SQLite `json_each` over one JSON parameter. Null on MySQL (callers loop).
 */
export function rowsTable<Row extends Record<string, unknown>>(dialect: Dialect, types: { [K in keyof Row]: string }, rows: Row[]): RawBuilder<unknown> | null {
  const columns = Object.keys(types) as (keyof Row & string)[];
  if (dialect === 'postgres') {
    const arrays = columns.map((c) => sql`${rows.map((r) => r[c] ?? null)}::${sql.raw(types[c])}[]`);
    return sql`unnest(${sql.join(arrays)}) as v(${sql.join(columns.map((c) => sql.ref(c)))})`;
  }
  if (dialect === 'sqlite') {
    // Loops, not closures made for each call (V8 compiled those again every few batches).
    const values: unknown[][] = [];
    for (const r of rows) {
      const row: unknown[] = [];
      for (const c of columns) row.push(r[c] ?? null);
      values.push(row);
    }
    const select: RawBuilder<unknown>[] = [];
    for (let i = 0; i < columns.length; i++) select.push(sql`value ->> ${sql.lit(i)} as ${sql.ref(columns[i])}`);
    return sql`(select ${sql.join(select)} from json_each(${JSON.stringify(values)})) as v`;
  }
  return null;
}

/**
 * Inserts many rows. PostgreSQL gets one `INSERT ... SELECT FROM unnest($1::type[], ...)`: one
 * array parameter per column (`bytea` columns: `unnestInsert`), so the statement text and the
 * parameter count stay the same however many rows there are (a multi-row VALUES list of 200 rows
 * × 7 columns is 1,400 parameters to bind and a new statement for the server to parse every
 * time). SQLite and MySQL get multi-row VALUES in chunks of 200 rows. `types` names each
 * column's PostgreSQL type; `finish` adds the conflict clause (`insertIgnore`, `upsert`) and any
 * RETURNING clause, whose rows are returned. `rows`: objects, or columns (`ColumnRows`).
 *
 * With `cacheKey` (one per call site: it stands for `table`, `types` and `finish`), the multi-row
 * VALUES statement is built by Kysely once per row count and reused with new parameters: building
 * and compiling it costs about 2 µs per row, as much as SQLite takes to insert the row.
 */
export async function insertRows<Row extends Record<string, unknown>>(
  db: Kysely<any>,
  dialect: Dialect,
  table: string,
  types: { [K in keyof Row]: string },
  rows: Row[] | ColumnRows<Row>,
  finish: (qb: AnyInsert) => AnyInsert = (qb) => qb,
  cacheKey?: string,
): Promise<Record<string, unknown>[]> {
  const columns = Object.keys(types) as (keyof Row & string)[];
  const source = rowSource(rows);
  const count = source.count;
  if (count === 0) return [];
  if (dialect === 'postgres') return (await finish(unnestInsert(db, table, types, columns, source)).execute()) as Record<string, unknown>[];
  const returned: Record<string, unknown>[] = [];
  for (let i = 0; i < count; i += 200) {
    const end = Math.min(count, i + 200);
    const params = cacheKey ? rowParameters(source, i, end, columns) : null;
    const key = `${dialect}:${cacheKey}:${end - i}`;
    const text = params && valuesStatements.get(key);
    if (params && text) {
      returned.push(...((await db.executeQuery(CompiledQuery.raw(text, params))).rows as Record<string, unknown>[]));
      continue;
    }
    const compiled = finish(db.insertInto(table).values(source.objects(i, end, columns))).compile();
    // Reuse the text only if Kysely's parameters are exactly the row values in column order.
    if (params && compiled.parameters.length === params.length && compiled.parameters.every((p, j) => p === params[j])) {
      if (valuesStatements.size >= 400) valuesStatements.clear();
      valuesStatements.set(key, compiled.sql);
    }
    returned.push(...((await db.executeQuery(compiled)).rows as Record<string, unknown>[]));
  }
  return returned;
}

/**
 * Rows kept as one array per column, for `insertRows`: `pick` lists the rows to insert (indexes
 * into every column). A caller with thousands of small rows per batch keeps them so rather than
 * as an object each, which lived through the batch's statements and so through young-generation
 * collections, each copying them (docs/decisions.md, tag value counts).
 */
export interface ColumnRows<Row extends Record<string, unknown>> {
  columns: { [K in keyof Row]: readonly Row[K][] };
  pick: readonly number[];
}

/**
 * Rows to insert, read one value at a time, from objects or from columns. Classes rather than
 * closures made for each call: V8 compiled such closures again every few batches (the save
 * step's transaction body, docs/decisions.md).
 */
interface RowSource<Row extends Record<string, unknown>> {
  readonly count: number;
  value(n: number, column: keyof Row & string): unknown;
  /** Rows `start` to `end` as objects, for Kysely to build a statement from. */
  objects(start: number, end: number, columns: (keyof Row & string)[]): Row[];
}

class ObjectRows<Row extends Record<string, unknown>> implements RowSource<Row> {
  constructor(private readonly rows: Row[]) {}
  get count(): number {
    return this.rows.length;
  }
  value(n: number, column: keyof Row & string): unknown {
    return this.rows[n][column];
  }
  objects(start: number, end: number): Row[] {
    return this.rows.slice(start, end);
  }
}

class PickedColumns<Row extends Record<string, unknown>> implements RowSource<Row> {
  constructor(private readonly source: ColumnRows<Row>) {}
  get count(): number {
    return this.source.pick.length;
  }
  value(n: number, column: keyof Row & string): unknown {
    return this.source.columns[column][this.source.pick[n]];
  }
  objects(start: number, end: number, columns: (keyof Row & string)[]): Row[] {
    const out: Row[] = [];
    for (let n = start; n < end; n++) {
      const row = {} as Row;
      for (const c of columns) row[c] = this.source.columns[c][this.source.pick[n]];
      out.push(row);
    }
    return out;
  }
}

function rowSource<Row extends Record<string, unknown>>(rows: Row[] | ColumnRows<Row>): RowSource<Row> {
  return Array.isArray(rows) ? new ObjectRows(rows) : new PickedColumns(rows);
}

/**
 * PostgreSQL: `INSERT ... SELECT FROM unnest(...)`, one array per column. node-postgres sends an
 * array parameter only as text, where every byte of a body would become two hex digits to write
 * and parse; so the rows' `bytea` values of a column go as ONE binary parameter, their bytes end
 * to end, cut apart in the statement by offset and length arrays. (As a multi-row VALUES list,
 * 100 bodies were 300 parameters and a new statement for the server to plan every time.)
 */
function unnestInsert<Row extends Record<string, unknown>>(db: Kysely<any>, table: string, types: { [K in keyof Row]: string }, columns: (keyof Row & string)[], rows: RowSource<Row>): AnyInsert {
  const arrays: RawBuilder<unknown>[] = [];
  const names: RawBuilder<unknown>[] = [];
  const select: RawBuilder<unknown>[] = [];
  for (const c of columns) {
    const v = sql.ref(`v.${c}`);
    if (types[c] !== 'bytea') {
      const values = new Array<unknown>(rows.count);
      for (let n = 0; n < rows.count; n++) values[n] = rows.value(n, c) ?? null;
      arrays.push(sql`${values}::${sql.raw(types[c])}[]`);
      names.push(sql.ref(c));
      select.push(v);
      continue;
    }
    const parts: Buffer[] = [];
    const offsets: number[] = [];
    const lengths: (number | null)[] = [];
    let at = 1; // substring() counts from 1
    for (let n = 0; n < rows.count; n++) {
      const b = rows.value(n, c) as Uint8Array | null | undefined;
      offsets.push(at);
      if (b === null || b === undefined) {
        lengths.push(null);
        continue;
      }
      const buf = Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength);
      parts.push(buf);
      lengths.push(buf.length);
      at += buf.length;
    }
    const off = sql.ref(`v.${c}_off`);
    const len = sql.ref(`v.${c}_len`);
    arrays.push(sql`${offsets}::int[]`, sql`${lengths}::int[]`);
    names.push(sql.ref(`${c}_off`), sql.ref(`${c}_len`));
    select.push(sql`case when ${len} is null then null else substring(${Buffer.concat(parts)}::bytea from ${off} for ${len}) end`);
  }
  return db.insertInto(table).columns(columns).expression(sql`select ${sql.join(select)} from unnest(${sql.join(arrays)}) as v(${sql.join(names)})`);
}

/** Multi-row VALUES statements by dialect, call site and row count (insertRows). */
const valuesStatements = new Map<string, string>();

/** The rows' values in statement order, or null if one is undefined (Kysely would leave it out). */
function rowParameters<Row extends Record<string, unknown>>(rows: RowSource<Row>, start: number, end: number, columns: (keyof Row & string)[]): unknown[] | null {
  const out = new Array<unknown>((end - start) * columns.length);
  let k = 0;
  for (let n = start; n < end; n++) {
    for (const c of columns) {
      const v = rows.value(n, c);
      if (v === undefined) return null;
      out[k++] = v;
    }
  }
  return out;
}
