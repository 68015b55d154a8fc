/**
 * Opens the metadata database (connect.ts) and runs migrations.
 *
 * The embedded default is one SQLite file (`<dataDir>/faultline.db`) in WAL mode: readers never
 * block the writer, and several processes (the server, `faultline project create`, ...) can share
 * the file; busy_timeout makes a second writer wait instead of failing. synchronous=NORMAL is
 * durable against a process crash (kill -9), which is what the durability promise needs; an OS
 * crash may lose the last transactions, as documented in docs/operations.md.
 */
import { Kysely, Migrator, type Migration, type MigrationProvider } from 'kysely';
import type { Dialect } from './dialect.js';
import type { Database } from './schema.js';
import * as m0001 from './migrations/0001-initial.js';
import * as m0002 from './migrations/0002-sessions.js';
import * as m0003 from './migrations/0003-scheduler-locks.js';

export type { Database } from './schema.js';
export * from './schema.js';
export type { Dialect } from './dialect.js';

export { connect as openDatabase, dialectOf, tuneSqlite, type DatabaseHandle } from './connect.js';
import type { DatabaseHandle } from './connect.js';

const MIGRATIONS: Record<string, { up(db: Kysely<any>, dialect: Dialect): Promise<void> }> = {
  '0001-initial': m0001,
  '0002-sessions': m0002,
  '0003-scheduler-locks': m0003,
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
