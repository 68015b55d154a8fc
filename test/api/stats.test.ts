/**
 * Organization stats (`stats_v2`) in Sentry's shape: intervals aligned as Sentry aligns them,
 * groups by outcome, category, reason and project, filters, and Sentry's error answers. Expected
 * shapes and messages follow Sentry's own endpoint tests (tests/snuba/api/endpoints/test_organization_stats_v2.py).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { seed, testApp, tokenFor, type TestApp } from './helpers.js';

let t: TestApp;
let token: string;
let projectId: number;
let otherProjectId: number;
const at = (iso: string) => Date.parse(iso);

beforeEach(async () => {
  t = await testApp();
  const { org, project } = await seed(t.services, 'acme', 'ann@example.com', 'owner');
  projectId = project.id;
  otherProjectId = (await seed(t.services, 'other', 'bob@example.com', 'owner')).project.id;
  token = await tokenFor(t.services, org.id, ['org:read']);
  const db = t.services.database.db;
  const outcome = (project: number, bucket: number, category: string, outcome: string, reason: string, quantity: number) => ({ project_id: project, bucket, category, outcome, reason, quantity });
  await db
    .insertInto('outcomes')
    .values([
      outcome(projectId, at('2026-12-01T11:00:00Z'), 'error', 'rate_limited', 'key_quota', 7),
      outcome(projectId, at('2026-12-01T03:00:00Z'), 'session', 'accepted', 'none', 40),
      outcome(projectId, at('2026-11-30T20:00:00Z'), 'transaction', 'filtered', 'release-version', 2),
      // Before the window, and another organization's: never counted.
      outcome(projectId, at('2026-11-29T10:00:00Z'), 'error', 'rate_limited', 'key_quota', 1000),
      outcome(otherProjectId, at('2026-12-01T11:00:00Z'), 'error', 'rate_limited', 'key_quota', 500),
    ])
    .execute();
  // Saved events are the accepted errors (the project series the worker writes).
  await t.services.tsdb.incrMulti([
    { model: 'project', keyId: projectId, timestamp: at('2026-12-01T07:15:00Z'), count: 5, dedupeKey: 'a' },
    { model: 'project', keyId: projectId, timestamp: at('2026-12-01T12:05:00Z'), count: 1, dedupeKey: 'b' },
  ]);
});
afterEach(async () => t?.close());

async function stats(query: string, org = 'acme') {
  const res = await t.app.inject({ method: 'GET', url: `/api/0/organizations/${org}/stats_v2/?${query}`, headers: { authorization: `Bearer ${token}` } });
  return { status: res.statusCode, body: res.json() };
}

const WINDOW = 'start=2026-11-30T12:27:28Z&end=2026-12-01T12:27:28Z';

describe('stats_v2', () => {
  it('sums per interval, aligned as Sentry aligns them, grouped by outcome, category and reason', async () => {
    const { status, body } = await stats(`${WINDOW}&interval=6h&field=sum(quantity)&groupBy=outcome&groupBy=category&groupBy=reason`);
    expect(status).toBe(200);
    expect(body.intervals).toEqual(['2026-11-30T18:00:00Z', '2026-12-01T00:00:00Z', '2026-12-01T06:00:00Z', '2026-12-01T12:00:00Z']);
    const byKey = Object.fromEntries(body.groups.map((g: any) => [`${g.by.outcome}/${g.by.category}/${g.by.reason}`, [g.totals['sum(quantity)'], g.series['sum(quantity)']]]));
    expect(byKey).toEqual({
      'rate_limited/error/key_quota': [7, [0, 0, 7, 0]],
      'accepted/session/none': [40, [0, 40, 0, 0]],
      'filtered/transaction/release-version': [2, [2, 0, 0, 0]],
      'accepted/error/none': [6, [0, 0, 5, 1]],
    });
  });

  it('filters by category, outcome and project, and answers one ungrouped total', async () => {
    const errors = await stats(`${WINDOW}&interval=1d&field=sum(quantity)&category=error`);
    expect(errors.body.intervals).toEqual(['2026-12-01T00:00:00Z']);
    expect(errors.body.groups).toEqual([{ by: {}, totals: { 'sum(quantity)': 13 }, series: { 'sum(quantity)': [13] } }]);
    const dropped = await stats(`${WINDOW}&interval=1d&field=sum(quantity)&outcome=rate_limited&groupBy=project&project=${projectId}`);
    expect(dropped.body.groups).toEqual([{ by: { project: projectId }, totals: { 'sum(quantity)': 7 }, series: { 'sum(quantity)': [7] } }]);
    const none = await stats(`${WINDOW}&interval=1d&field=sum(quantity)&outcome=abuse`);
    expect(none.body.groups).toEqual([{ by: {}, totals: { 'sum(quantity)': 0 }, series: { 'sum(quantity)': [0] } }]);
  });

  it("answers bad requests and other organizations' projects as Sentry does", async () => {
    expect(await stats('statsPeriod=1d&interval=1d')).toEqual({ status: 400, body: { detail: 'Request is missing a "field"' } });
    expect(await stats('statsPeriod=1d&interval=1d&field=summ(qarntenty)')).toEqual({ status: 400, body: { detail: 'Invalid field: "summ(qarntenty)"' } });
    expect(await stats('statsPeriod=1d&interval=1d&field=sum(quantity)&groupBy=cattygory')).toEqual({ status: 400, body: { detail: 'Invalid groupBy: "cattygory"' } });
    expect(await stats('statsPeriod=1d&interval=1d&field=sum(quantity)&dragon=smaug')).toEqual({ status: 400, body: { detail: 'Invalid parameter: "dragon"' } });
    expect((await stats('statsPeriod=1d&interval=bad_interval&field=sum(quantity)')).status).toBe(400);
    expect((await stats(`statsPeriod=1d&interval=1d&field=sum(quantity)&project=${otherProjectId}`)).status).toBe(403);
    expect((await stats('statsPeriod=1d&interval=1d&field=sum(quantity)', 'other')).status).toBe(404);
    expect((await stats('statsPeriod=90d&interval=1h&field=sum(quantity)')).status).toBe(400);
  });
});
