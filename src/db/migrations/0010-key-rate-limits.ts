/** Per-key rate limits, as Sentry's client keys have them: `count` events per `window` seconds. */
import type { Kysely } from 'kysely';
import type { Dialect } from '../dialect.js';

export async function up(db: Kysely<any>, _dialect: Dialect): Promise<void> {
  await db.schema.alterTable('project_keys').addColumn('rate_limit_count', 'integer').execute();
  await db.schema.alterTable('project_keys').addColumn('rate_limit_window', 'integer').execute();
}
