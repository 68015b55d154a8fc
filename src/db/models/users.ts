/**
 * Users and API tokens. Passwords are hashed with scrypt (node:crypto, N=2^15, salt per user);
 * tokens are random, shown once, and stored only as their sha256.
 */
import { createHash, randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import type { Kysely } from 'kysely';
import type { Database } from '../schema.js';
import { ModelError } from './organizations.js';
import { dialectOfDb, insertReturningId, upsert } from '../sql.js';

const scryptAsync = promisify(scrypt) as (pw: string, salt: Buffer, len: number, opts: object) => Promise<Buffer>;
const SCRYPT = { N: 1 << 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 };

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scryptAsync(password, salt, 32, SCRYPT);
  return `scrypt$${SCRYPT.N}$${SCRYPT.r}$${SCRYPT.p}$${salt.toString('base64')}$${key.toString('base64')}`;
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [alg, n, r, p, salt, key] = stored.split('$');
  if (alg !== 'scrypt') return false;
  const expected = Buffer.from(key, 'base64');
  const got = await scryptAsync(password, Buffer.from(salt, 'base64'), expected.length, {
    N: Number(n),
    r: Number(r),
    p: Number(p),
    maxmem: SCRYPT.maxmem,
  });
  return timingSafeEqual(got, expected);
}

export const ROLES = ['member', 'admin', 'manager', 'owner'] as const;
export type Role = (typeof ROLES)[number];

export async function createUser(
  db: Kysely<Database>,
  email: string,
  opts: { password?: string | null; superuser?: boolean; name?: string } = {},
) {
  if (!/^[^\s@]+@[^\s@]+$/.test(email)) throw new ModelError(`invalid email "${email}"`);
  const exists = await db.selectFrom('users').select('id').where('email', '=', email.toLowerCase()).executeTakeFirst();
  if (exists) throw new ModelError(`user ${email} already exists`);
  const id = await insertReturningId(
    db.insertInto('users').values({
      email: email.toLowerCase(),
      name: opts.name ?? '',
      password_hash: opts.password ? await hashPassword(opts.password) : null,
      is_superuser: opts.superuser ? 1 : 0,
      date_created: Date.now(),
    }),
    dialectOfDb(db),
  );
  return db.selectFrom('users').selectAll().where('id', '=', id!).executeTakeFirstOrThrow();
}

export async function addMember(db: Kysely<Database>, organizationId: number, userId: number, role: Role) {
  await upsert(
    db.insertInto('organization_members').values({ organization_id: organizationId, user_id: userId, role, date_created: Date.now() }),
    dialectOfDb(db),
    'organization_members',
    ['organization_id', 'user_id'],
    { role: 'replace' },
  ).execute();
}

/** Every scope a token can carry, in Sentry's names. */
export const SCOPES = [
  'org:read', 'org:write', 'org:admin',
  'project:read', 'project:write', 'project:admin', 'project:releases',
  'team:read', 'team:write', 'team:admin',
  'member:read', 'member:write', 'member:admin',
  'event:read', 'event:write', 'event:admin',
] as const;

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/**
 * An organization auth token in Sentry's format: `sntrys_`, the base64 of a JSON payload naming
 * the server's URL and the organization, `_`, then a base64 secret of 32 random bytes. sentry-cli
 * reads the payload, so it needs neither `--url` nor `--org` (and refuses different ones).
 */
export function orgAuthToken(url: string, org: string, now = Date.now()): string {
  const payload = { iat: now / 1000, url, region_url: url, org };
  const secret = randomBytes(32).toString('base64').replace(/=+$/, '');
  return `sntrys_${Buffer.from(JSON.stringify(payload)).toString('base64')}_${secret}`;
}

/**
 * Creates an API token; returns the token text, which is not stored and cannot be shown again.
 * With `orgToken`, it is an organization auth token for that server URL and organization slug.
 */
export async function createApiToken(
  db: Kysely<Database>,
  opts: { organizationId: number; userId?: number | null; scopes: string[]; name?: string; orgToken?: { url: string; org: string } },
): Promise<string> {
  for (const s of opts.scopes) if (!(SCOPES as readonly string[]).includes(s)) throw new ModelError(`unknown scope "${s}"`);
  const token = opts.orgToken ? orgAuthToken(opts.orgToken.url, opts.orgToken.org) : randomBytes(32).toString('hex');
  await db
    .insertInto('api_tokens')
    .values({
      token_hash: hashToken(token),
      token_last_characters: token.slice(-4),
      name: opts.name ?? '',
      user_id: opts.userId ?? null,
      organization_id: opts.organizationId,
      scopes: opts.scopes.join(' '),
      date_created: Date.now(),
      last_used: null,
    })
    .execute();
  return token;
}
