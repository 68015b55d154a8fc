/**
 * Browser sessions for the web UI: the cookies, CSRF, and the Principal a session stands for.
 *
 * - The session cookie is HttpOnly, SameSite=Lax, Path=/, Secure when the public URL is https.
 * - CSRF is a double-submit token: the `faultline_csrf` cookie is readable by the page, which
 *   echoes it in `X-CSRFToken` (Sentry's and Django's header) on every non-GET request. The token
 *   is derived from the session token, so a cookie planted by a sibling subdomain cannot match a
 *   session it does not know. Bearer-token requests carry no ambient credentials and skip CSRF.
 * - Scopes come from the member role, per organization, as Sentry's SENTRY_ROLES define them
 *   (sentry/conf/server.py); superusers get every scope in every organization.
 * Storage (tokens, expiry) is in src/db/models/sessions.ts; the routes are in routes/session.ts.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import type { Database } from '../db/index.js';
import { findSession, SCOPES, SESSION_TTL_MS } from '../db/models/index.js';
import type { Principal } from './auth.js';
import { ApiError } from './errors.js';

export const SESSION_COOKIE = 'faultline_session';
export const CSRF_COOKIE = 'faultline_csrf';
export const CSRF_HEADER = 'x-csrftoken';

const MEMBER = ['event:read', 'event:write', 'project:read', 'project:releases', 'org:read', 'team:read', 'member:read'];
const ADMIN = [...MEMBER, 'event:admin', 'project:write', 'project:admin', 'team:write', 'team:admin'];
const MANAGER = [...ADMIN, 'org:write', 'member:write', 'member:admin'];
const OWNER = [...MANAGER, 'org:admin'];

export const ROLE_SCOPES: Record<string, readonly string[]> = { member: MEMBER, admin: ADMIN, manager: MANAGER, owner: OWNER };

/** The CSRF token that belongs to a session token. */
export function csrfTokenFor(sessionToken: string): string {
  return createHash('sha256').update(`faultline-csrf:${sessionToken}`).digest('base64url');
}

export function setSessionCookies(reply: FastifyReply, token: string, secure: boolean): void {
  const base = { path: '/', sameSite: 'lax' as const, secure, maxAge: SESSION_TTL_MS / 1000 };
  reply.setCookie(SESSION_COOKIE, token, { ...base, httpOnly: true });
  // Readable by the page on purpose: it is the double-submit half of the CSRF check.
  reply.setCookie(CSRF_COOKIE, csrfTokenFor(token), { ...base, httpOnly: false });
}

export function clearSessionCookies(reply: FastifyReply, secure: boolean): void {
  for (const name of [SESSION_COOKIE, CSRF_COOKIE]) reply.clearCookie(name, { path: '/', sameSite: 'lax', secure });
}

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Rejects a cookie-authenticated request that changes state without the matching CSRF header. */
export function checkCsrf(request: FastifyRequest, sessionToken: string): void {
  if (request.method === 'GET' || request.method === 'HEAD' || request.method === 'OPTIONS') return;
  const header = request.headers[CSRF_HEADER];
  const cookie = request.cookies[CSRF_COOKIE];
  const expected = csrfTokenFor(sessionToken);
  if (typeof header !== 'string' || !cookie || !sameSecret(header, cookie) || !sameSecret(header, expected)) {
    throw new ApiError(403, 'CSRF Failed: CSRF token missing or incorrect.');
  }
}

/** The Principal for a session cookie, with the CSRF check; null when there is no live session. */
export async function authenticateSession(db: Kysely<Database>, request: FastifyRequest): Promise<Principal | null> {
  const token = request.cookies?.[SESSION_COOKIE];
  if (!token) return null;
  const p = await sessionPrincipal(db, token);
  if (p) checkCsrf(request, token);
  return p;
}

/** The Principal a session token stands for, or null (unknown, expired, user gone). */
export async function sessionPrincipal(db: Kysely<Database>, token: string): Promise<Principal | null> {
  const session = await findSession(db, token);
  if (!session) return null;
  const user = await db.selectFrom('users').select(['id', 'is_superuser']).where('id', '=', session.user_id).executeTakeFirst();
  if (!user) return null;
  const orgScopes = new Map<number, Set<string>>();
  if (user.is_superuser) {
    for (const o of await db.selectFrom('organizations').select('id').execute()) orgScopes.set(o.id, new Set(SCOPES));
  } else {
    const members = await db.selectFrom('organization_members').select(['organization_id', 'role']).where('user_id', '=', user.id).execute();
    for (const m of members) orgScopes.set(m.organization_id, new Set(ROLE_SCOPES[m.role] ?? MEMBER));
  }
  return {
    tokenId: null,
    userId: user.id,
    organizationIds: new Set(orgScopes.keys()),
    // The union answers "could this caller ever do X"; the per-organization check in
    // `assertOrgAccess` then decides for the organization the request touches.
    scopes: new Set([...orgScopes.values()].flatMap((s) => [...s])),
    orgScopes,
    session: { id: session.id, token },
  };
}
