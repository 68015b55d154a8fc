/**
 * Releases and JavaScript source maps end to end: the real sentry-cli binaries (3.x as
 * `@sentry/cli`, 2.x as `sentry-cli-2`) create and finalize releases, record deploys and upload a
 * real esbuild-minified bundle with its maps to `faultline start`; then the real @sentry/node SDK
 * throws from that minified bundle and the event comes back through the API with original
 * frames and context lines. A corrupt map uploaded as a legacy release file shows up as a
 * processing error on the event instead.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiClient, cli, createProject, createToken, dsnFor, removeDir, ROOT, startFaultline, tempDataDir, waitFor, type ApiClient, type RunningServer } from '../helpers/faultline.js';

const CLI3 = path.join(ROOT, 'node_modules/@sentry/cli/bin/sentry-cli');
const CLI2 = path.join(ROOT, 'node_modules/sentry-cli-2/bin/sentry-cli');

const APP_SOURCE = `export function run(input) {
  return parseConfig(input);
}

function parseConfig(text) {
  const value = text.trim();
  if (!value.startsWith('{')) {
    throw new Error('config is not JSON: ' + value);
  }
  return JSON.parse(value);
}
`;
const THROW_LINE = 8;

let server: RunningServer;
let api: ApiClient;
let dsn: string;
let token: string;
let work: string;

beforeAll(async () => {
  server = await startFaultline();
  const project = createProject(server.dataDir, 'acme/web');
  token = createToken(server.dataDir, 'acme');
  api = apiClient(server.url, token);
  dsn = dsnFor(project.dsn, server);
  work = tempDataDir();
});

afterAll(async () => {
  await server?.stop();
  if (server) removeDir(server.dataDir);
  if (work) removeDir(work);
});

function sentryCli(bin: string, args: string[], env: Record<string, string> = { SENTRY_URL: server.url, SENTRY_AUTH_TOKEN: token, SENTRY_ORG: 'acme' }): string {
  const r = spawnSync(process.execPath, [bin, ...args], {
    cwd: work,
    env: { ...process.env, ...env, SENTRY_PROJECT: 'web', SENTRY_LOG_LEVEL: 'warn', SENTRY_DISABLE_UPDATE_CHECK: '1' },
    encoding: 'utf8',
    timeout: 30_000,
  });
  if (r.status !== 0) throw new Error(`sentry-cli ${args.join(' ')} failed (${r.status}): ${r.stderr}${r.stdout}`);
  return r.stdout + r.stderr;
}

/** Builds src/app.js into <name>/app.min.js (+ .map) with esbuild, minified. */
async function buildBundle(name: string): Promise<string> {
  const dir = path.join(work, name);
  mkdirSync(path.join(dir, 'src'), { recursive: true });
  writeFileSync(path.join(dir, 'src/app.js'), APP_SOURCE);
  await build({ entryPoints: [path.join(dir, 'src/app.js')], outfile: path.join(dir, 'dist/app.min.js'), bundle: true, minify: true, sourcemap: true, format: 'esm', platform: 'node', logLevel: 'silent' });
  return path.join(dir, 'dist');
}

/** Runs the bundle under @sentry/node and returns the event as the API shows it. */
async function throwFrom(bundle: string, release: string): Promise<any> {
  const r = spawnSync(process.execPath, [path.join(ROOT, 'test/clients/sourcemap-app.mjs'), bundle, dsn, release], { cwd: ROOT, encoding: 'utf8', timeout: 30_000 });
  if (r.status !== 0) throw new Error(`sdk client failed: ${r.stderr}`);
  const { eventId } = JSON.parse(r.stdout.trim().split('\n').pop()!);
  return waitFor(async () => {
    const res = await api.request('GET', `/api/0/projects/acme/web/events/${eventId}/`);
    return res.ok ? res.json() : null;
  }, 20_000, `event ${eventId}`);
}

const exceptionOf = (event: any) => event.entries.find((e: any) => e.type === 'exception').data.values[0];

