/**
 * Who is calling: a Bearer API token, bound to one organization with a set of scopes, or a web UI
 * session (session-auth.ts), whose scopes depend on the member role in each organization. Every
 * route asks `requireOrg` / `requireScope` on the server; nothing relies on the UI hiding things.
 */
import type { FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import type { Database, Organization } from '../db/index.js';
import { hashToken } from '../db/models/index.js';
import { ApiError, notFound } from './errors.js';
import { authenticateSession } from './session-auth.js';

export interface Principal {
  /** Set for API tokens; null for other kinds of callers (e.g. a logged-in session). */
  tokenId: number | null;
  userId: number | null;
  /** The organizations the caller may see; everything else is a 404. */
  organizationIds: Set<number>;
  scopes: Set<string>;
  /** Sessions only: the scopes per organization (the member role there). */
  orgScopes?: Map<number, Set<string>>;
  /** Sessions only: the session row and its cookie token. */
  session?: { id: number; token: string };
  /** Scopes this request asked for through `requireScope`, re-checked per organization. */
  requested?: Set<string>;
}

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
  }
}

export async function authenticateToken(db: Kysely<Database>, request: FastifyRequest): Promise<Principal> {
  const header = request.headers.authorization;
  const m = typeof header === 'string' ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
  if (!m) throw new ApiError(401, 'Authentication credentials were not provided.');
  const row = await db
    .selectFrom('api_tokens')
    .select(['id', 'user_id', 'organization_id', 'scopes'])
    .where('token_hash', '=', hashToken(m[1]))
    .executeTakeFirst();
  if (!row || row.organization_id === null) throw new ApiError(401, 'Invalid token');
  return {
    tokenId: row.id,
    userId: row.user_id,
    organizationIds: new Set([row.organization_id]),
    scopes: new Set(row.scopes.split(/\s+/).filter(Boolean)),
  };
}

/** A Bearer token if the request carries one, else the session cookie (with its CSRF check). */
export async function authenticate(db: Kysely<Database>, request: FastifyRequest): Promise<Principal> {
  if (request.headers.authorization === undefined) {
    const session = await authenticateSession(db, request);
    if (session) return session;
  }
  return authenticateToken(db, request);
}

/** Scopes that imply others, as in Sentry (`project:admin` ⊃ `project:write` ⊃ `project:read`). */
function implied(scope: string): string[] {
  const [resource, level] = scope.split(':');
  const order = ['read', 'write', 'admin'];
  const i = order.indexOf(level);
  if (i < 0) return [scope];
  return order.slice(i).map((l) => `${resource}:${l}`).concat(resource === 'project' && level === 'read' ? ['project:releases'] : []);
}

const forbidden = (scope: string) => new ApiError(403, `You do not have permission to perform this action (needs ${scope}).`);

export function requireScope(p: Principal, scope: string): void {
  if (!implied(scope).some((s) => p.scopes.has(s))) throw forbidden(scope);
  (p.requested ??= new Set()).add(scope);
}

/**
 * The organization check every route goes through: 404 outside the caller's organizations, and
 * for sessions, 403 when the role in this organization lacks a scope the route asked for.
 */
export function assertOrgAccess(p: Principal, organizationId: number): void {
  if (!p.organizationIds.has(organizationId)) throw notFound('The requested resource does not exist');
  const scopes = p.orgScopes?.get(organizationId);
  if (!scopes) return;
  for (const scope of p.requested ?? []) if (!implied(scope).some((s) => scopes.has(s))) throw forbidden(scope);
}

export async function requireOrg(db: Kysely<Database>, p: Principal, slug: string): Promise<Organization> {
  const org = await db.selectFrom('organizations').selectAll().where('slug', '=', slug).executeTakeFirst();
  if (!org) throw notFound('The requested resource does not exist');
  assertOrgAccess(p, org.id);
  return org;
}

/**
 * Installation-wide settings (storage backends) belong to superusers only: an organization's
 * admin must not change what every other organization's data is stored in.
 */
export async function requireSuperuser(db: Kysely<Database>, p: Principal): Promise<void> {
  const user = p.userId ? await db.selectFrom('users').select('is_superuser').where('id', '=', p.userId).executeTakeFirst() : undefined;
  if (!user || user.is_superuser !== 1) throw new ApiError(403, 'Only superusers can change installation-wide settings.');
}
