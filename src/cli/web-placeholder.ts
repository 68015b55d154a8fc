/**
 * Until the web UI lands, `/` answers with a small page that says the server runs and where the
 * API is, instead of a bare 404.
 */
import type { FastifyInstance } from 'fastify';

export function webRoutes(app: FastifyInstance, baseUrl: string): void {
  app.get('/', async (_request, reply) =>
    reply
      .header('Content-Type', 'text/html; charset=utf-8')
      .header('Content-Security-Policy', "default-src 'none'; style-src 'unsafe-inline'")
      .send(
        `<!doctype html><html><head><meta charset="utf-8"><title>Faultline</title></head>` +
          `<body style="font-family:sans-serif;max-width:40em;margin:4em auto">` +
          `<h1>Faultline is running</h1><p>Point a Sentry SDK at a project's DSN; read issues through the API at ` +
          `<code>${baseUrl.replace(/[<>&"]/g, '')}/api/0/</code> with a token from <code>faultline token create</code>.</p></body></html>`,
      ),
  );
}
