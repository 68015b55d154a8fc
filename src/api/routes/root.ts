/** `GET /api/0/`: what sentry-cli's `info` reads (protocol.md §6.2), plus the server version. */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Principal } from '../auth.js';
import type { ApiContext } from '../context.js';

export function rootRoutes(app: FastifyInstance, ctx: ApiContext, version: string) {
  app.get('/api/0/', async (request: FastifyRequest) => {
    const p = request.principal as Principal;
    const user = p.userId
      ? await ctx.db.selectFrom('users').select(['id', 'email', 'name']).where('id', '=', p.userId).executeTakeFirst()
      : undefined;
    return {
      version: '0',
      faultline: { version },
      auth: { scopes: [...p.scopes].sort() },
      user: user ? { id: String(user.id), email: user.email, name: user.name || user.email, username: user.email } : null,
    };
  });
}
