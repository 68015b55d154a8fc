/**
 * The web API under /api/0/, in Sentry's shapes, so sentry-cli, scripts and the web UI all use
 * the same routes. Every route runs after token authentication; tenancy and scopes are checked
 * in the route through `requireOrg` / `requireScope` / `loadIssue`.
 */
import type { FastifyError, FastifyInstance } from 'fastify';
import type { Services } from '../services/index.js';
import { authenticateToken } from './auth.js';
import type { ApiContext } from './context.js';
import { ApiError } from './errors.js';
import { eventRoutes } from './routes/events.js';
import { issueRoutes } from './routes/issues.js';
import { projectRoutes } from './routes/projects.js';
import { rootRoutes } from './routes/root.js';

export interface ApiOptions {
  services: Services;
  baseUrl: string;
  version: string;
}

export async function apiRoutes(app: FastifyInstance, opts: ApiOptions): Promise<void> {
  const ctx: ApiContext = { services: opts.services, db: opts.services.database.db, baseUrl: opts.baseUrl };

  app.addHook('onRequest', async (request) => {
    if (request.method === 'OPTIONS') return;
    request.principal = await authenticateToken(ctx.db, request);
  });

  app.setErrorHandler((err: FastifyError | ApiError, request, reply) => {
    if (err instanceof ApiError) {
      return reply.code(err.status).send({ detail: err.detail, ...err.extra });
    }
    const status = (err as FastifyError).statusCode;
    if (status && status >= 400 && status < 500) {
      return reply.code(status).send({ detail: err.message });
    }
    request.log.error({ err }, 'api error');
    return reply.code(500).send({ detail: 'Internal Error' });
  });

  app.setNotFoundHandler((_request, reply) => reply.code(404).send({ detail: 'The requested resource does not exist' }));

  rootRoutes(app, ctx, opts.version);
  projectRoutes(app, ctx);
  issueRoutes(app, ctx);
  eventRoutes(app, ctx);
}
