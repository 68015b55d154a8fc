/**
 * Web UI login and account routes, in the shapes Sentry's own UI uses:
 * `POST /api/0/auth/login/`, `GET /api/0/auth/` (who am I + organizations + CSRF token),
 * `DELETE /api/0/auth/` (logout) and `PUT /api/0/users/me/password/`.
 *
 * Login is rate limited per email and per client IP (failed attempts in SQL, so every web process
 * shares the count) and answers 429 with Retry-After. It is exempt from the CSRF check because
 * there is no session yet; a cross-site form cannot post to it anyway, since only JSON bodies are
 * parsed and a JSON POST from another origin needs a CORS preflight this API never grants.
 * Out of scope: sign-up, password reset by email, two-factor, SSO.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import {
  clearLoginFailures,
  countLoginFailures,
  createSession,
  deleteOtherSessions,
  deleteSession,
  hashPassword,
  recordLoginFailure,
  verifyPassword,
} from '../../db/models/index.js';
import type { Principal } from '../auth.js';
import type { ApiContext } from '../context.js';
import { ApiError, badRequest } from '../errors.js';
import { clearSessionCookies, csrfTokenFor, sessionPrincipal, setSessionCookies } from '../session-auth.js';
import { iso } from '../serializers/issue.js';

/** Failed logins allowed per window. An office behind one NAT shares an IP, hence the larger IP budget. */
export const LOGIN_LIMITS = { perEmail: 10, perIp: 30, windowMs: 15 * 60_000 };

// Verified when the email is unknown, so a wrong email costs the same time as a wrong password
// and response times do not reveal which accounts exist.
const DUMMY_HASH = hashPassword('faultline-dummy-password');

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The route answers without authentication (the onRequest hook skips it). */
    public?: boolean;
  }
}

interface LoginBody {
  email?: unknown;
  username?: unknown;
  password?: unknown;
}

interface PasswordBody {
  password?: unknown;
  passwordNew?: unknown;
  passwordVerify?: unknown;
}

async function whoAmI(ctx: ApiContext, p: Principal, sessionToken: string | null) {
  const user = p.userId
    ? await ctx.db.selectFrom('users').select(['id', 'email', 'name', 'is_superuser', 'date_created']).where('id', '=', p.userId).executeTakeFirst()
    : undefined;
  const ids = [...p.organizationIds];
  const orgs = ids.length ? await ctx.db.selectFrom('organizations').selectAll().where('id', 'in', ids).orderBy('slug').execute() : [];
  const roles = user
    ? new Map((await ctx.db.selectFrom('organization_members').select(['organization_id', 'role']).where('user_id', '=', user.id).execute()).map((m) => [m.organization_id, m.role]))
    : new Map<number, string>();
  return {
    user: user
      ? { id: String(user.id), email: user.email, username: user.email, name: user.name || user.email, isSuperuser: user.is_superuser === 1, dateJoined: iso(user.date_created) }
      : null,
    organizations: orgs.map((o) => ({ id: String(o.id), slug: o.slug, name: o.name, role: roles.get(o.id) ?? (user?.is_superuser ? 'superuser' : null) })),
    csrfToken: sessionToken ? csrfTokenFor(sessionToken) : null,
  };
}

async function checkLoginLimit(ctx: ApiContext, emailKey: string, ipKey: string, reply: FastifyReply): Promise<void> {
  const now = Date.now();
  const counts = await countLoginFailures(ctx.db, [emailKey, ipKey], now - LOGIN_LIMITS.windowMs);
  const over = [
    [counts.get(emailKey), LOGIN_LIMITS.perEmail],
    [counts.get(ipKey), LOGIN_LIMITS.perIp],
  ].filter(([c, limit]) => c && (c as { count: number }).count >= (limit as number)) as [{ count: number; oldest: number }, number][];
  if (!over.length) return;
  const until = Math.max(...over.map(([c]) => c.oldest + LOGIN_LIMITS.windowMs));
  reply.header('Retry-After', String(Math.max(1, Math.ceil((until - now) / 1000))));
  throw new ApiError(429, 'You have made too many failed authentication attempts. Please try again later.');
}

