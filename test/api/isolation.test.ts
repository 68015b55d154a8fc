/**
 * Tenant isolation: with two organizations, every web API route that names an organization,
 * project, issue, event, key or release is called with organization A's all-scopes token and
 * organization B's identifiers. Every such call must answer 404 (Sentry hides existence) and leave
 * B's data unchanged. Routes are enumerated from the app itself, so a route added later is covered
 * without touching this file.
 */
import pino from 'pino';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/cli/server.js';
import { addMember, createApiToken, createUser, SCOPES } from '../../src/db/models/index.js';
import { EventWorker } from '../../src/pipeline/index.js';
import { encodeIngestTask, INGEST_QUEUE } from '../../src/services/queue/ingest-task.js';
import { makeProject, testServices } from '../helpers/services.js';

let s: Awaited<ReturnType<typeof testServices>>;
let app: FastifyInstance;
const routes: { method: string; url: string }[] = [];
const tenants: Record<'a' | 'b', { token: string; params: Record<string, string>; issueTitle: string }> = {} as any;

async function seed(orgSlug: string, projectSlug: string, title: string) {
  const { org, project, key } = await makeProject(s, orgSlug, projectSlug);
  const eventId = (orgSlug === 'alpha' ? 'a' : 'b').repeat(32);
  await s.queue.enqueue(INGEST_QUEUE, [
    encodeIngestTask({
      v: 1, itemType: 'event', projectId: project.id, keyId: key.id, receivedAt: Date.now(), clientIp: null, userAgent: null, eventId, client: null,
      payload: JSON.stringify({ message: title, release: `${orgSlug}@1.0`, user: { id: 'u1' }, tags: { region: 'eu' } }),
    }),
  ]);
  const worker = new EventWorker(s, pino({ level: 'silent' }), { batchSize: 10, leaseMs: 60_000 });
  while ((await worker.runOnce()) > 0);
  const group = await s.database.db.selectFrom('groups').selectAll().where('project_id', '=', project.id).executeTakeFirstOrThrow();
  const token = await createApiToken(s.database.db, { organizationId: org.id, scopes: [...SCOPES] });
  return {
    token,
    issueTitle: title,
    params: {
      org: org.slug, organization_slug: org.slug, project: project.slug, project_slug: project.slug,
      id: String(group.id), issue_id: String(group.id), eventId: eventId, event_id: eventId,
      keyId: key.public_key, key_id: key.public_key, version: `${orgSlug}@1.0`, team: org.slug, filter: 'localhost',
      key: 'region', hash: 'f'.repeat(32),
    },
  };
}

beforeAll(async () => {
  s = await testServices();
  app = await buildApp(s.config, s, pino({ level: 'silent' }), new Set(['web', 'ingest']), undefined, (r) => {
    for (const m of Array.isArray(r.method) ? r.method : [r.method]) routes.push({ method: m, url: r.url });
  });
  await app.ready();
  tenants.a = await seed('alpha', 'web', 'Alpha only problem');
  tenants.b = await seed('bravo', 'api', 'Bravo secret problem');
  // Objects that only exist once created through the API: a note and an alert rule of B's.
  const b = tenants.b;
  const note = await app.inject({ method: 'POST', url: `/api/0/issues/${b.params.id}/comments/`, headers: { authorization: `Bearer ${b.token}` }, payload: { text: 'bravo note' } });
  expect(note.statusCode).toBe(201);
  b.params.noteId = String(note.json().id);
  const rule = await app.inject({
    method: 'POST',
    url: '/api/0/projects/bravo/api/rules/',
    headers: { authorization: `Bearer ${b.token}` },
    payload: {
      name: 'bravo rule',
      actionMatch: 'any',
      conditions: [{ id: 'sentry.rules.conditions.first_seen_event.FirstSeenEventCondition' }],
      actions: [{ id: 'sentry.rules.actions.notify_event_service.NotifyEventServiceAction', url: 'http://127.0.0.1:9/hook' }],
    },
  });
  expect(rule.statusCode).toBe(201);
  b.params.ruleId = String(rule.json().id);
  for (const t of [tenants.a, tenants.b]) {
    const team = await app.inject({ method: 'POST', url: `/api/0/organizations/${t.params.org}/teams/`, headers: { authorization: `Bearer ${t.token}` }, payload: { name: t.params.org } });
    expect(team.statusCode).toBe(201);
    const org = await s.database.db.selectFrom('organizations').selectAll().where('slug', '=', t.params.org).executeTakeFirstOrThrow();
    const user = await createUser(s.database.db, `someone@${t.params.org}.test`);
    await addMember(s.database.db, org.id, user.id, 'member');
    const member = await s.database.db.selectFrom('organization_members').select('id').where('user_id', '=', user.id).executeTakeFirstOrThrow();
    t.params.member = String(member.id);
  }
});

