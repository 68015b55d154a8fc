/**
 * Project creation and client-key administration through the API: Sentry's request shapes, scope
 * checks, 404 across organizations, and a disabled key's events refused at ingest.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { seed, testApp, tokenFor, type TestApp } from './helpers.js';

let t: TestApp;
beforeEach(async () => {
  t = await testApp();
});
afterEach(async () => t?.close());

function call(token: string, method: string, url: string, payload?: unknown) {
  return t.app.inject({ method: method as any, url, headers: { authorization: `Bearer ${token}` }, ...(payload === undefined ? {} : { payload: payload as any }) });
}

const event = (key: string) =>
  t.app.inject({
    method: 'POST',
    url: '/api/1/store/',
    headers: { 'x-sentry-auth': `Sentry sentry_version=7, sentry_key=${key}`, 'content-type': 'application/json' },
    payload: { message: 'hello', platform: 'node' },
  });

describe('projects', () => {
  it('creates a project with a slug from its name and a first DSN', async () => {
    const { org } = await seed(t.services, 'acme', 'ann@example.com', 'owner');
    const token = await tokenFor(t.services, org.id, ['project:read', 'project:write']);
    const res = await call(token, 'POST', '/api/0/organizations/acme/projects/', { name: 'Checkout Backend', platform: 'node' });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({ slug: 'checkout-backend', name: 'Checkout Backend', platform: 'node' });
    const keys = (await call(token, 'GET', '/api/0/projects/acme/checkout-backend/keys/')).json();
    expect(keys).toHaveLength(1);
    expect(keys[0].dsn.public).toMatch(/^http:\/\/[0-9a-f]{32}@127\.0\.0\.1:9000\/\d+$/);

    const dup = await call(token, 'POST', '/api/0/organizations/acme/projects/', { name: 'Again', slug: 'checkout-backend' });
    expect(dup.statusCode).toBe(409);
    const bad = await call(token, 'POST', '/api/0/organizations/acme/projects/', { name: 'x', slug: 'Not A Slug' });
    expect(bad.statusCode).toBe(400);
    // Sentry's team-scoped route (what sentry-cli and Terraform call): the team must exist.
    expect((await call(token, 'POST', '/api/0/teams/acme/default/projects/', { name: 'Web', slug: 'web' })).statusCode).toBe(404);
    await t.services.database.db.insertInto('teams').values({ organization_id: org.id, slug: 'default', name: 'Default', date_created: Date.now() }).execute();
    const viaTeam = await call(token, 'POST', '/api/0/teams/acme/default/projects/', { name: 'Web', slug: 'web' });
    expect(viaTeam.statusCode).toBe(201);
  });

  it('needs project:write, and answers 404 for another organization', async () => {
    const { org } = await seed(t.services, 'acme', 'ann@example.com', 'owner');
    await seed(t.services, 'globex', 'gus@example.com', 'owner');
    const readOnly = await tokenFor(t.services, org.id, ['project:read', 'org:read']);
    expect((await call(readOnly, 'POST', '/api/0/organizations/acme/projects/', { name: 'New' })).statusCode).toBe(403);
    const writer = await tokenFor(t.services, org.id, ['project:write']);
    expect((await call(writer, 'POST', '/api/0/organizations/globex/projects/', { name: 'New' })).statusCode).toBe(404);
  });
});

describe('client keys', () => {
  it('creates, renames, disables, enables and deletes keys; a disabled key is refused at ingest', async () => {
    const { org, key } = await seed(t.services, 'acme', 'ann@example.com', 'owner');
    const token = await tokenFor(t.services, org.id, ['project:admin']);
    const base = '/api/0/projects/acme/app/keys/';
    expect((await event(key.public_key)).statusCode).toBe(200);

    // Rotation: a new key, then the old one disabled.
    const created = await call(token, 'POST', base, { name: 'Rotated' });
    expect(created.statusCode).toBe(201);
    const fresh = created.json();
    expect(fresh).toMatchObject({ name: 'Rotated', isActive: true });
    const disabled = await call(token, 'PUT', `${base}${key.public_key}/`, { isActive: false });
    expect(disabled.json().isActive).toBe(false);
    expect((await event(key.public_key)).statusCode).toBe(403);
    expect((await event(fresh.public)).statusCode).toBe(200);

    const enabled = await call(token, 'PUT', `${base}${key.public_key}/`, { isActive: true, name: 'Old' });
    expect(enabled.json()).toMatchObject({ isActive: true, name: 'Old' });
    expect((await event(key.public_key)).statusCode).toBe(200);
    expect((await call(token, 'PUT', `${base}${key.public_key}/`, { isActive: 'yes' })).statusCode).toBe(400);

    expect((await call(token, 'DELETE', `${base}${fresh.id}/`)).statusCode).toBe(204);
    const left = (await call(token, 'GET', base)).json();
    expect(left.map((k: any) => k.id)).toEqual([key.public_key]);
    expect((await event(fresh.public)).statusCode).toBe(401);
  });

  it('checks scopes and never reaches another organization\'s keys', async () => {
    const { org } = await seed(t.services, 'acme', 'ann@example.com', 'owner');
    const other = await seed(t.services, 'globex', 'gus@example.com', 'owner');
    const writer = await tokenFor(t.services, org.id, ['project:write']);
    const reader = await tokenFor(t.services, org.id, ['project:read']);
    expect((await call(reader, 'POST', '/api/0/projects/acme/app/keys/', {})).statusCode).toBe(403);
    // Deleting needs project:admin; write is not enough.
    const k = (await call(writer, 'POST', '/api/0/projects/acme/app/keys/', {})).json();
    expect((await call(writer, 'DELETE', `/api/0/projects/acme/app/keys/${k.id}/`)).statusCode).toBe(403);
    expect((await call(writer, 'PUT', `/api/0/projects/globex/app/keys/${other.key.public_key}/`, { isActive: false })).statusCode).toBe(404);
    expect((await call(writer, 'PUT', `/api/0/projects/acme/app/keys/${other.key.public_key}/`, { isActive: false })).statusCode).toBe(404);
  });
});
