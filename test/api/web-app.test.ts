/** Serving the built web UI: client routes get index.html with a strict CSP, hashed assets are immutable. */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import Fastify from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { webAppRoutes } from '../../src/api/web-app.js';
import { removeDir, tempDataDir } from '../helpers/faultline.js';

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach(removeDir));

async function appWith(build: boolean) {
  const dir = tempDataDir();
  dirs.push(dir);
  if (build) {
    mkdirSync(path.join(dir, 'assets'));
    writeFileSync(path.join(dir, 'index.html'), '<!doctype html><div id="root"></div><script type="module" src="/assets/app-abc123.js"></script>');
    writeFileSync(path.join(dir, 'assets/app-abc123.js'), 'console.log(1)');
  }
  const app = Fastify();
  await app.register(webAppRoutes, { distDir: dir });
  app.get('/api/0/thing/', async () => ({ ok: true }));
  return app;
}

describe('web UI serving', () => {
  it('answers index.html on client routes with a CSP that forbids inline script and framing', async () => {
    const app = await appWith(true);
    for (const url of ['/', '/auth/login/', '/organizations/acme/issues/42/', '/settings/acme/projects/app/']) {
      const res = await app.inject(url);
      expect(res.statusCode).toBe(200);
      expect(res.body).toContain('<div id="root">');
      expect(res.headers['cache-control']).toBe('no-cache');
      const csp = String(res.headers['content-security-policy']);
      expect(csp).toContain("script-src 'self'");
      expect(csp).not.toContain('unsafe-inline');
      expect(csp).toContain("frame-ancestors 'none'");
    }
    expect((await app.inject('/api/0/thing/')).json()).toEqual({ ok: true });
    expect((await app.inject('/elsewhere')).statusCode).toBe(404);
  });

  it('serves hashed assets as immutable', async () => {
    const app = await appWith(true);
    const res = await app.inject('/assets/app-abc123.js');
    expect(res.statusCode).toBe(200);
    expect(res.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect((await app.inject('/assets/missing.js')).statusCode).toBe(404);
  });

  it('says clearly when the UI was not built', async () => {
    const app = await appWith(false);
    const res = await app.inject('/');
    expect(res.statusCode).toBe(503);
    expect(res.body).toContain('The web UI is not built');
    expect(res.body).toContain('npm run build');
  });
});