describe('sentry-cli releases', () => {
  it('creates, finalizes and deploys a release (3.x) and lists it', async () => {
    sentryCli(CLI3, ['releases', 'new', 'web@1.0.0', '--url', 'https://example.com/r/1']);
    sentryCli(CLI3, ['releases', 'finalize', 'web@1.0.0']);
    sentryCli(CLI3, ['deploys', 'new', '--release', 'web@1.0.0', '-e', 'production', '-n', 'first']);
    // set-commits needs a git checkout; send what it sends (PUT with refs) directly.
    await api.request('PUT', '/api/0/organizations/acme/releases/web@1.0.0/', { refs: [{ repository: 'acme/web', commit: '0123456789abcdef0123456789abcdef01234567' }] });
    const info = sentryCli(CLI3, ['releases', 'info', 'web@1.0.0']);
    expect(info).toContain('web@1.0.0');
    const r = await api.get(`/api/0/organizations/acme/releases/${encodeURIComponent('web@1.0.0')}/`);
    expect(r.dateReleased).toBeTruthy();
    expect(r.url).toBe('https://example.com/r/1');
    expect(r.deployCount).toBe(1);
    expect(r.lastDeploy).toMatchObject({ environment: 'production', name: 'first' });
    expect(r.lastCommit).toEqual({ id: '0123456789abcdef0123456789abcdef01234567' });
    expect(r.projects.map((p: any) => p.slug)).toEqual(['web']);
    const list = await api.get('/api/0/projects/acme/web/releases/');
    expect(list.map((x: any) => x.version)).toContain('web@1.0.0');
    expect(sentryCli(CLI3, ['releases', 'list'])).toContain('web@1.0.0');
    // 2.x too, and archive via PUT status.
    sentryCli(CLI2, ['releases', 'new', 'web@0.9.0']);
    sentryCli(CLI2, ['releases', 'archive', 'web@0.9.0']);
    expect((await api.get('/api/0/organizations/acme/releases/web@0.9.0/')).status).toBe('archived');
    const missing = await api.request('GET', '/api/0/organizations/acme/releases/nope/');
    expect(missing.status).toBe(404);
    expect(missing.headers.get('content-type')).toMatch(/^application\/json/);
  });

  it('works from an organization auth token alone: sentry-cli reads the URL and organization from it', async () => {
    const orgToken = JSON.parse(cli(server.dataDir, ['token', 'create', '--org', 'acme', '--org-token', '--url', server.url, '--json'])).token as string;
    expect(orgToken).toMatch(/^sntrys_[A-Za-z0-9+/=]+_[A-Za-z0-9+/]{43}$/);
    const payload = JSON.parse(Buffer.from(orgToken.split('_')[1], 'base64').toString('utf8'));
    expect(payload).toMatchObject({ url: server.url, org: 'acme' });
    // No SENTRY_URL, no SENTRY_ORG: both 3.x and 2.x take them from the token.
    for (const bin of [CLI3, CLI2]) {
      sentryCli(bin, ['releases', 'new', `web@token-${bin === CLI3 ? 3 : 2}`], { SENTRY_AUTH_TOKEN: orgToken });
      expect(sentryCli(bin, ['releases', 'list'], { SENTRY_AUTH_TOKEN: orgToken })).toContain('web@token-');
    }
    const versions = (await api.get('/api/0/projects/acme/web/releases/')).map((x: any) => x.version);
    expect(versions).toEqual(expect.arrayContaining(['web@token-3', 'web@token-2']));
    // The old kind of token still works as before.
    expect(sentryCli(CLI3, ['releases', 'list'])).toContain('web@token-3');
  });
});

