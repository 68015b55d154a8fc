/**
 * The web UI in a real browser (Debian's Chromium through playwright-core) against the real
 * `faultline` binary, fed by the real @sentry/node SDK: log in, find the issue, read its stack
 * trace and breadcrumbs, resolve it, search for it, manage keys; and an event full of markup that
 * must show as text and never run. Saves the screenshots in docs/screenshots/ that README shows.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  apiClient,
  createProject,
  createToken,
  dsnFor,
  removeDir,
  ROOT,
  startFaultline,
  waitFor,
  type ApiClient,
  type RunningServer,
} from '../helpers/faultline.js';

const XSS = '<script>window.__pwned=1</script><img src=x onerror="window.__pwned=2">';
const SHOTS = path.join(ROOT, 'docs/screenshots');

let server: RunningServer;
let browser: Browser;
let api: ApiClient;

beforeAll(async () => {
  server = await startFaultline();
  api = apiClient(server.url, createToken(server.dataDir, 'faultline'));
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  if (server) removeDir(server.dataDir);
});

/** Sends a scenario with the real SDK into a new project and waits until the worker stored it. */
async function projectWithEvents(slug: string, scenario: string | null) {
  const project = createProject(server.dataDir, `faultline/${slug}`);
  if (!scenario) return { project, ids: [] as string[] };
  const r = spawnSync(process.execPath, ['test/clients/node-sdk-ui.mjs', scenario], {
    cwd: ROOT,
    env: { ...process.env, FAULTLINE_DSN: dsnFor(project.dsn, server) },
    encoding: 'utf8',
    timeout: 60_000,
  });
  if (r.status !== 0) throw new Error(`client failed: ${r.stderr}`);
  const ids: string[] = JSON.parse(r.stdout.trim().split('\n').pop()!).ids;
  for (const id of ids) {
    await waitFor(async () => (await api.request('GET', `/api/0/projects/faultline/${slug}/events/${id.replace(/-/g, '')}/`)).ok, 20_000, `event ${id}`);
  }
  return { project, ids };
}

interface Watched {
  page: Page;
  context: BrowserContext;
  /** CSP violations, script errors and dialogs: each would mean something ran that should not. */
  problems: string[];
}

async function newPage(): Promise<Watched> {
  const context = await browser.newContext({ viewport: { width: 1366, height: 860 } });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' && /Content Security Policy|Refused to/i.test(m.text())) problems.push(m.text());
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('dialog', (d) => {
    problems.push(`dialog: ${d.message()}`);
    void d.dismiss();
  });
  return { page, context, problems };
}

