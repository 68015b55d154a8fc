/**
 * Rate limits and back-pressure at the ingest edge, answered as Relay answers them: 429 with
 * `Retry-After` and `X-Sentry-Rate-Limits: <secs>:<categories>:<scope>:<reason>` (protocol.md §5).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/faultline.js';
import { seed, testApp, tokenFor, type TestApp } from './helpers.js';

let t: TestApp;
afterEach(async () => t?.close());

const envelope = (i: number, type = 'event') => `{"event_id":"${i.toString(16).padStart(32, '0')}"}\n{"type":"${type}"}\n{"message":"m${i}"}\n`;

async function post(key: string, projectId: number, body: string) {
  return t.app.inject({ method: 'POST', url: `/api/${projectId}/envelope/?sentry_key=${key}`, payload: body });
}

describe('key and project rate limits', () => {
  it('accepts up to the key limit, then answers 429 with the headers SDKs read', async () => {
    t = await testApp();
    const { org, project, key } = await seed(t.services, 'acme', 'owner@acme.test', 'owner');
    const token = await tokenFor(t.services, org.id, ['project:write', 'project:read']);
    const put = await t.app.inject({
      method: 'PUT',
      url: `/api/0/projects/acme/app/keys/${key.public_key}/`,
      headers: { authorization: `Bearer ${token}` },
      payload: { rateLimit: { window: 60, count: 3 } },
    });
    expect(put.statusCode).toBe(200);
    expect(put.json().rateLimit).toEqual({ window: 60, count: 3 });
    expect((await t.app.inject({ method: 'PUT', url: `/api/0/projects/acme/app/keys/${key.public_key}/`, headers: { authorization: `Bearer ${token}` }, payload: { rateLimit: { window: 0, count: 3 } } })).statusCode).toBe(400);

    const statuses: number[] = [];
    let limited;
    for (let i = 0; i < 5; i++) {
      const r = await post(key.public_key, project.id, envelope(i));
      statuses.push(r.statusCode);
      if (r.statusCode === 429) limited = r;
    }
    expect(statuses).toEqual([200, 200, 200, 429, 429]);
    expect(Number(limited!.headers['retry-after'])).toBeGreaterThan(0);
    expect(Number(limited!.headers['retry-after'])).toBeLessThanOrEqual(60);
    expect(limited!.headers['x-sentry-rate-limits']).toMatch(/^\d+:error:key:key_quota$/);
    // Sessions are not events: the key limit does not stop them.
    expect((await post(key.public_key, project.id, `{}\n{"type":"session"}\n{"sid":"${'1'.repeat(32)}","status":"ok"}\n`)).statusCode).toBe(200);
    // Success responses carry no Retry-After (the JS SDK would stop sending everything).
    const ok = await post(key.public_key, project.id, `{}\n{"type":"session"}\n{"sid":"${'2'.repeat(32)}","status":"ok"}\n`);
    expect(ok.headers['retry-after']).toBeUndefined();
    // The two refused events are counted as rate-limited outcomes, with the limit's reason.
    const rows = await waitFor(async () => {
      const r = await t.services.database.db.selectFrom('outcomes').select(['category', 'outcome', 'reason', 'quantity']).where('project_id', '=', project.id).where('outcome', '=', 'rate_limited').execute();
      return r.length ? r : null;
    }, 5_000, 'rate-limited outcomes');
    expect(rows).toEqual([{ category: 'error', outcome: 'rate_limited', reason: 'key_quota', quantity: 2 }]);
  });

  it('drops only the limited items of a mixed envelope and says so on the 200', async () => {
    t = await testApp();
    const { org, project, key } = await seed(t.services, 'acme', 'owner@acme.test', 'owner');
    const token = await tokenFor(t.services, org.id, ['project:write', 'project:read']);
    const put = await t.app.inject({ method: 'PUT', url: '/api/0/projects/acme/app/', headers: { authorization: `Bearer ${token}` }, payload: { rateLimitPerMinute: 0 } });
    expect(put.json().rateLimitPerMinute).toBe(0);
    const r = await post(key.public_key, project.id, `{"event_id":"${'a'.repeat(32)}"}\n{"type":"event"}\n{"message":"x"}\n{"type":"session"}\n{"sid":"${'3'.repeat(32)}","status":"ok"}\n`);
    expect(r.statusCode).toBe(200);
    expect(r.headers['x-sentry-rate-limits']).toMatch(/^\d+:error:project:project_quota$/);
    expect(r.headers['retry-after']).toBeUndefined();
    const stats = await t.services.queue.stats('ingest');
    expect(stats.ready).toBe(1); // the session only
    await t.app.close(); // flushes the counted outcomes
    const rows = await t.services.database.db.selectFrom('outcomes').select(['category', 'reason', 'quantity']).where('outcome', '=', 'rate_limited').execute();
    expect(rows).toEqual([{ category: 'error', reason: 'project_quota', quantity: 1 }]);
  });
});

describe('back-pressure', () => {
  it('answers 429 for every category once the queue backlog is over the limit', async () => {
    t = await testApp({ config: { maxQueueBacklog: 5 } });
    const { project, key } = await seed(t.services, 'acme', 'owner@acme.test', 'owner');
    const statuses: number[] = [];
    for (let i = 0; i < 8; i++) {
      statuses.push((await post(key.public_key, project.id, envelope(i))).statusCode);
      await new Promise((r) => setTimeout(r, 1_050)); // the backlog is sampled once a second
      if (statuses.at(-1) === 429) break;
    }
    expect(statuses.slice(0, 6)).toEqual([200, 200, 200, 200, 200, 200]);
    const r = await post(key.public_key, project.id, envelope(99));
    expect(r.statusCode).toBe(429);
    expect(r.headers['retry-after']).toBe('60');
    expect(r.headers['x-sentry-rate-limits']).toBe('60::organization:backlog');
    expect((await t.services.queue.stats('ingest')).ready).toBe(6);
  }, 30_000);
});
