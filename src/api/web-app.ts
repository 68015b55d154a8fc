/**
 * Serves the web UI (web/dist, built by `npm run build`) from the same process as the API.
 *
 * - `/assets/*` are Vite's content-hashed files: cached for a year as immutable.
 * - The UI's own routes (`/`, `/auth/…`, `/organizations/…`, `/settings/…`, the same paths as
 *   Sentry's UI, so issue permalinks open here) answer index.html, never cached, so a new build is
 *   picked up on the next load. Other unknown paths keep their 404, and /api/ is never shadowed.
 * - Every page carries a strict Content-Security-Policy: only this origin's scripts and styles, no
 *   inline script, no framing. Event data is rendered by React as text; the CSP is the second wall.
 * If web/dist is missing (the UI was not built), the pages say so and how to fix it.
 * Out of scope: compression (put a proxy in front for that), server-side rendering.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply } from 'fastify';

/** web/dist, from both src/api (tests) and dist/api (built). */
export const WEB_DIST = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../web/dist');

export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "manifest-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const SPA_ROUTES = ['/', '/auth/*', '/organizations/*', '/settings/*'];

function securityHeaders(reply: FastifyReply): FastifyReply {
  return reply
    .header('Content-Security-Policy', CONTENT_SECURITY_POLICY)
    .header('X-Content-Type-Options', 'nosniff')
    .header('X-Frame-Options', 'DENY')
    .header('Referrer-Policy', 'same-origin');
}

const NOT_BUILT =
  '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Faultline: web UI not built</title></head>' +
  '<body style="font-family:sans-serif;max-width:40em;margin:4em auto"><h1>The web UI is not built</h1>' +
  '<p>Faultline is running and accepts events, but <code>web/dist</code> is missing. Run <code>npm run build</code> ' +
  '(or <code>npm ci</code>, which builds) in the Faultline directory and restart.</p>' +
  '<p>The API is available at <code>/api/0/</code>.</p></body></html>';

export async function webAppRoutes(app: FastifyInstance, opts: { distDir?: string } = {}): Promise<void> {
  const dist = opts.distDir ?? WEB_DIST;
  const indexFile = path.join(dist, 'index.html');
  const built = existsSync(indexFile);
  // Read once: index.html is small and changes only with a new build (which means a restart).
  const index = built ? readFileSync(indexFile, 'utf8') : NOT_BUILT;

  if (built && existsSync(path.join(dist, 'assets'))) {
    await app.register(fastifyStatic, {
      root: path.join(dist, 'assets'),
      prefix: '/assets/',
      index: false,
      cacheControl: false,
      setHeaders: (reply) => {
        reply.header('Cache-Control', 'public, max-age=31536000, immutable');
        reply.header('X-Content-Type-Options', 'nosniff');
      },
    });
  }

  for (const url of SPA_ROUTES) {
    app.get(url, async (_request, reply) =>
      securityHeaders(reply)
        .code(built ? 200 : 503)
        .header('Content-Type', 'text/html; charset=utf-8')
        .header('Cache-Control', 'no-cache')
        .send(index),
    );
  }
}
