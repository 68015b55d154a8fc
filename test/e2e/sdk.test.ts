/**
 * Real SDKs against the real server: @sentry/node (npm) and sentry-python (Debian
 * python3-sentry-sdk) send events to `faultline start`; the results are read back through the
 * web API as a user's script would.
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { apiClient, createProject, createToken, dsnFor, runSdkClient, serverForSuite, waitFor, type ApiClient } from '../helpers/faultline.js';

const server = serverForSuite();


async function setup(slug: string): Promise<{ api: ApiClient; dsn: string; base: string }> {
  const p = createProject(server().dataDir, `e2e/${slug}`);
  const token = createToken(server().dataDir, 'e2e');
  return { api: apiClient(server().url, token), dsn: dsnFor(p.dsn, server()), base: `/api/0/projects/e2e/${slug}` };
}

async function issuesWhenProcessed(api: ApiClient, base: string, eventIds: string[]): Promise<any[]> {
  // Every event the SDK sent must be stored; wait for the last ones to be processed.
  for (const id of eventIds) {
    await waitFor(async () => (await api.request('GET', `${base}/events/${id.replace(/-/g, '')}/`)).ok, 20_000, `event ${id}`);
  }
  return api.get(`${base}/issues/?query=&statsPeriod=24h`);
}

describe('@sentry/node', () => {
  it('groups errors from one throw site into one issue with event and user counts', async () => {
    const { api, dsn, base } = await setup('node-app');
    const ids = runSdkClient(process.execPath, [path.join('test/clients/node-sdk.mjs'), 'same-site'], dsn);
    expect(ids).toHaveLength(6);
    const issues = await issuesWhenProcessed(api, base, ids);
    expect(issues).toHaveLength(2);
    const typeError = issues.find((i) => i.metadata.type === 'TypeError');
    expect(typeError).toBeDefined();
    expect(typeError.count).toBe('5');
    expect(typeError.userCount).toBe(3);
    expect(typeError.title).toMatch(/^TypeError: Cannot read properties of undefined/);
    expect(typeError.status).toBe('unresolved');
    expect(typeError.stats['24h'].reduce((n: number, [, c]: [number, number]) => n + c, 0)).toBe(5);
    const rangeError = issues.find((i) => i.metadata.type === 'RangeError');
    expect(rangeError.count).toBe('1');
    expect(rangeError.userCount).toBe(0);
    expect(rangeError.title).toBe('RangeError: a different failure');

    const events = await api.get(`/api/0/issues/${typeError.id}/events/`);
    expect(events).toHaveLength(5);
    const latest = await api.get(`/api/0/issues/${typeError.id}/events/latest/`);
    expect(latest.groupID).toBe(typeError.id);
    const exception = latest.entries.find((e: any) => e.type === 'exception');
    const frames = exception.data.values[0].stacktrace.frames;
    expect(frames.some((f: any) => f.function === 'throwsTypeError' && f.inApp && f.context.length > 0)).toBe(true);
    expect(latest.tags).toEqual(expect.arrayContaining([{ key: 'release', value: 'e2e-app@1.0.0' }, { key: 'environment', value: 'e2e' }]));

    const hashes = await api.get(`/api/0/issues/${typeError.id}/hashes/`);
    expect(hashes.length).toBeGreaterThan(0);
    expect(hashes[0].id).toMatch(/^[0-9a-f]{32}$/);
  });

  it('groups messages that differ only in numbers', async () => {
    const { api, dsn, base } = await setup('node-messages');
    const ids = runSdkClient(process.execPath, ['test/clients/node-sdk.mjs', 'messages'], dsn);
    const issues = await issuesWhenProcessed(api, base, ids);
    expect(issues).toHaveLength(2);
    const loaded = issues.find((i) => i.title.startsWith('Loaded'));
    expect(loaded, JSON.stringify(issues.map((i) => [i.title, i.count, i.metadata]))).toBeDefined();
    expect(loaded.count).toBe('3');
    expect(loaded.level).toBe('warning');
  });

  it('keeps tags and breadcrumbs, and finds the issue by tag and by text', async () => {
    const { api, dsn, base } = await setup('node-tagged');
    const ids = runSdkClient(process.execPath, ['test/clients/node-sdk.mjs', 'tagged'], dsn);
    await issuesWhenProcessed(api, base, ids);
    const byTag = await api.get(`${base}/issues/?query=${encodeURIComponent('feature:checkout')}`);
    expect(byTag).toHaveLength(1);
    const none = await api.get(`${base}/issues/?query=${encodeURIComponent('feature:billing')}`);
    expect(none).toHaveLength(0);
    const byText = await api.get(`${base}/issues/?query=${encodeURIComponent('"checkout failed"')}`);
    expect(byText).toHaveLength(1);
    const event = await api.get(`${base}/events/${ids[0]}/`);
    const crumbs = event.entries.find((e: any) => e.type === 'breadcrumbs');
    expect(crumbs.data.values.some((b: any) => b.message === 'clicked pay' && b.category === 'ui.click')).toBe(true);
    const tags = await api.get(`/api/0/issues/${byTag[0].id}/tags/`);
    expect(tags.find((t: any) => t.key === 'feature').topValues[0]).toMatchObject({ value: 'checkout', count: 1 });
  });
});

describe('sentry-python (Debian python3-sentry-sdk)', () => {
  it('sends to /store/ and groups like Sentry', async () => {
    const { api, dsn, base } = await setup('py-app');
    const ids = runSdkClient('/usr/bin/python3', ['test/clients/python-sdk.py'], dsn);
    expect(ids).toHaveLength(5);
    const issues = await issuesWhenProcessed(api, base, ids);
    expect(issues).toHaveLength(2);
    const zde = issues.find((i) => i.metadata.type === 'ZeroDivisionError');
    expect(zde.count).toBe('3');
    expect(zde.userCount).toBe(2);
    expect(zde.culprit).toContain('divide');
    const retry = issues.find((i) => i.title.startsWith('Retrying job'));
    expect(retry.count).toBe('2');
  });
});
