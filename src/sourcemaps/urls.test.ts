import { gzipSync } from 'node:zlib';
import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { parseMultipart, registerBodyEncodings } from '../api/body-encoding.js';
import { sessionCountsForItem } from '../pipeline/release-health.js';
import { candidateUrls, fixupWebpackFilename, foldFunctionName, generateModule, joinPaths, sourceMapReference } from './urls.js';

describe('source-map URLs (symbolicator utils.rs)', () => {
  it('candidate URLs in lookup order', () => {
    expect(candidateUrls('https://example.com/assets/a.js?x=1#f')).toEqual([
      'https://example.com/assets/a.js?x=1',
      'https://example.com/assets/a.js',
      '~/assets/a.js?x=1',
      '~/assets/a.js',
    ]);
    expect(candidateUrls('app:///_next/x.js')).toEqual(['app:///_next/x.js', '~/_next/x.js']);
    expect(candidateUrls('/srv/app/dist/a.js')).toEqual(['/srv/app/dist/a.js', '~/srv/app/dist/a.js']);
  });
  it('joins map references and sources', () => {
    expect(joinPaths('https://x.com/static/app.min.js', 'app.min.js.map')).toBe('https://x.com/static/app.min.js.map');
    expect(joinPaths('~/static/app.min.js.map', '../src/app.ts')).toBe('~/src/app.ts');
    expect(joinPaths('https://x.com/a/b.js', '/c.js.map')).toBe('https://x.com/c.js.map');
    expect(joinPaths('~/a/b.js', 'webpack:///./src/x.js')).toBe('webpack:///./src/x.js');
  });
  it('finds sourceMappingURL and names', () => {
    expect(sourceMapReference({}, 'x\n//# sourceMappingURL=a.js.map\n')).toBe('a.js.map');
    expect(sourceMapReference({ sourcemap: 'h.map' }, '//# sourceMappingURL=a.js.map')).toBe('h.map');
    expect(fixupWebpackFilename('webpack:///./src/App.jsx')).toBe('./src/App.jsx');
    expect(fixupWebpackFilename('webpack:///../node_modules/x')).toBe('../node_modules/x');
    expect(generateModule('http://example.com/js/foo/bar.js')).toBe('foo/bar');
    expect(foldFunctionName('a.b.b.c')).toBe('a.{b#2}.c');
  });
});

describe('API bodies', () => {
  it('accepts gzip JSON and splits multipart', async () => {
    const app = Fastify();
    registerBodyEncodings(app, 1024 * 1024);
    app.post('/j', async (req) => req.body);
    app.post('/m', async (req) => parseMultipart(req.headers['content-type'], req.body).map((p) => [p.name, p.filename, p.data.toString()]));
    const r = await app.inject({ method: 'POST', url: '/j', headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' }, payload: gzipSync('{"a":1}') });
    expect(r.json()).toEqual({ a: 1 });
    const bad = await app.inject({ method: 'POST', url: '/j', headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' }, payload: 'nope' });
    expect(bad.statusCode).toBe(400);
    const body = '--XX\r\nContent-Disposition: form-data; name="file"; filename="abc"\r\n\r\nhello\r\n--XX\r\nContent-Disposition: form-data; name="name"\r\n\r\n~/a.js\r\n--XX--\r\n';
    const m = await app.inject({ method: 'POST', url: '/m', headers: { 'content-type': 'multipart/form-data; boundary=XX' }, payload: body });
    expect(m.json()).toEqual([['file', 'abc', 'hello'], ['name', null, '~/a.js']]);
  });
});

describe('release health', () => {
  const task = (itemType: string, payload: unknown) => ({ projectId: 1, itemType, payload: JSON.stringify(payload), receivedAt: Date.now() }) as any;
  it('counts individual sessions and aggregates', () => {
    expect(sessionCountsForItem(task('session', { sid: 'x', init: true, status: 'ok', did: 'u1', attrs: { release: 'r1' } }))[0]).toMatchObject({ sessions: 1, crashed: 0, did: 'u1' });
    expect(sessionCountsForItem(task('session', { sid: 'x', status: 'crashed', errors: 1, did: 'u1', attrs: { release: 'r1' } }))[0]).toMatchObject({ sessions: 0, crashed: 1, errored: 1, userCrashed: true });
    const agg = sessionCountsForItem(task('sessions', { aggregates: [{ started: '2026-01-01T00:00:00Z', exited: 3, crashed: 1 }], attrs: { release: 'r1', environment: 'prod' } }));
    expect(agg[0]).toMatchObject({ sessions: 4, crashed: 1, environment: 'prod' });
    expect(sessionCountsForItem(task('sessions', { aggregates: [{ exited: 1 }] }))).toEqual([]);
  });
});