export function sessionRoutes(app: FastifyInstance, ctx: ApiContext) {
  const secure = ctx.baseUrl.startsWith('https:');
  const principal = (r: FastifyRequest) => r.principal as Principal;

  app.post<{ Body: LoginBody }>('/api/0/auth/login/', { config: { public: true } }, async (request, reply) => {
    const body = request.body ?? {};
    const emailRaw = body.email ?? body.username;
    if (typeof emailRaw !== 'string' || !emailRaw.trim() || typeof body.password !== 'string' || !body.password) {
      throw badRequest('Enter an email and a password.', { email: ['This field is required.'] });
    }
    if (emailRaw.length > 255 || body.password.length > 1024) throw badRequest('Invalid email or password.');
    const email = emailRaw.trim().toLowerCase();
    const emailKey = `email:${email}`;
    await checkLoginLimit(ctx, emailKey, `ip:${request.ip}`, reply);
    const user = await ctx.db.selectFrom('users').select(['id', 'password_hash']).where('email', '=', email).executeTakeFirst();
    const ok = user?.password_hash
      ? await verifyPassword(body.password, user.password_hash)
      : (await verifyPassword(body.password, await DUMMY_HASH), false);
    if (!ok || !user) {
      await recordLoginFailure(ctx.db, [emailKey, `ip:${request.ip}`]);
      throw new ApiError(401, 'Invalid email or password.');
    }
    await clearLoginFailures(ctx.db, emailKey);
    const token = await createSession(ctx.db, user.id, { ipAddress: request.ip, userAgent: request.headers['user-agent'] ?? null });
    setSessionCookies(reply, token, secure);
    // The principal the next request will get, so the reply lists the same organizations.
    return whoAmI(ctx, (await sessionPrincipal(ctx.db, token))!, token);
  });

  app.get('/api/0/auth/', async (request) => {
    const p = principal(request);
    return whoAmI(ctx, p, p.session?.token ?? null);
  });

  app.delete('/api/0/auth/', async (request, reply) => {
    const p = principal(request);
    if (p.session) await deleteSession(ctx.db, p.session.token);
    clearSessionCookies(reply, secure);
    return reply.code(204).send();
  });

  app.put<{ Body: PasswordBody }>('/api/0/users/me/password/', async (request, reply) => {
    const p = principal(request);
    if (!p.userId) throw new ApiError(403, 'This token does not belong to a user.');
    const body = request.body ?? {};
    if (typeof body.password !== 'string' || typeof body.passwordNew !== 'string') {
      throw badRequest('Give the current password and the new one.', { password: ['This field is required.'] });
    }
    if (body.passwordNew.length < 8 || body.passwordNew.length > 256) {
      throw badRequest('The new password must be 8 to 256 characters long.', { passwordNew: ['Use 8 to 256 characters.'] });
    }
    if (body.passwordVerify !== undefined && body.passwordVerify !== body.passwordNew) {
      throw badRequest('The passwords do not match.', { passwordVerify: ['The passwords do not match.'] });
    }
    const user = await ctx.db.selectFrom('users').select(['id', 'password_hash']).where('id', '=', p.userId).executeTakeFirstOrThrow();
    if (!user.password_hash || !(await verifyPassword(body.password, user.password_hash))) {
      throw badRequest('The current password is not correct.', { password: ['The password you entered is not correct.'] });
    }
    await ctx.db.updateTable('users').set({ password_hash: await hashPassword(body.passwordNew) }).where('id', '=', user.id).execute();
    // Someone who knew the old password may hold a session: end every other one.
    await deleteOtherSessions(ctx.db, user.id, p.session?.id ?? null);
    return reply.code(204).send();
  });
}
