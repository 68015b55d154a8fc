/** Issue short ids (PROJECT-1, ...): a per-project counter taken inside the batch's transaction. */
import { sql, type Transaction } from 'kysely';
import type { Database } from '../db/index.js';

export async function nextShortIdIn(trx: Transaction<Database>, projectId: number): Promise<number> {
  const row = await trx
    .updateTable('projects')
    .set({ next_short_id: sql`next_short_id + 1` })
    .where('id', '=', projectId)
    .returning('next_short_id')
    .executeTakeFirstOrThrow();
  return Number(row.next_short_id) - 1;
}
