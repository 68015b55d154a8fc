/**
 * An in-process Faultline app (web + ingest roles) on a temporary SQLite directory, driven with
 * Fastify's inject, plus a cookie jar that behaves like a browser's for the session tests.
 */
import pino from 'pino';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { buildApp } from '../../src/cli/server.js';
import { loadConfig } from '../../src/config/index.js';
import { addMember, createApiToken, createProject, createProjectKey, createUser, getOrCreateOrganization } from '../../src/db/models/index.js';
import { createServices, type Services } from '../../src/services/index.js';
import { removeDir, tempDataDir } from '../helpers/faultline.js';

export interface TestApp {
  app: FastifyInstance;
  services: Services;
  close(): Promise<void>;
}

export async function testApp(opts: { publicUrl?: string; config?: Record<string, unknown> } = {}): Promise<TestApp> {
  const dataDir = tempDataDir();
  const config = loadConfig({ dataDir, ...(opts.publicUrl ? { publicUrl: opts.publicUrl } : {}), ...opts.config }, {});
  const services = await createServices(config);
  const app = await buildApp(config, services, pino({ level: 'silent' }), new Set(['web', 'ingest']));
  await app.ready();
  return {
    app,
    services,
    close: async () => {
      await app.close();
      await services.close();
      removeDir(dataDir);
    },
  };
}

/** An organization with a project and a user of the given role in it. */
export async function seed(services: Services, org: string, email: string, role: 'member' | 'admin' | 'owner', password = 'correct horse 1') {
  const db = services.database.db;
  const o = await getOrCreateOrganization(db, org);
  const project = await createProject(db, o.id, 'app');
  const key = await createProjectKey(db, project.id);
  const user = await createUser(db, email, { password });
  await addMember(db, o.id, user.id, role);
  return { org: o, project, key, user, password };
}

export async function tokenFor(services: Services, organizationId: number, scopes: string[]) {
  return createApiToken(services.database.db, { organizationId, scopes });
}

/** Keeps cookies between requests and sends the CSRF header the way the web UI does. */
export class Browser {
  cookies = new Map<string, string>();
  constructor(readonly app: FastifyInstance) {}

  async request(method: string, url: string, body?: unknown, opts: { csrf?: boolean | string; ip?: string; headers?: Record<string, string> } = {}): Promise<LightMyRequestResponse> {
    const headers: Record<string, string> = { ...opts.headers };
    if (this.cookies.size) headers.cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    const csrf = opts.csrf === undefined ? method !== 'GET' : opts.csrf;
    if (csrf) headers['x-csrftoken'] = typeof csrf === 'string' ? csrf : (this.cookies.get('faultline_csrf') ?? '');
    const res = await this.app.inject({
      method: method as any,
      url,
      headers,
      remoteAddress: opts.ip ?? '127.0.0.1',
      ...(body === undefined ? {} : { payload: body as any }),
    });
    for (const c of res.cookies as { name: string; value: string; maxAge?: number; expires?: Date }[]) {
      if (c.value === '' || c.maxAge === 0 || (c.expires && c.expires.getTime() < Date.now())) this.cookies.delete(c.name);
      else this.cookies.set(c.name, c.value);
    }
    return res;
  }

  login(email: string, password: string, ip?: string, headers?: Record<string, string>) {
    return this.request('POST', '/api/0/auth/login/', { email, password }, { csrf: false, ip, headers });
  }
}
