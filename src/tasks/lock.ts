/**
 * Fleet-wide leases in SQL (`scheduler_locks`): a scheduled job runs only on the process that
 * holds its lease, and another process takes over once the lease expires (the holder died).
 * Plain INSERT-or-UPDATE-if-expired, so it works on every dialect without Redis.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../db/index.js';
import { dialectOfDb, insertIgnore } from '../db/sql.js';

export async function tryAcquireLease(db: Kysely<Database>, name: string, holder: string, leaseMs: number, now = Date.now()): Promise<boolean> {
  const inserted = await insertIgnore(
    db.insertInto('scheduler_locks').values({ name, holder, expires_at: now + leaseMs }),
    dialectOfDb(db),
    ['name'],
  ).executeTakeFirst();
  if (Number(inserted.numInsertedOrUpdatedRows ?? 0) > 0) return true;
  const updated = await db
    .updateTable('scheduler_locks')
    .set({ holder, expires_at: now + leaseMs })
    .where('name', '=', name)
    .where((eb) => eb.or([eb('expires_at', '<', now), eb('holder', '=', holder)]))
    .executeTakeFirst();
  return Number(updated.numUpdatedRows) > 0;
}

export async function releaseLease(db: Kysely<Database>, name: string, holder: string): Promise<void> {
  await db.deleteFrom('scheduler_locks').where('name', '=', name).where('holder', '=', holder).execute();
}
