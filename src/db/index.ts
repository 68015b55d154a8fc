/**
 * Opens the metadata database and runs migrations.
 *
 * The embedded default is one SQLite file (`<dataDir>/faultline.db`) in WAL mode: readers never
 * block the writer, and several processes (the server, `faultline project create`, ...) can share
 * the file; busy_timeout makes a second writer wait instead of failing. synchronous=NORMAL is
 * durable against a process crash (kill -9), which is what the durability promise needs; an OS
 * crash may lose the last transactions, as documented in docs/operations.md.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, Migrator, SqliteDialect, type Migration, type MigrationProvider } from 'kysely';
import type { Config } from '../config/index.js';
import type { Dialect } from './dialect.js';
import type { Database } from './schema.js';
import * as m0001 from './migrations/0001-initial.js';

export type { Database } from './schema.js';
export * from './schema.js';
export type { Dialect } from './dialect.js';

export interface DatabaseHandle {
  db: Kysely<Database>;
  dialect: Dialect;
  /** The raw SQLite connection, for the few hot paths that use prepared statements directly. */
  sqlite?: BetterSqlite3.Database;
  close(): Promise<void>;
}

/** Applies the pragmas every Faultline SQLite connection uses. */
export function tuneSqlite(conn: BetterSqlite3.Database): void {
  conn.pragma('journal_mode = WAL');
  conn.pragma('synchronous = NORMAL');
  conn.pragma('busy_timeout = 10000');
  conn.pragma('foreign_keys = OFF');
  conn.pragma('cache_size = -32000');
}

export function openDatabase(config: Config): DatabaseHandle {
  const url = config.databaseUrl;
  if (url && !url.startsWith('sqlite:')) {
    throw new Error(`FAULTLINE_DATABASE_URL ${url.split(':')[0]}: only sqlite is supported in this release`);
  }
  const file = url ? url.replace(/^sqlite:(\/\/)?/, '') : path.join(config.dataDir, 'faultline.db');
  if (file !== ':memory:') mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  const sqlite = new BetterSqlite3(file);
  // Must precede the first table: lets `cleanup` give disk space back with incremental vacuum.
  sqlite.pragma('auto_vacuum = INCREMENTAL');
  tuneSqlite(sqlite);
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) });
  return {
    db,
    dialect: 'sqlite',
    sqlite,
    close: async () => {
      await db.destroy();
    },
  };
}

const MIGRATIONS: Record<string, { up(db: Kysely<any>, dialect: Dialect): Promise<void> }> = {
  '0001-initial': m0001,
};

class StaticMigrationProvider implements MigrationProvider {
  constructor(private readonly dialect: Dialect) {}
  async getMigrations(): Promise<Record<string, Migration>> {
    const out: Record<string, Migration> = {};
    for (const [name, mod] of Object.entries(MIGRATIONS)) {
      out[name] = { up: (db) => mod.up(db, this.dialect) };
    }
    return out;
  }
}

/** Brings the schema to the latest version. Safe to run from several processes (Kysely's migration lock). */
export async function migrate(handle: DatabaseHandle): Promise<string[]> {
  const migrator = new Migrator({ db: handle.db, provider: new StaticMigrationProvider(handle.dialect) });
  const { error, results } = await migrator.migrateToLatest();
  if (error) throw error instanceof Error ? error : new Error(String(error));
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
