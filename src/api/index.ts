/**
 * The web API under /api/0/, in Sentry's shapes, so sentry-cli, scripts and the web UI all use
 * the same routes. Every route runs after authentication (a Bearer token, or the web UI's session
 * cookie with its CSRF check) unless it is marked `config: { public: true }` (login); tenancy and
 * scopes are checked in the route through `requireOrg` / `requireScope` / `loadIssue`.
 */
import type { FastifyError, FastifyInstance } from 'fastify';
import type { Services } from '../services/index.js';
import fastifyCookie from '@fastify/cookie';
import { authenticate } from './auth.js';
import { registerBodyEncodings } from './body-encoding.js';
import type { ApiContext } from './context.js';
import { ApiError } from './errors.js';
import { artifactRoutes } from './routes/artifacts.js';
import { delegatorRoutes } from './routes/delegator.js';
import { eventRoutes } from './routes/events.js';
import { filterRoutes } from './routes/filters.js';
import { groupingInfoRoutes } from './routes/grouping-info.js';
import { teamRoutes } from './routes/teams.js';
import { statsRoutes } from './routes/stats.js';
import { issueRoutes } from './routes/issues.js';
import { projectAdminRoutes } from './routes/project-admin.js';
import { projectRoutes } from './routes/projects.js';
import { releaseRoutes } from './routes/releases.js';
import { rootRoutes } from './routes/root.js';
import { sessionRoutes } from './routes/session.js';
import { limits } from '../sourcemaps/index.js';

export interface ApiOptions {
  services: Services;
  baseUrl: string;
  version: string;
}

export async function apiRoutes(app: FastifyInstance, opts: ApiOptions): Promise<void> {
  const ctx: ApiContext = { services: opts.services, db: opts.services.database.db, baseUrl: opts.baseUrl };

  await app.register(fastifyCookie);
  // gzip/zstd JSON bodies (sentry-cli) and buffered multipart uploads (chunks, release files).
  registerBodyEncodings(app, limits.CHUNK_UPLOAD_BODY_LIMIT);
  app.addHook('onRequest', async (request) => {
    if (request.method === 'OPTIONS' || request.routeOptions.config?.public) return;
    request.principal = await authenticate(ctx.db, request);
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
  sessionRoutes(app, ctx);
  projectAdminRoutes(app, ctx);
  filterRoutes(app, ctx);
  releaseRoutes(app, ctx);
  artifactRoutes(app, ctx);
  delegatorRoutes(app, ctx);
  groupingInfoRoutes(app, ctx);
  teamRoutes(app, ctx);
  statsRoutes(app, ctx);
}
