/**
 * Web UI sessions and login-attempt bookkeeping.
 *
 * `user_sessions` keeps only the sha256 of a session token (as `api_tokens` does), so a leaked
 * database does not hand out logged-in cookies. `login_attempts` holds one row per failed login
 * per key (`email:<address>` or `ip:<address>`); the rate limit counts rows in a time window, and
 * being in SQL it holds across every `faultline web` process. Old rows are deleted as logins
 * happen; nothing here needs a scheduled cleanup.
 */
import type { Kysely } from 'kysely';
import { columnTypes, type Dialect } from '../dialect.js';

export async function up(db: Kysely<any>, dialect: Dialect): Promise<void> {
  const t = columnTypes(dialect);
  const id = (col: any) => t.id(col);

  await db.schema.createTable('user_sessions')
    .addColumn('id', t.idType, id)
    .addColumn('token_hash', 'varchar(64)', (c) => c.notNull().unique())
    .addColumn('user_id', 'integer', (c) => c.notNull())
    .addColumn('date_created', 'bigint', (c) => c.notNull())
    .addColumn('last_seen', 'bigint', (c) => c.notNull())
    .addColumn('expires', 'bigint', (c) => c.notNull())
    .addColumn('ip_address', 'varchar(64)')
    .addColumn('user_agent', 'varchar(255)')
    .execute();
  await db.schema.createIndex('user_sessions_user').on('user_sessions').column('user_id').execute();

  await db.schema.createTable('login_attempts')
    .addColumn('id', t.idType, id)
    .addColumn('key', 'varchar(320)', (c) => c.notNull())
    .addColumn('timestamp', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('login_attempts_key_timestamp').on('login_attempts').columns(['key', 'timestamp']).execute();
}
