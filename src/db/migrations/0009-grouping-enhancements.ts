/**
 * Project stack trace rules (Sentry's `groupingEnhancements`): one nullable text column on
 * `projects`, read by the grouping step. Left out: Sentry's per-project grouping config choice.
 */
import type { Kysely } from 'kysely';
import { columnTypes, type Dialect } from '../dialect.js';

export async function up(db: Kysely<any>, dialect: Dialect): Promise<void> {
  await db.schema.alterTable('projects').addColumn('grouping_enhancements', columnTypes(dialect).text).execute();
}
