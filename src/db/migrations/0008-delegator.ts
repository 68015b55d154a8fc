/**
 * The Service Delegator's tables: `delegator_calls` (one row per backend per sampled call, written
 * in batches by the consumer of the `delegator` queue), `delegator_settings` (run-time primary /
 * secondaries / sampling per service, polled by every process) and
 * `nodestore_migration_checkpoints` (where `faultline nodestore migrate` resumes).
 * Left out: partitioning of `delegator_calls`; `faultline cleanup` style pruning is by time index.
 */
import type { Kysely } from 'kysely';
import { columnTypes, type Dialect } from '../dialect.js';

export async function up(db: Kysely<any>, dialect: Dialect): Promise<void> {
  const t = columnTypes(dialect);
  // 'real' is float4 on PostgreSQL and double on SQLite / MySQL: plenty for ms latencies and 0..1 scores.
  await db.schema.createTable('delegator_calls')
    .addColumn('id', t.idType, (c) => t.id(c))
    .addColumn('call_id', 'varchar(36)', (c) => c.notNull())
    .addColumn('service', 'varchar(64)', (c) => c.notNull())
    .addColumn('method', 'varchar(64)', (c) => c.notNull())
    .addColumn('backend', 'varchar(64)', (c) => c.notNull())
    .addColumn('role', 'varchar(16)', (c) => c.notNull())
    .addColumn('latency_ms', 'real', (c) => c.notNull())
    .addColumn('error', 'varchar(500)')
    .addColumn('similarity', 'real')
    .addColumn('sampled_at', 'bigint', (c) => c.notNull())
    .addColumn('organization_id', 'integer')
    .addColumn('project_id', 'integer')
    .execute();
  await db.schema.createIndex('delegator_calls_time').on('delegator_calls').columns(['sampled_at']).execute();
  await db.schema.createIndex('delegator_calls_service_time').on('delegator_calls').columns(['service', 'sampled_at']).execute();

  await db.schema.createTable('delegator_settings')
    .addColumn('service', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('primary_backend', 'varchar(64)')
    .addColumn('secondaries', 'varchar(1000)')
    .addColumn('sample_rate', 'real')
    .addColumn('organizations', t.text)
    .addColumn('projects', t.text)
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();

  await db.schema.createTable('nodestore_migration_checkpoints')
    .addColumn('name', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('after_key', t.text)
    .addColumn('copied', 'bigint', (c) => c.notNull())
    .addColumn('done', 'integer', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
}