describe('source maps', () => {
  it('3.x: debug-id bundle; a minified SDK error comes back source-mapped with context', async () => {
    const dist = await buildBundle('v3');
    sentryCli(CLI3, ['sourcemaps', 'inject', dist]);
    expect(readFileSync(path.join(dist, 'app.min.js'), 'utf8')).toMatch(/debugId=/);
    const out = sentryCli(CLI3, ['sourcemaps', 'upload', '--release', 'web@2.0.0', '--wait', dist]);
    expect(out).not.toMatch(/Nothing to upload/);
    const event = await throwFrom(path.join(dist, 'app.min.js'), 'web@2.0.0');
    const exc = exceptionOf(event);
    const top = exc.stacktrace.frames.at(-1);
    expect(top.filename).toMatch(/src\/app\.js$/);
    expect(top.lineNo).toBe(THROW_LINE);
    expect(top.context).toEqual(expect.arrayContaining([[THROW_LINE, "    throw new Error('config is not JSON: ' + value);"]]));
    expect(top.function).toBe('parseConfig');
    expect(exc.rawStacktrace.frames.at(-1).absPath).toMatch(/app\.min\.js$/);
    // Frames of other files (the runner script) have no upload: at most js_no_source for them.
    expect(event.errors.filter((e: any) => !(e.type === 'js_no_source' && !String(e.url).includes('app.min.js')))).toEqual([]);
  });

  it('2.x: release + URL matching without debug ids, also right after a first event without files', async () => {
    const dist = await buildBundle('v2');
    sentryCli(CLI2, ['releases', 'new', 'web@3.0.0']);
    // An event before the upload stays minified, and the worker remembers "no files" for a while;
    // the upload must make the very next event source-mapped all the same.
    const before = await throwFrom(path.join(dist, 'app.min.js'), 'web@3.0.0');
    expect(exceptionOf(before).stacktrace.frames.at(-1).filename).toMatch(/app\.min\.js$/);
    sentryCli(CLI2, ['sourcemaps', 'upload', '--release', 'web@3.0.0', '--url-prefix', `~${dist}`, dist]);
    const event = await throwFrom(path.join(dist, 'app.min.js'), 'web@3.0.0');
    const top = exceptionOf(event).stacktrace.frames.at(-1);
    expect(top.filename).toMatch(/src\/app\.js$/);
    expect(top.lineNo).toBe(THROW_LINE);
    const rel = await api.get('/api/0/organizations/acme/releases/web@3.0.0/');
    // New issues of a release are those first seen in it: the minified event's issue at least.
    const firstReleases = await Promise.all([...new Set([before.groupID, event.groupID])].map(async (id) =>
      (await api.get(`/api/0/organizations/acme/issues/${id}/`)).firstRelease?.version));
    expect(firstReleases).toContain('web@3.0.0');
    expect(rel.newGroups).toBe(firstReleases.filter((v) => v === 'web@3.0.0').length);
    expect(rel.lastEvent).toBeTruthy();
  });

  it('a corrupt map uploaded as a release file gives a processing error, not a lost event', async () => {
    const dist = await buildBundle('broken');
    await api.request('POST', '/api/0/organizations/acme/releases/', { version: 'web@4.0.0', projects: ['web'] });
    const upload = async (name: string, content: string) => {
      const form = new FormData();
      form.append('file', new Blob([content]), path.basename(name));
      form.append('name', name);
      return fetch(`${server.url}/api/0/projects/acme/web/releases/web@4.0.0/files/`, { method: 'POST', headers: { Authorization: `Bearer ${token}` }, body: form });
    };
    const min = readFileSync(path.join(dist, 'app.min.js'), 'utf8');
    expect((await upload(`~${dist}/app.min.js`, min)).status).toBe(201);
    expect((await upload(`~${dist}/app.min.js`, min)).status).toBe(409);
    expect((await upload(`~${dist}/app.min.js.map`, '{"version":3, "sources": [')).status).toBe(201);
    const files = await api.get('/api/0/projects/acme/web/releases/web@4.0.0/files/');
    expect(files).toHaveLength(2);
    const event = await throwFrom(path.join(dist, 'app.min.js'), 'web@4.0.0');
    expect(event.errors).toEqual(expect.arrayContaining([expect.objectContaining({ type: 'js_invalid_sourcemap' })]));
    expect(exceptionOf(event).stacktrace.frames.at(-1).absPath).toMatch(/app\.min\.js$/);
  });
});

describe('release health', () => {
  it('counts sessions per release into crash-free sessions and users', async () => {
    const u = new URL(dsn);
    const url = `${u.protocol}//${u.host}/api${u.pathname}/envelope/?sentry_key=${u.username}&sentry_version=7`;
    const session = (sid: string, did: string, status: string, init: boolean) =>
      `{}\n{"type":"session"}\n${JSON.stringify({ sid, did, init, status, errors: status === 'crashed' ? 1 : 0, started: new Date().toISOString(), attrs: { release: 'web@1.0.0', environment: 'production' } })}\n`;
    for (const body of [session('s1', 'alice', 'ok', true), session('s1', 'alice', 'exited', false), session('s2', 'bob', 'ok', true), session('s2', 'bob', 'crashed', false)]) {
      expect((await fetch(url, { method: 'POST', body })).status).toBe(200);
    }
    const health = await waitFor(async () => {
      const r = await api.get('/api/0/organizations/acme/releases/web@1.0.0/');
      const h = r.projects[0].healthData;
      return h.totalSessions === 2 && h.sessionsCrashed === 1 ? h : null;
    }, 20_000, 'session counts');
    expect(health).toMatchObject({ crashFreeSessions: 50, totalUsers: 2, crashFreeUsers: 50 });
  });
});
