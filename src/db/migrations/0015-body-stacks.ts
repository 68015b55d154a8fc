/**
 * `body_stacks`: the text of each stack trace that event bodies (nodestore codec format 4) refer
 * to instead of holding it, stored once per project and stack. Most events of an application
 * repeat a few stacks, which were half of every body's bytes. The id is a SHA-256 of the project
 * and the stack's text, so workers write them without coordinating and no project can name
 * another's; `last_used` is the latest event time of a body that refers to it (kept to within a
 * day), which tells retention when no body can be left that needs it.
 */
import type { Kysely } from 'kysely';
import { columnTypes, type Dialect } from '../dialect.js';

export async function up(db: Kysely<any>, dialect: Dialect): Promise<void> {
  const t = columnTypes(dialect);
  await db.schema.createTable('body_stacks')
    .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('project_id', 'integer', (c) => c.notNull())
    .addColumn('last_used', 'bigint', (c) => c.notNull())
    .addColumn('data', t.blob, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('body_stacks_project_last_used').on('body_stacks').columns(['project_id', 'last_used']).execute();
}