async function login(page: Page) {
  await page.goto(`${server.url}/`);
  await page.waitForURL(/\/auth\/login\//);
  await page.getByLabel('Email').fill('admin@localhost');
  await page.getByLabel('Password').fill('test-password-1');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(/\/organizations\/faultline\/issues\//);
}

describe('web UI', () => {
  it('logs in, lists the issue, shows its stack trace and breadcrumbs, resolves it and finds it by search', async () => {
    const { project, ids } = await projectWithEvents('shop', 'checkout');
    const { page, context, problems } = await newPage();
    await page.goto(`${server.url}/`);
    await page.waitForURL(/\/auth\/login\//);
    await page.screenshot({ path: path.join(SHOTS, 'login.png') });
    await login(page);

    await page.getByLabel('Project').selectOption({ label: project.slug });
    await page.getByRole('link', { name: /Payment provider answered slowly/ }).waitFor();
    await page.getByLabel('Sort by').selectOption({ label: 'Events' });
    await page.waitForURL(/sort=freq/);
    // The title follows the latest event (order 1002), as Sentry's does.
    const issueLink = page.getByRole('link', { name: /^Error: checkout failed for order 100\d$/ });
    await issueLink.waitFor();
    const row = page.locator('tr', { has: issueLink });
    await expect(row.locator('td.num').first().textContent()).resolves.toBe('2');
    await page.screenshot({ path: path.join(SHOTS, 'issue-stream.png') });

    await issueLink.click();
    await page.getByRole('heading', { name: 'Exception' }).waitFor();
    const appFrame = page.locator('.frame.in-app', { hasText: 'processOrder' });
    await appFrame.first().waitFor();
    // Source context from the SDK's context lines, the failing line highlighted.
    await expect(page.locator('.context li.current').first().textContent()).resolves.toContain('throw new Error(`checkout failed');
    await page.getByRole('cell', { name: 'clicked pay' }).waitFor();
    await page.getByText('ann@example.com').first().waitFor();
    await page.getByRole('link', { name: /feature\s*checkout/ }).first().waitFor();
    await page.getByText('shop@2.3.1').first().waitFor();
    await page.screenshot({ path: path.join(SHOTS, 'issue-details.png'), fullPage: true });

    await page.getByRole('button', { name: 'Raw' }).click();
    await expect(page.locator('.raw-trace').textContent()).resolves.toMatch(/at processOrder \(/);

    // Two events of this issue: the latest links to the older one.
    const latestId = ids[1].replace(/-/g, '');
    const olderId = ids[0].replace(/-/g, '');
    await page.getByText(latestId).waitFor();
    await page.getByRole('link', { name: '← Older' }).click();
    await page.waitForURL(new RegExp(`/events/${olderId}/`));
    await page.getByText(olderId).waitFor();

    await page.getByRole('button', { name: 'Resolve', exact: true }).click();
    await page.locator('.badge.status-resolved').waitFor();
    const issueId = /\/issues\/(\d+)\//.exec(page.url())![1];
    expect((await api.get(`/api/0/issues/${issueId}/`)).status).toBe('resolved');

    // Resolved issues leave the default (unresolved) stream; a search brings them back.
    await page.goto(`${server.url}/organizations/faultline/issues/?project=${project.id}`);
    await page.getByRole('link', { name: /Payment provider answered slowly/ }).waitFor();
    await expect(page.getByRole('link', { name: /checkout failed/ }).count()).resolves.toBe(0);
    await page.getByLabel('Search issues').fill('is:resolved "checkout failed"');
    await page.getByLabel('Search issues').press('Enter');
    await page.getByRole('link', { name: /^Error: checkout failed for order/ }).waitFor();
    expect(page.url()).toContain('query=is%3Aresolved');
    expect(problems).toEqual([]);
    await context.close();
  }, 120_000);

  it('shows a project\'s DSN with setup snippets, and rotates its key', async () => {
    const { project } = await projectWithEvents('settings-demo', null);
    const { page, context, problems } = await newPage();
    await login(page);
    await page.goto(`${server.url}/settings/faultline/projects/${project.slug}/`);
    const dsn = dsnFor(project.dsn, server);
    await page.getByText(dsn, { exact: true }).first().waitFor();
    await page.getByRole('tab', { name: 'Python' }).click();
    await expect(page.locator('#snippet-panel').textContent()).resolves.toContain(`dsn="${dsn}"`);
    await page.getByRole('tab', { name: 'Browser JavaScript' }).click();
    await page.screenshot({ path: path.join(SHOTS, 'project-settings.png'), fullPage: true });

    await page.getByRole('button', { name: 'Rotate' }).click();
    await page.getByRole('button', { name: 'Enable' }).waitFor();
    const keys = await api.get(`/api/0/projects/faultline/${project.slug}/keys/`);
    expect(keys.map((k: any) => k.isActive)).toEqual([false, true]);
    expect(problems).toEqual([]);
    await context.close();
  }, 120_000);

  it('tells a new user what to do when a project has no events yet', async () => {
    const { project } = await projectWithEvents('brand-new', null);
    const { page, context } = await newPage();
    await login(page);
    await page.goto(`${server.url}/organizations/faultline/issues/?project=${project.id}`);
    await page.getByRole('heading', { name: /Waiting for the first event/ }).waitFor();
    await page.getByText(dsnFor(project.dsn, server), { exact: true }).waitFor();
    await expect(page.locator('#snippet-panel').textContent()).resolves.toContain('Sentry.init');
    await page.screenshot({ path: path.join(SHOTS, 'empty-project.png') });
    await context.close();
  }, 120_000);

  it('shows markup from an event as text and runs none of it', async () => {
    const { project } = await projectWithEvents('hostile', 'hostile');
    const { page, context, problems } = await newPage();
    await login(page);
    await page.goto(`${server.url}/organizations/faultline/issues/?project=${project.id}`);
    const link = page.getByRole('link', { name: `Error: hostile ${XSS}` });
    await link.waitFor();
    await link.click();
    await page.getByRole('heading', { name: 'Exception' }).waitFor();
    await page.getByRole('button', { name: 'Full' }).click();

    const body = (await page.locator('main').textContent())!;
    expect(body).toContain(`hostile ${XSS}`); // title and exception value
    expect(body).toContain('<img src=x onerror="window.__pwned=3">'); // source context line
    expect(body).toContain('<img src=x onerror="window.__pwned=4">'); // tag value
    expect(body).toContain('javascript:window.__pwned=5'); // request URL, as text
    await page.getByRole('cell', { name: XSS, exact: true }).first().waitFor(); // breadcrumb
    await page.getByRole('cell', { name: XSS, exact: true }).nth(1).waitFor(); // user id, username
    await expect(page.locator('.frame-fn', { hasText: XSS }).count()).resolves.toBeGreaterThan(0); // frame function

    for (const mode of ['In-app only', 'Raw', 'Full']) await page.getByRole('button', { name: mode }).click();
    await page.getByRole('link', { name: 'Events (1)' }).click();
    await page.getByRole('link', { name: 'Details' }).click();
    await page.getByRole('heading', { name: 'Exception' }).waitFor();

    expect(await page.evaluate(() => (globalThis as { __pwned?: number }).__pwned)).toBeUndefined();
    await expect(page.locator('img[src="x"]').count()).resolves.toBe(0);
    await expect(page.locator('a[href^="javascript:"]').count()).resolves.toBe(0);
    await expect(page.locator('script:not([src])').count()).resolves.toBe(0);
    expect(problems).toEqual([]);
    await context.close();
  }, 120_000);
});
