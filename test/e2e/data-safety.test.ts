/**
 * Data safety through the real server and a real SDK: default scrubbing of sensitive fields and
 * card numbers, scrubbing settings, and inbound filters that count instead of store.
 */
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { decodeNode } from '../../src/services/nodestore/codec.js';
import { apiClient, createProject, createToken, dsnFor, runSdkClient, serverForSuite, sleep, waitFor } from '../helpers/faultline.js';

const server = serverForSuite();

const runNode = (scenario: string, dsn: string) => runSdkClient(process.execPath, ['test/clients/node-sdk.mjs', scenario], dsn);

describe('scrubbing', () => {
  it('replaces every default sensitive field and card numbers in data with [Filtered] before storing', async () => {
    const p = createProject(server().dataDir, 'safety/scrubbed');
    const api = apiClient(server().url, createToken(server().dataDir, 'safety'));
    const [id] = runNode('secrets', dsnFor(p.dsn, server()));
    const event = await waitFor(async () => {
      const r = await api.request('GET', `/api/0/projects/safety/scrubbed/events/${id}/`);
      return r.ok ? ((await r.json()) as any) : null;
    });
    for (const w of ['password', 'secret', 'passwd', 'api_key', 'apikey', 'auth', 'credentials', 'mysql_pwd', 'privatekey', 'private_key', 'token', 'bearer']) {
      expect(event.context[`x_${w}`], w).toBe('[Filtered]');
    }
    expect(event.contexts.payment.card).toBe('[Filtered]');
    expect(event.contexts.payment.amount).toBe(12);
    // As in Sentry, exception values are left out of the default rules (Relay's `$error.value`),
    // and so are the SDK's trace ids.
    const exception = event.entries.find((e: any) => e.type === 'exception');
    expect(exception.data.values[0].value).toBe('charge failed for card 4242424242424242');
    expect(event.contexts.trace.trace_id).toMatch(/^[0-9a-f]{32}$/);
    const crumbs = event.entries.find((e: any) => e.type === 'breadcrumbs');
    expect(crumbs.data.values.find((b: any) => b.category === 'http').message).toBe('POST /login?password=[Filtered]');
    expect(event._meta.extra.x_password['']).toMatchObject({ rem: [['@password:filter', 's']] });
    // Nothing of the secrets reached the disk.
    const db = new BetterSqlite3(path.join(server().dataDir, 'faultline.db'), { readonly: true });
    const rows = db.prepare('SELECT data FROM nodestore_node').all() as { data: Buffer }[];
    db.close();
    const bodies = rows.map((r) => JSON.stringify(decodeNode(r.data))).join('\n');
    expect(bodies).not.toContain('value-of-password');
    // The context's card number; the client's own source lines around the frames, which spell it
    // out too, are code and kept as Sentry keeps them.
    expect(bodies).not.toContain('"card":"4242 4242 4242 4242"');
    expect(bodies).toContain('"card":"[Filtered]"');
  });

  it('follows the project settings: safe fields, extra sensitive fields, off switch', async () => {
    const p = createProject(server().dataDir, 'safety/settings');
    const api = apiClient(server().url, createToken(server().dataDir, 'safety'));
    const put = await api.request('PUT', '/api/0/projects/safety/settings/', { safeFields: ['x_token'], sensitiveFields: ['amount'] });
    expect(put.status).toBe(200);
    const project = (await put.json()) as any;
    expect(project).toMatchObject({ dataScrubber: true, safeFields: ['x_token'], sensitiveFields: ['amount'] });
    expect((await api.request('PUT', '/api/0/projects/safety/settings/', { dataScrubber: 'yes' })).status).toBe(400);
    const [id] = runNode('secrets', dsnFor(p.dsn, server()));
    const event = await waitFor(async () => {
      const r = await api.request('GET', `/api/0/projects/safety/settings/events/${id}/`);
      return r.ok ? ((await r.json()) as any) : null;
    });
    expect(event.context.x_token).toBe('value-of-token');
    expect(event.context.x_password).toBe('[Filtered]');
    expect(event.contexts.payment.amount).toBe('[Filtered]');
  });
});

describe('inbound filters', () => {
  it('drops events whose message matches a pattern, and counts them as filtered', async () => {
    const p = createProject(server().dataDir, 'safety/filters');
    const api = apiClient(server().url, createToken(server().dataDir, 'safety'));
    const put = await api.request('PUT', '/api/0/projects/safety/filters/filters/error-messages/', { value: '*ResizeObserver loop*' });
    expect(put.status).toBe(204);
    const list = await api.get('/api/0/projects/safety/filters/filters/');
    expect(list.find((f: any) => f.id === 'error-messages')).toMatchObject({ active: true, value: '*ResizeObserver loop*' });
    // The project cache in the worker holds settings for up to 5 s.
    await sleep(5_500);
    const [dropped, kept] = runNode('filtered', dsnFor(p.dsn, server()));
    await waitFor(async () => (await api.request('GET', `/api/0/projects/safety/filters/events/${kept}/`)).ok);
    expect((await api.request('GET', `/api/0/projects/safety/filters/events/${dropped}/`)).status).toBe(404);
    const db = new BetterSqlite3(path.join(server().dataDir, 'faultline.db'), { readonly: true });
    const row = db.prepare("SELECT SUM(quantity) AS n FROM outcomes WHERE project_id = ? AND outcome = 'filtered' AND reason = 'error-message'").get(Number(p.id)) as { n: number };
    db.close();
    expect(row.n).toBe(1);
  });
});
