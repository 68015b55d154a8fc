/**
 * Web UI sessions and the failed-login log behind the login rate limit.
 *
 * A session token is 32 random bytes shown once (in the cookie) and stored as its sha256, like API
 * tokens. Sessions expire after a fixed lifetime (not sliding): a stolen cookie stops working on
 * its own. Cookie names, CSRF and the HTTP side live in src/api/session-auth.ts; this file is only
 * storage.
 */
import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database, UserSession } from '../schema.js';
import { hashToken } from './users.js';

export const SESSION_TTL_MS = 14 * 24 * 3600_000;

export async function createSession(
  db: Kysely<Database>,
  userId: number,
  opts: { ipAddress?: string | null; userAgent?: string | null; now?: number } = {},
): Promise<string> {
  const token = randomBytes(32).toString('base64url');
  const now = opts.now ?? Date.now();
  await db
    .insertInto('user_sessions')
    .values({
      token_hash: hashToken(token),
      user_id: userId,
      date_created: now,
      last_seen: now,
      expires: now + SESSION_TTL_MS,
      ip_address: opts.ipAddress?.slice(0, 64) ?? null,
      user_agent: opts.userAgent?.slice(0, 255) ?? null,
    })
    .execute();
  return token;
}

/** The live session a token names, or undefined (unknown or expired). */
export async function findSession(db: Kysely<Database>, token: string, now = Date.now()): Promise<UserSession | undefined> {
  const row = await db.selectFrom('user_sessions').selectAll().where('token_hash', '=', hashToken(token)).executeTakeFirst();
  if (!row || row.expires <= now) return undefined;
  // last_seen is informational (a future "active sessions" list); write it at most once a minute.
  if (now - row.last_seen > 60_000) await db.updateTable('user_sessions').set({ last_seen: now }).where('id', '=', row.id).execute();
  return row;
}

export async function deleteSession(db: Kysely<Database>, token: string): Promise<void> {
  await db.deleteFrom('user_sessions').where('token_hash', '=', hashToken(token)).execute();
}

/** Logs a user out everywhere but `keepId` (after a password change), and drops expired rows. */
export async function deleteOtherSessions(db: Kysely<Database>, userId: number, keepId: number | null): Promise<void> {
  let q = db.deleteFrom('user_sessions').where('user_id', '=', userId);
  if (keepId !== null) q = q.where('id', '!=', keepId);
  await q.execute();
  await db.deleteFrom('user_sessions').where('expires', '<=', Date.now()).execute();
}

/** Failed logins per key since `since`. */
export async function countLoginFailures(db: Kysely<Database>, keys: string[], since: number): Promise<Map<string, { count: number; oldest: number }>> {
  const rows = await db
    .selectFrom('login_attempts')
    .select((eb) => ['key', eb.fn.countAll<number>().as('n'), eb.fn.min<number>('timestamp').as('oldest')])
    .where('key', 'in', keys)
    .where('timestamp', '>', since)
    .groupBy('key')
    .execute();
  return new Map(rows.map((r) => [r.key, { count: Number(r.n), oldest: Number(r.oldest) }]));
}

export async function recordLoginFailure(db: Kysely<Database>, keys: string[], now = Date.now(), windowMs = 3600_000): Promise<void> {
  await db.insertInto('login_attempts').values(keys.map((key) => ({ key, timestamp: now }))).execute();
  // Keep the table small: rows older than any window we count are useless.
  await db.deleteFrom('login_attempts').where('timestamp', '<', now - windowMs).execute();
}

export async function clearLoginFailures(db: Kysely<Database>, key: string): Promise<void> {
  await db.deleteFrom('login_attempts').where('key', '=', key).execute();
}
