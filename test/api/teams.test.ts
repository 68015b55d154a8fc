/** Teams in Sentry's API shapes: create, own projects, members, and the team project route. */
import { afterEach, describe, expect, it } from 'vitest';
import { seed, testApp, tokenFor, type TestApp } from './helpers.js';

let t: TestApp;
afterEach(async () => t?.close());

describe('teams', () => {
  it('creates a team, gives it projects and members, and lists them', async () => {
    t = await testApp();
    const { org, user } = await seed(t.services, 'acme', 'dev@acme.test', 'member');
    const token = await tokenFor(t.services, org.id, ['team:read', 'team:write', 'team:admin', 'project:read', 'project:write', 'member:read', 'member:write']);
    const call = (method: string, url: string, payload?: unknown) =>
      t.app.inject({ method: method as any, url, headers: { authorization: `Bearer ${token}` }, payload: payload as any });

    const created = await call('POST', '/api/0/organizations/acme/teams/', { name: 'Backend Team' });
    expect(created.statusCode).toBe(201);
    expect(created.json()).toMatchObject({ slug: 'backend-team', name: 'Backend Team', memberCount: 0, projects: [] });
    expect((await call('POST', '/api/0/organizations/acme/teams/', { name: 'Backend Team' })).statusCode).toBe(409);
    expect((await call('POST', '/api/0/organizations/acme/teams/', { slug: 'Not A Slug!' })).statusCode).toBe(400);

    expect((await call('POST', '/api/0/projects/acme/app/teams/backend-team/')).statusCode).toBe(201);
    const viaTeam = await call('POST', '/api/0/teams/acme/backend-team/projects/', { name: 'Billing API' });
    expect(viaTeam.statusCode).toBe(201);
    expect((await call('POST', '/api/0/teams/acme/nope/projects/', { name: 'Orphan' })).statusCode).toBe(404);
    const projects = (await call('GET', '/api/0/teams/acme/backend-team/projects/')).json();
    expect(projects.map((p: any) => p.slug)).toEqual(['app', 'billing-api']);

    const members = (await call('GET', '/api/0/organizations/acme/members/')).json();
    const me = members.find((m: any) => m.email === 'dev@acme.test');
    expect(me.user.id).toBe(String(user.id));
    expect((await call('POST', `/api/0/organizations/acme/members/${me.id}/teams/backend-team/`)).statusCode).toBe(201);
    const team = (await call('GET', '/api/0/teams/acme/backend-team/')).json();
    expect(team.memberCount).toBe(1);
    expect((await call('GET', '/api/0/projects/acme/app/teams/')).json().map((x: any) => x.slug)).toEqual(['backend-team']);

    expect((await call('DELETE', '/api/0/projects/acme/app/teams/backend-team/')).statusCode).toBe(204);
    expect((await call('DELETE', '/api/0/teams/acme/backend-team/')).statusCode).toBe(204);
    expect((await call('GET', '/api/0/organizations/acme/teams/')).json()).toEqual([]);
  });

  it('needs team scopes', async () => {
    t = await testApp();
    const { org } = await seed(t.services, 'acme', 'dev@acme.test', 'member');
    const token = await tokenFor(t.services, org.id, ['project:read']);
    const r = await t.app.inject({ method: 'POST', url: '/api/0/organizations/acme/teams/', headers: { authorization: `Bearer ${token}` }, payload: { name: 'x' } });
    expect(r.statusCode).toBe(403);
  });
});
