/**
 * One connection pool per dialect, chosen by FAULTLINE_DATABASE_URL:
 * - unset or `sqlite:<file>`: the embedded SQLite file (WAL; see index.ts for why these pragmas);
 * - `postgres://` / `postgresql://`: node-postgres pool;
 * - `mysql://` / `mariadb://`: mysql2 pool.
 * Integers come back as JS numbers in every dialect (bigint columns hold Unix ms and counters,
 * far below 2^53), so code above this file never sees dialect-specific value types.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, MysqlDialect, PostgresDialect, SqliteDialect } from 'kysely';
import type { Config } from '../config/index.js';
import type { Dialect } from './dialect.js';
import { RecentEventIds } from './event-ids.js';
import type { Database } from './schema.js';

export interface DatabaseHandle {
  db: Kysely<Database>;
  dialect: Dialect;
  /** The raw SQLite connection, for the few hot paths that use prepared statements directly. */
  sqlite?: BetterSqlite3.Database;
  /** SQLite: the ids of the events not yet in `event_ids`, as this connection last read them (event-ids.ts). */
  recentEventIds?: RecentEventIds;
  close(): Promise<void>;
}

/** Applies the pragmas every Faultline SQLite connection uses. */
export function tuneSqlite(conn: BetterSqlite3.Database): void {
  conn.pragma('journal_mode = WAL');
  conn.pragma('synchronous = NORMAL');
  conn.pragma('busy_timeout = 10000');
  conn.pragma('foreign_keys = OFF');
  // 8 MB of pages per connection: the hot index pages fit, and there are four connections in
  // `faultline start` (32 MB each cost about 50 MB of resident memory under load, for no speed).
  conn.pragma('cache_size = -8000');
  // Checkpoints are the event worker's (WORKER_CHECKPOINT_BYTES); another connection checkpoints
  // only past 64 MB of WAL, when no worker runs, so ingest and the API never stall on one.
  conn.pragma(`wal_autocheckpoint = ${walPages(conn, 64 * 1024 * 1024)}`);
}

/** `wal_autocheckpoint` counts pages: how many of this database's pages make `bytes`. */
export function walPages(conn: BetterSqlite3.Database, bytes: number): number {
  return Math.max(1, Math.round(bytes / (conn.pragma('page_size', { simple: true }) as number)));
}

/**
 * The event worker's checkpoints run every 40 MB of WAL (on a thread of their own,
 * checkpointer.ts) instead of SQLite's 4 MB: a batch of 100 events dirtied about 3 MB of pages,
 * so at 4 MB nearly every commit checkpointed and copied the same hot index pages again. Measured with `bench --profile-worker`: the worker's SQL
 * time fell from ~175 to ~125 µs per event.
 */
export const WORKER_CHECKPOINT_BYTES = 40 * 1024 * 1024;

/** Page size of a new faultline.db (bytes). */
export const SQLITE_PAGE_SIZE = 16_384;

export function dialectOf(url: string | undefined): Dialect {
  if (!url || url.startsWith('sqlite:')) return 'sqlite';
  if (/^postgres(ql)?:/.test(url)) return 'postgres';
  if (/^(mysql|mariadb):/.test(url)) return 'mysql';
  throw new Error(`FAULTLINE_DATABASE_URL: unsupported scheme "${url.split(':')[0]}" (use sqlite:, postgres:// or mysql://)`);
}

/**
 * Kysely's SQLite driver prepares every query anew; preparing costs about as much as running a
 * small statement, and the worker runs the same few statements thousands of times. Statements are
 * kept by SQL text (bounded; IN-lists of varying length make distinct texts). Safe because Kysely
 * runs one query at a time on this connection.
 */
function withStatementCache(sqlite: BetterSqlite3.Database) {
  const cache = new Map<string, BetterSqlite3.Statement>();
  return {
    prepare(sql: string) {
      // Kysely opens transactions with a plain (deferred) BEGIN. A deferred transaction that reads
      // and then writes fails at once with SQLITE_BUSY if another connection committed in between
      // (the busy timeout cannot help a stale snapshot), as the worker's save does whenever another
      // thread or process writes. BEGIN IMMEDIATE takes the write lock first and waits for it.
      if (sql === 'begin') sql = 'begin immediate';
      let stmt = cache.get(sql);
      if (!stmt) {
        stmt = sqlite.prepare(sql);
        if (cache.size >= 500) cache.clear();
        cache.set(sql, stmt);
      }
      return stmt;
    },
    close() {
      sqlite.close();
    },
  };
}

function openSqlite(config: Config): DatabaseHandle {
  const url = config.databaseUrl;
  const file = url ? url.replace(/^sqlite:(\/\/)?/, '') : path.join(config.dataDir, 'faultline.db');
  if (file !== ':memory:') mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  const sqlite = new BetterSqlite3(file);
  // Both must precede the first table (a database made earlier keeps what it was made with).
  // 16 KB pages: an event body of 2-4 KB left about a quarter of each 4 KB page unused (26 %
  // fewer bytes stored per event; the price is more write-ahead log, docs/decisions.md).
  // auto_vacuum lets `cleanup` give disk space back.
  sqlite.pragma(`page_size = ${SQLITE_PAGE_SIZE}`);
  sqlite.pragma('auto_vacuum = INCREMENTAL');
  tuneSqlite(sqlite);
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: withStatementCache(sqlite) }) });
  return { db, dialect: 'sqlite', sqlite, recentEventIds: new RecentEventIds(), close: () => db.destroy() };
}

async function openPostgres(url: string): Promise<DatabaseHandle> {
  const pg = (await import('pg')).default;
  const parseInt8 = (v: string) => Number(v);
  // int8 (20) for bigint columns and COUNT, numeric (1700) for SUM.
  const types = {
    getTypeParser: (oid: number, format?: any) =>
      oid === 20 || oid === 1700 ? parseInt8 : pg.types.getTypeParser(oid, format),
  };
  const pool = new pg.Pool({ connectionString: url, max: 10, types });
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  return { db, dialect: 'postgres', close: () => db.destroy() };
}

async function openMysql(url: string): Promise<DatabaseHandle> {
  const mysql = await import('mysql2');
  const pool = mysql.createPool({
    uri: url.replace(/^mariadb:/, 'mysql:'),
    connectionLimit: 10,
    supportBigNumbers: true,
    bigNumberStrings: false,
    decimalNumbers: true,
    charset: 'utf8mb4',
    timezone: 'Z',
  });
  const db = new Kysely<Database>({ dialect: new MysqlDialect({ pool: pool as any }) });
  return { db, dialect: 'mysql', close: () => db.destroy() };
}

export async function connect(config: Config): Promise<DatabaseHandle> {
  const dialect = dialectOf(config.databaseUrl);
  if (dialect === 'postgres') return openPostgres(config.databaseUrl!);
  if (dialect === 'mysql') return openMysql(config.databaseUrl!);
  return openSqlite(config);
}
