/** Issue short ids (PROJECT-1, ...): a per-project counter taken inside the batch's transaction. */
import { sql, type Transaction } from 'kysely';
import type { Database, Dialect } from '../db/index.js';

export async function nextShortIdIn(trx: Transaction<Database>, projectId: number, dialect: Dialect): Promise<number> {
  // The UPDATE takes the row lock first, so concurrent workers never read the same number.
  const bump = trx.updateTable('projects').set({ next_short_id: sql`next_short_id + 1` }).where('id', '=', projectId);
  if (dialect !== 'mysql') {
    // One statement where the dialect has RETURNING (a new issue used to cost two here).
    const row = await bump.returning('next_short_id').executeTakeFirstOrThrow();
    return Number(row.next_short_id) - 1;
  }
  await bump.execute();
  const row = await trx.selectFrom('projects').select('next_short_id').where('id', '=', projectId).executeTakeFirstOrThrow();
  return Number(row.next_short_id) - 1;
}