afterAll(async () => {
  await app?.close();
  await s?.cleanup();
});

const call = (method: string, url: string, token: string) =>
  app.inject({ method: method as any, url, headers: { authorization: `Bearer ${token}` }, payload: ['GET', 'DELETE'].includes(method) ? undefined : {} });

function fill(url: string, params: Record<string, string>): string | null {
  let missing = false;
  const out = url.replace(/:(\w+)/g, (_m, name: string) => {
    if (params[name] === undefined) missing = true;
    return encodeURIComponent(params[name] ?? 'x');
  });
  return missing ? null : out;
}

describe('tenant isolation', () => {
  it('answers 404 to every route that names another organization’s objects, and changes nothing', async () => {
    const scoped = routes.filter((r) => r.url.startsWith('/api/0/') && r.url.includes(':') && !['HEAD', 'OPTIONS'].includes(r.method));
    expect(scoped.length).toBeGreaterThan(20);
    const leaks: string[] = [];
    const unknownParams: string[] = [];
    for (const r of scoped) {
      const url = fill(r.url, tenants.b.params);
      if (!url) {
        unknownParams.push(`${r.method} ${r.url}`);
        continue;
      }
      const res = await call(r.method, url, tenants.a.token);
      if (res.statusCode !== 404 || res.body.includes(tenants.b.issueTitle)) leaks.push(`${r.method} ${r.url} -> ${res.statusCode} ${res.body.slice(0, 120)}`);
    }
    expect(leaks).toEqual([]);
    expect(unknownParams).toEqual([]);
    // B's issue and project are as they were.
    const issue = await call('GET', `/api/0/issues/${tenants.b.params.id}/`, tenants.b.token);
    expect(issue.statusCode).toBe(200);
    expect(issue.json()).toMatchObject({ title: tenants.b.issueTitle, status: 'unresolved', count: '1' });
    expect((await call('GET', '/api/0/projects/bravo/api/', tenants.b.token)).statusCode).toBe(200);
  });

  it('reaches its own objects through the same routes (so the 404s above mean something)', async () => {
    for (const path of ['/api/0/issues/:id/', '/api/0/issues/:id/events/latest/', '/api/0/projects/:org/:project/events/:eventId/', '/api/0/projects/:org/:project/issues/', '/api/0/issues/:id/tags/']) {
      const res = await call('GET', fill(path, tenants.a.params)!, tenants.a.token);
      expect(res.statusCode, path).toBe(200);
      expect(res.body).not.toContain(tenants.b.issueTitle);
    }
  });

  it('lists only its own organizations, projects and issues', async () => {
    const orgs = (await call('GET', '/api/0/organizations/', tenants.a.token)).json();
    expect(orgs.map((o: any) => o.slug)).toEqual(['alpha']);
    const stream = await call('GET', `/api/0/organizations/alpha/issues/?query=&project=-1`, tenants.a.token);
    expect(stream.statusCode).toBe(200);
    expect(stream.body).toContain('Alpha only problem');
    expect(stream.body).not.toContain(tenants.b.issueTitle);
    const byId = await call('GET', `/api/0/organizations/alpha/issues/?query=&project=${tenants.b.params.id}`, tenants.a.token);
    expect(byId.body).not.toContain(tenants.b.issueTitle);
  });

  it('refuses requests without a valid token', async () => {
    expect((await app.inject({ method: 'GET', url: '/api/0/issues/1/' })).statusCode).toBe(401);
    expect((await call('GET', '/api/0/issues/1/', 'not-a-token')).statusCode).toBe(401);
  });
});
