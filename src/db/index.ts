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
import * as m0001 from './migrations/0001-initial.js';
import * as m0002 from './migrations/0002-sessions.js';
import * as m0003 from './migrations/0003-scheduler-locks.js';
import * as m0004 from './migrations/0004-releases-artifacts.js';
import * as m0006 from './migrations/0006-organization-retention.js';
import * as m0007 from './migrations/0007-triage-alerts.js';
import * as m0008 from './migrations/0008-delegator.js';
import * as m0009 from './migrations/0009-grouping-enhancements.js';
import * as m0010 from './migrations/0010-key-rate-limits.js';
import * as m0011 from './migrations/0011-project-teams.js';
import * as m0012 from './migrations/0012-event-post-process.js';
import * as m0013 from './migrations/0013-body-dictionaries.js';
import * as m0014 from './migrations/0014-events-group-received.js';
import * as m0015 from './migrations/0015-body-stacks.js';
import * as m0016 from './migrations/0016-events-group-index.js';
import * as m0017 from './migrations/0017-event-ids.js';

export type { Database } from './schema.js';
export * from './schema.js';
export type { Dialect } from './dialect.js';

export { connect as openDatabase, dialectOf, tuneSqlite, walPages, WORKER_CHECKPOINT_BYTES, type DatabaseHandle } from './connect.js';
import type { DatabaseHandle } from './connect.js';

const MIGRATIONS: Record<string, { up(db: Kysely<any>, dialect: Dialect): Promise<void> }> = {
  '0001-initial': m0001,
  '0002-sessions': m0002,
  '0003-scheduler-locks': m0003,
  '0004-releases-artifacts': m0004,
  '0006-organization-retention': m0006,
  '0007-triage-alerts': m0007,
  '0008-delegator': m0008,
  '0009-grouping-enhancements': m0009,
  '0010-key-rate-limits': m0010,
  '0011-project-teams': m0011,
  '0012-event-post-process': m0012,
  '0013-body-dictionaries': m0013,
  '0014-events-group-received': m0014,
  '0015-body-stacks': m0015,
  '0016-events-group-index': m0016,
  '0017-event-ids': m0017,
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

/**
 * Brings the schema to the latest version (or to the migration `upTo`, for tests of a migration).
 * Safe to run from several processes (Kysely's migration lock).
 */
export async function migrate(handle: DatabaseHandle, upTo?: string): Promise<string[]> {
  // Unordered: migrations written in parallel land with interleaved numbers; each runs once by name.
  const migrator = new Migrator({ db: handle.db, provider: new StaticMigrationProvider(handle.dialect), allowUnorderedMigrations: true });
  const { error, results } = await (upTo ? migrator.migrateTo(upTo) : migrator.migrateToLatest());
  if (error) throw error instanceof Error ? error : new Error(String(error));
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
