/**
 * `events.post_process`: what post-processing an event was saved for (flags, NULL for none), so a
 * task redelivered after its batch committed, but before the post-process task was queued (the
 * worker died in between), still gets its alert rules and snoozes checked (save.ts).
 */
import type { Kysely } from 'kysely';
import type { Dialect } from '../dialect.js';

export async function up(db: Kysely<any>, _dialect: Dialect): Promise<void> {
  await db.schema.alterTable('events').addColumn('post_process', 'integer').execute();
}
