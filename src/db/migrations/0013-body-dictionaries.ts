/**
 * `nodestore_dictionaries`: the Zstandard dictionaries that event bodies (nodestore codec format 3)
 * are compressed with, sampled per project from the code parts of its own events
 * (services/nodestore/dictionaries.ts). The id is a 48-bit hash of the project and the content, so
 * workers make them without coordinating; bodies name their dictionary by it.
 */
import type { Kysely } from 'kysely';
import { columnTypes, type Dialect } from '../dialect.js';

export async function up(db: Kysely<any>, dialect: Dialect): Promise<void> {
  const t = columnTypes(dialect);
  await db.schema.createTable('nodestore_dictionaries')
    .addColumn('id', 'bigint', (c) => c.primaryKey())
    .addColumn('project_id', 'integer', (c) => c.notNull())
    .addColumn('created', 'bigint', (c) => c.notNull())
    .addColumn('data', t.blob, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('nodestore_dictionaries_project_created').on('nodestore_dictionaries').columns(['project_id', 'created']).execute();
}
