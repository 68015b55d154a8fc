/**
 * A nodestore migration under live ingest, through the real binary: events stored in SQL, then a
 * restart with FAULTLINE_NODESTORE_SECONDARY=filesystem (dual-write through the delegator), events
 * flowing while `faultline nodestore migrate --from sql --to filesystem` copies and verifies, zero
 * differences at the end, the calls visible in the delegator report, and the read switch through
 * the admin API.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiClient, BIN, cli, createProject, removeDir, startFaultline, tempDataDir, waitFor, type RunningServer } from '../helpers/faultline.js';

let dataDir: string;
let server: RunningServer;
let project: { id: string; dsn: string };

async function sendEvent(n: number): Promise<void> {
  const key = new URL(project.dsn).username;
  const r = await fetch(`${server.url}/api/${project.id}/store/`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'X-Sentry-Auth': `Sentry sentry_version=7, sentry_key=${key}` },
    body: JSON.stringify({ event_id: randomUUID().replace(/-/g, ''), message: `migration event ${n}`, level: 'error', platform: 'node', extra: { n } }),
  });
  if (!r.ok) throw new Error(`store: ${r.status} ${await r.text()}`);
}

function storedEvents(): number {
  const db = new BetterSqlite3(path.join(dataDir, 'faultline.db'), { readonly: true, timeout: 5_000 });
  try {
    return (db.prepare('SELECT count(*) AS n FROM nodestore_node').get() as { n: number }).n;
  } finally {
    db.close();
  }
}

function runMigrate(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, 'nodestore', 'migrate', ...args], { env: { ...process.env, FAULTLINE_DATA_DIR: dataDir, FAULTLINE_LOG_LEVEL: 'warn' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

beforeAll(async () => {
  dataDir = tempDataDir();
  // Before the migration: bodies only in SQL.
  server = await startFaultline({ dataDir });
  project = createProject(dataDir, 'mig/app');
  for (let i = 0; i < 60; i++) await sendEvent(i);
  await waitFor(async () => storedEvents() >= 60, 20_000, 'first events');
  await server.stop();
  server = await startFaultline({ dataDir, env: { FAULTLINE_NODESTORE_SECONDARY: 'filesystem', FAULTLINE_DELEGATOR_SAMPLE_RATE: '1' } });
});
afterAll(async () => {
  await server?.stop();
  if (dataDir) removeDir(dataDir);
});

describe('nodestore migration under live ingest', () => {
  it('copies, dual-writes and verifies with zero differences, then switches reads', async () => {
    let sent = 60;
    let sending = true;
    const sender = (async () => {
      while (sending) await sendEvent(sent++);
    })();
    const run = await runMigrate(['--from', 'sql', '--to', 'filesystem', '--chunk', '10']);
    sending = false;
    await sender;
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toMatch(/verified \d+: 0 missing, 0 different/);
    expect(run.stderr).toContain('copy 100%');
    expect(sent).toBeGreaterThan(60); // events really flowed during the copy

    // Everything sent since is dual-written: a second pass (checkpoint done, verify only) agrees.
    await waitFor(async () => storedEvents() >= sent, 20_000, 'all events stored');
    const again = await runMigrate(['--from', 'sql', '--to', 'filesystem']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain(`verified ${sent}: 0 missing, 0 different`);

    // Storage settings are for superusers: a token acting for the admin user made on first start.
    const orgAdmin = JSON.parse(cli(dataDir, ['token', 'create', '--org', 'mig', '--scopes', 'org:admin', '--json'])).token;
    expect((await apiClient(server.url, orgAdmin).request('GET', '/api/0/internal/delegator/')).status).toBe(403);
    const token = JSON.parse(cli(dataDir, ['token', 'create', '--org', 'mig', '--user', 'admin@localhost', '--scopes', 'org:admin', 'event:read', 'project:read', '--json'])).token;
    const api = apiClient(server.url, token);
    const report = await waitFor(async () => {
      const r = await api.get('/api/0/internal/delegator/report/?since=1h&bucket=1m');
      return r.methods.some((m: any) => m.method === 'setMulti') ? r : null;
    }, 15_000, 'delegator report');
    const setMulti = report.methods.find((m: any) => m.service === 'nodestore' && m.method === 'setMulti');
    const fsWrites = setMulti.backends.find((b: any) => b.backend === 'filesystem');
    expect(fsWrites).toMatchObject({ role: 'secondary', errors: 0, timeouts: 0 });
    expect(fsWrites.histogram[9]).toBe(fsWrites.calls);
    expect(cli(dataDir, ['delegator', 'report', '--since', '1h'])).toMatch(/nodestore\s+setMulti\s+filesystem\s+secondary/);

    // Switch reads to the filesystem at run time; events are still served.
    const put = await api.request('PUT', '/api/0/internal/delegator/', { service: 'nodestore', primary: 'filesystem' });
    expect(put.status).toBe(200);
    expect(((await put.json()) as any).services.nodestore).toMatchObject({ primary: 'filesystem', secondaries: ['sql'], available: ['sql', 'filesystem'] });
    expect((await api.request('PUT', '/api/0/internal/delegator/', { service: 'nodestore', primary: 's3' })).status).toBe(400);
    const events = await api.get('/api/0/projects/mig/app/events/');
    const detail = await api.get(`/api/0/projects/mig/app/events/${events[0].eventID ?? events[0].id}/`);
    expect(detail.message ?? detail.title).toContain('migration event');
  });
});
