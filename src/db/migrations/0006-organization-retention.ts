/** Per-organization event retention in days (null: the server default, FAULTLINE_RETENTION_DAYS). */
import type { Kysely } from 'kysely';
import type { Dialect } from '../dialect.js';

export async function up(db: Kysely<any>, _dialect: Dialect): Promise<void> {
  await db.schema.alterTable('organizations').addColumn('retention_days', 'integer').execute();
}
