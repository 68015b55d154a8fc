/**
 * Web UI sessions through the real HTTP app: login with scrypt passwords, the session and CSRF
 * cookies' attributes, CSRF enforcement for cookie-authenticated writes (and none for Bearer
 * tokens), the login rate limit, logout, password change, and per-organization role scopes.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Browser, seed, testApp, tokenFor, type TestApp } from './helpers.js';

let t: TestApp;
afterEach(async () => t?.close());

describe('login and session cookies', () => {
  beforeEach(async () => {
    t = await testApp();
  });

  it('logs in with the right password and sets an HttpOnly session cookie and a readable CSRF cookie', async () => {
    const { org } = await seed(t.services, 'acme', 'ann@example.com', 'owner');
    const b = new Browser(t.app);
    const res = await b.login('Ann@Example.com', 'correct horse 1');
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.user.email).toBe('ann@example.com');
    expect(body.organizations).toEqual([expect.objectContaining({ slug: org.slug, role: 'owner' })]);
    const cookies = res.cookies as any[];
    const session = cookies.find((c) => c.name === 'faultline_session');
    const csrf = cookies.find((c) => c.name === 'faultline_csrf');
    expect(session).toMatchObject({ httpOnly: true, sameSite: 'Lax', path: '/' });
    expect(session.secure).toBeUndefined();
    expect(csrf.httpOnly).toBeUndefined();
    expect(body.csrfToken).toBe(csrf.value);

    const me = await b.request('GET', '/api/0/auth/');
    expect(me.statusCode).toBe(200);
    expect(me.json().user.email).toBe('ann@example.com');
    expect((await b.request('GET', '/api/0/projects/acme/app/issues/')).statusCode).toBe(200);
  });

  it('refuses a wrong password or an unknown email with the same answer', async () => {
    await seed(t.services, 'acme', 'ann@example.com', 'owner');
    const b = new Browser(t.app);
    const wrong = await b.login('ann@example.com', 'nope');
    const unknown = await b.login('nobody@example.com', 'nope');
    expect(wrong.statusCode).toBe(401);
    expect(unknown.statusCode).toBe(401);
    expect(wrong.json()).toEqual(unknown.json());
    expect(b.cookies.size).toBe(0);
    expect((await b.request('GET', '/api/0/auth/')).statusCode).toBe(401);
  });

  it('requires the CSRF header on cookie-authenticated writes, and not on Bearer tokens', async () => {
    const { org } = await seed(t.services, 'acme', 'ann@example.com', 'owner');
    const b = new Browser(t.app);
    await b.login('ann@example.com', 'correct horse 1');
    const change = { name: 'Renamed' };
    expect((await b.request('PUT', '/api/0/projects/acme/app/', change, { csrf: false })).statusCode).toBe(403);
    expect((await b.request('PUT', '/api/0/projects/acme/app/', change, { csrf: 'forged-token' })).statusCode).toBe(403);
    const ok = await b.request('PUT', '/api/0/projects/acme/app/', change);
    expect(ok.statusCode).toBe(200);
    expect(ok.json().name).toBe('Renamed');

    // A cookie the attacker planted, echoed in the header, still does not match the session.
    b.cookies.set('faultline_csrf', 'planted');
    expect((await b.request('PUT', '/api/0/projects/acme/app/', change, { csrf: 'planted' })).statusCode).toBe(403);

    const token = await tokenFor(t.services, org.id, ['project:read', 'project:write']);
    const viaToken = await t.app.inject({
      method: 'PUT',
      url: '/api/0/projects/acme/app/',
      headers: { authorization: `Bearer ${token}` },
      payload: { name: 'By token' },
    });
    expect(viaToken.statusCode).toBe(200);
  });

  it('marks the cookies Secure when the public URL is https', async () => {
    await t.close();
    t = await testApp({ publicUrl: 'https://errors.example.com' });
    await seed(t.services, 'acme', 'ann@example.com', 'owner');
    const res = await new Browser(t.app).login('ann@example.com', 'correct horse 1');
    expect(res.statusCode).toBe(200);
    for (const c of res.cookies as any[]) expect(c.secure).toBe(true);
  });

  it('logs out: the session stops working and the cookies are cleared', async () => {
    await seed(t.services, 'acme', 'ann@example.com', 'owner');
    const b = new Browser(t.app);
    await b.login('ann@example.com', 'correct horse 1');
    const token = b.cookies.get('faultline_session')!;
    const out = await b.request('DELETE', '/api/0/auth/');
    expect(out.statusCode).toBe(204);
    expect(b.cookies.has('faultline_session')).toBe(false);
    const replayed = await t.app.inject({ method: 'GET', url: '/api/0/auth/', headers: { cookie: `faultline_session=${token}` } });
    expect(replayed.statusCode).toBe(401);
  });
});

describe('login rate limit', () => {
  beforeEach(async () => {
    t = await testApp();
  });

  it('answers 429 with Retry-After after 10 failures for one email, even for the right password', async () => {
    await seed(t.services, 'acme', 'ann@example.com', 'owner');
    const b = new Browser(t.app);
    for (let i = 0; i < 10; i++) expect((await b.login('ann@example.com', `guess-${i}`)).statusCode).toBe(401);
    const limited = await b.login('ann@example.com', 'correct horse 1');
    expect(limited.statusCode).toBe(429);
    const retry = Number(limited.headers['retry-after']);
    expect(retry).toBeGreaterThan(0);
    expect(retry).toBeLessThanOrEqual(15 * 60);
    // Another account from another address is not affected.
    await seed(t.services, 'other', 'bob@example.com', 'owner');
    expect((await b.login('bob@example.com', 'correct horse 1', '10.0.0.2')).statusCode).toBe(200);
  });

  it('limits one client address that tries many emails', async () => {
    await seed(t.services, 'acme', 'ann@example.com', 'owner');
    const b = new Browser(t.app);
    for (let i = 0; i < 30; i++) expect((await b.login(`user${i}@example.com`, 'x', '192.0.2.7')).statusCode).toBe(401);
    expect((await b.login('ann@example.com', 'correct horse 1', '192.0.2.7')).statusCode).toBe(429);
    expect((await b.login('ann@example.com', 'correct horse 1', '192.0.2.8')).statusCode).toBe(200);
  });

  it('behind a trusted reverse proxy, limits the forwarded client address, not the proxy', async () => {
    await t.close();
    t = await testApp({ config: { trustProxy: '10.0.0.1' } });
    await seed(t.services, 'acme', 'ann@example.com', 'owner');
    const b = new Browser(t.app);
    const via = (client: string) => ({ 'x-forwarded-for': client });
    for (let i = 0; i < 30; i++) expect((await b.login(`user${i}@example.com`, 'x', '10.0.0.1', via('198.51.100.9'))).statusCode).toBe(401);
    expect((await b.login('ann@example.com', 'correct horse 1', '10.0.0.1', via('198.51.100.9'))).statusCode).toBe(429);
    // Everyone else behind the same proxy can still log in.
    expect((await b.login('ann@example.com', 'correct horse 1', '10.0.0.1', via('198.51.100.10'))).statusCode).toBe(200);
    // A client talking to Faultline directly cannot pick its address with the header.
    const direct = new Browser(t.app);
    for (let i = 0; i < 30; i++) await direct.login(`x${i}@example.com`, 'x', '203.0.113.5', via(`192.0.2.${i}`));
    expect((await direct.login('ann@example.com', 'correct horse 1', '203.0.113.5', via('192.0.2.200'))).statusCode).toBe(429);
  });

  it('without a trusted proxy, ignores X-Forwarded-For', async () => {
    await seed(t.services, 'acme', 'ann@example.com', 'owner');
    const b = new Browser(t.app);
    for (let i = 0; i < 30; i++) await b.login(`user${i}@example.com`, 'x', '10.0.0.1', { 'x-forwarded-for': `198.51.100.${i}` });
    expect((await b.login('ann@example.com', 'correct horse 1', '10.0.0.1', { 'x-forwarded-for': '198.51.100.77' })).statusCode).toBe(429);
  });
});

describe('password change', () => {
  beforeEach(async () => {
    t = await testApp();
  });

  it('needs the current password, then logs other sessions out and the new password works', async () => {
    await seed(t.services, 'acme', 'ann@example.com', 'owner');
    const laptop = new Browser(t.app);
    const phone = new Browser(t.app);
    await laptop.login('ann@example.com', 'correct horse 1');
    await phone.login('ann@example.com', 'correct horse 1');
    const bad = await laptop.request('PUT', '/api/0/users/me/password/', { password: 'wrong', passwordNew: 'battery staple 2' });
    expect(bad.statusCode).toBe(400);
    const short = await laptop.request('PUT', '/api/0/users/me/password/', { password: 'correct horse 1', passwordNew: 'short' });
    expect(short.statusCode).toBe(400);
    const ok = await laptop.request('PUT', '/api/0/users/me/password/', { password: 'correct horse 1', passwordNew: 'battery staple 2', passwordVerify: 'battery staple 2' });
    expect(ok.statusCode).toBe(204);
    expect((await laptop.request('GET', '/api/0/auth/')).statusCode).toBe(200);
    expect((await phone.request('GET', '/api/0/auth/')).statusCode).toBe(401);
    expect((await new Browser(t.app).login('ann@example.com', 'correct horse 1')).statusCode).toBe(401);
    expect((await new Browser(t.app).login('ann@example.com', 'battery staple 2')).statusCode).toBe(200);
  });
});

describe('scopes from the member role', () => {
  beforeEach(async () => {
    t = await testApp();
  });

  it('lets a member triage but not administer, and hides other organizations', async () => {
    const { user } = await seed(t.services, 'acme', 'mia@example.com', 'member');
    await seed(t.services, 'globex', 'gus@example.com', 'owner');
    // Mia owns a second organization: her owner scopes there must not leak into acme.
    const { addMember, getOrCreateOrganization } = await import('../../src/db/models/index.js');
    const own = await getOrCreateOrganization(t.services.database.db, 'mias-own');
    await addMember(t.services.database.db, own.id, user.id, 'owner');

    const b = new Browser(t.app);
    await b.login('mia@example.com', 'correct horse 1');
    expect((await b.request('GET', '/api/0/projects/acme/app/issues/')).statusCode).toBe(200);
    expect((await b.request('PUT', '/api/0/projects/acme/app/issues/?id=1', { status: 'resolved' })).statusCode).toBe(200);
    expect((await b.request('PUT', '/api/0/projects/acme/app/', { name: 'x' })).statusCode).toBe(403);
    expect((await b.request('POST', '/api/0/organizations/acme/projects/', { name: 'New' })).statusCode).toBe(403);
    expect((await b.request('POST', '/api/0/organizations/mias-own/projects/', { name: 'New' })).statusCode).toBe(201);
    expect((await b.request('GET', '/api/0/projects/globex/app/issues/')).statusCode).toBe(404);
    const orgs = (await b.request('GET', '/api/0/auth/')).json().organizations.map((o: any) => o.slug);
    expect(orgs.sort()).toEqual(['acme', 'mias-own']);
  });
});
