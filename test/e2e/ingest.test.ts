/**
 * The ingest edge against the real server: byte-for-byte replays of real client requests, bad
 * input that must get a clear 4xx without hurting anything, and durability across kill -9.
 */
import { gzipSync, constants as zlibConstants } from 'node:zlib';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiClient, cli, createToken, removeDir, startFaultline, waitFor, type RunningServer } from '../helpers/faultline.js';
import { loadCaptures, replay, sendRaw } from '../helpers/replay.js';

// The key every capture in test/fixtures/captures was recorded with (captures/README.md).
const CAPTURE_KEY = '0123456789abcdef0123456789abcdef';

let server: RunningServer;
let token: string;

beforeAll(async () => {
  server = await startFaultline();
  // The first start creates project 1 (`faultline/default`); give it the captures' key.
  const db = new BetterSqlite3(path.join(server.dataDir, 'faultline.db'));
  db.pragma('busy_timeout = 5000');
  db.prepare(
    "INSERT INTO project_keys (project_id, public_key, secret_key, label, is_active, date_created) VALUES (1, ?, 'x', 'captures', 1, ?)",
  ).run(CAPTURE_KEY, Date.now());
  db.close();
  token = createToken(server.dataDir, 'faultline');
});

afterAll(async () => {
  await server?.stop();
  if (server) removeDir(server.dataDir);
});

const SDK_CAPTURES = [
  'node-exception', 'node-exception-large', 'node-message', 'node-transaction', 'node-transaction-static',
  'node-session', 'node-session-http', 'python-exception', 'python-message', 'python-transaction', 'python-session',
  'sentry-cli-send-event',
];

const envelopeUrl = (key = CAPTURE_KEY) => `/api/1/envelope/?sentry_version=7&sentry_key=${key}&sentry_client=test%2F1.0`;

describe('replayed captures', () => {
  it('accepts every recorded SDK request byte for byte and stores every event', async () => {
    const eventIds: string[] = [];
    for (const name of SDK_CAPTURES) {
      for (const c of loadCaptures(name)) {
        if (!/\/api\/\d+\/(envelope|store)\//.test(c.url)) continue;
        const res = await replay(server.port, c);
        expect(res.status, `${name} #${c.seq}: ${res.body}`).toBe(200);
        expect(res.headers['content-type']).toContain('application/json');
        const body = JSON.parse(res.body);
        const text = c.body ?? '';
        if (/"type":"event"/.test(text) || c.url.includes('/store/')) {
          expect(body.id, `${name} #${c.seq}`).toMatch(/^[0-9a-f]{32}$/);
          eventIds.push(body.id);
        }
      }
    }
    expect(eventIds.length).toBeGreaterThanOrEqual(7);
    const api = apiClient(server.url, token);
    for (const id of eventIds) {
      await waitFor(async () => (await api.request('GET', `/api/0/projects/faultline/default/events/${id}/`)).ok, 20_000, `event ${id}`);
    }
    // captureMessage in @sentry/node 11 has an exception without `type`: the title is the message.
    const issues = await api.get('/api/0/projects/faultline/default/issues/?query=');
    expect(issues.some((i: any) => i.title.includes('capture: a warning message') || i.level === 'warning')).toBe(true);
  });

  it('answers CORS preflights the way browser SDKs need', async () => {
    const res = await fetch(`${server.url}/api/1/envelope/`, {
      method: 'OPTIONS',
      headers: { Origin: 'https://app.example.com', 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'content-type' },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
    expect(res.headers.get('access-control-allow-headers')).toContain('x-sentry-auth');
    expect(res.headers.get('access-control-expose-headers')).toContain('x-sentry-rate-limits');
  });
});

describe('bad input', () => {
  const event = (msg: string) => JSON.stringify({ message: msg });
  const post = (url: string, body: Buffer | string, headers: Record<string, string> = {}) =>
    fetch(`${server.url}${url}`, { method: 'POST', body, headers });

  it('rejects a malformed envelope with 400 and a reason', async () => {
    const res = await post(envelopeUrl(), '{"event_id":"9ec79c33ec9942ab8353589fcb2e04dc"}\n{"type":"event","length":500}\n{"message":"short"}\n');
    expect(res.status).toBe(400);
    expect(((await res.json()) as any).detail).toBe('invalid event envelope');
    expect(res.headers.get('x-sentry-error')).toBeTruthy();
  });

  it('rejects invalid JSON in an event item and on /store/ with 400', async () => {
    const env = await post(envelopeUrl(), '{}\n{"type":"event"}\n{"message": oops}\n');
    expect(env.status).toBe(400);
    const store = await post(`/api/1/store/?sentry_key=${CAPTURE_KEY}`, '{"message": ', { 'Content-Type': 'application/json' });
    expect(store.status).toBe(400);
  });

  it('rejects an empty body with 400', async () => {
    const res = await post(envelopeUrl(), '');
    expect(res.status).toBe(400);
    expect(((await res.json()) as any).detail).toBe('empty request body');
  });

  it('rejects unknown and missing keys with 401, and a key of another project with 403', async () => {
    expect((await post(envelopeUrl('ffffffffffffffffffffffffffffffff'), `{}\n{"type":"event"}\n${event('x')}\n`)).status).toBe(401);
    expect((await post('/api/1/envelope/', `{}\n{"type":"event"}\n${event('x')}\n`)).status).toBe(401);
    const other = JSON.parse(cli(server.dataDir, ['project', 'create', 'other/thing', '--json']));
    const otherKey = new URL(other.dsn).username;
    expect((await post(envelopeUrl(otherKey), `{}\n{"type":"event"}\n${event('x')}\n`)).status).toBe(403);
  });

  it('rejects an event over 1 MiB with 413', async () => {
    const big = event('x'.repeat(1024 * 1024 + 10));
    const res = await post(envelopeUrl(), `{}\n{"type":"event"}\n${big}\n`);
    expect(res.status).toBe(413);
  });

  it('stops a gzip bomb at the limit with 413, cheaply', async () => {
    // 300 MiB of zeros compress to about 300 KiB; the envelope limit is 200 MiB.
    const bomb = gzipSync(Buffer.alloc(300 * 1024 * 1024), { level: zlibConstants.Z_BEST_COMPRESSION });
    expect(bomb.length).toBeLessThan(1024 * 1024);
    const res = await post(envelopeUrl(), bomb, { 'Content-Encoding': 'gzip' });
    expect(res.status).toBe(413);
    const health = await fetch(`${server.url}/_health/`);
    expect(health.status).toBe(200);
  });

  it('rejects corrupt compressed data with 400', async () => {
    const res = await post(envelopeUrl(), Buffer.from('definitely not gzip'), { 'Content-Encoding': 'gzip' });
    expect(res.status).toBe(400);
  });

  it('skips unknown item types instead of rejecting the envelope', async () => {
    const id = 'a'.repeat(32);
    const res = await post(envelopeUrl(), `{"event_id":"${id}"}\n{"type":"future_thing"}\n{"x":1}\n{"type":"event"}\n${event('with a future item')}\n`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ id });
  });

  it('accepts the tunnel form: no query auth, the DSN in the envelope header', async () => {
    const id = 'b'.repeat(32);
    const dsn = `http://${CAPTURE_KEY}@127.0.0.1:${server.port}/1`;
    const res = await sendRaw(server.port, 'POST', '/api/1/envelope/', [], Buffer.from(`{"event_id":"${id}","dsn":"${dsn}"}\n{"type":"event"}\n${event('tunnelled')}\n`));
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toEqual({ id });
  });
});

describe('durability', () => {
  it('processes every event that got a 200 even when the server is killed with SIGKILL', { timeout: 180_000 }, async () => {
    const dataDir = server.dataDir;
    const ids: string[] = [];
    const sends: Promise<void>[] = [];
    for (let i = 0; i < 300; i++) {
      const id = (i.toString(16).padStart(4, '0') + 'c'.repeat(28)).slice(0, 32);
      sends.push(
        fetch(`${server.url}${envelopeUrl()}`, { method: 'POST', body: `{"event_id":"${id}"}\n{"type":"event"}\n{"message":"durable ${i}"}\n` }).then(
          async (r) => {
            if (r.status === 200) ids.push(((await r.json()) as any).id);
          },
        ),
      );
    }
    await Promise.all(sends);
    expect(ids).toHaveLength(300);
    await server.stop('SIGKILL');
    server = await startFaultline({ dataDir });
    const api = apiClient(server.url, token);
    const db = new BetterSqlite3(path.join(dataDir, 'faultline.db'), { readonly: true });
    try {
      await waitFor(async () => {
        const n = db.prepare(`SELECT COUNT(*) AS n FROM events WHERE project_id = 1 AND event_id IN (${ids.map(() => '?').join(',')})`).get(...ids) as { n: number };
        return n.n === ids.length;
      }, 90_000, 'all accepted events to be processed');
    } finally {
      db.close();
    }
    const sample = await api.get(`/api/0/projects/faultline/default/events/${ids[123]}/`);
    expect(sample.message).toMatch(/^durable \d+$/);
  });
});

describe('several worker threads', () => {
  it('save every event exactly once when two threads write the same SQLite file, the second at the lowest priority (FAULTLINE_WORKER_THREADS=2)', { timeout: 120_000 }, async () => {
    const two = await startFaultline({ env: { FAULTLINE_WORKER_THREADS: '2', FAULTLINE_WORKER_BATCH_SIZE: '20' } });
    try {
      const project = JSON.parse(cli(two.dataDir, ['project', 'create', 'threads/app', '--json'])) as { id: string; dsn: string };
      const key = new URL(project.dsn).username;
      const words = ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot', 'golf', 'hotel'];
      const statuses = await Promise.all(
        Array.from({ length: 400 }, (_, i) =>
          fetch(`${two.url}/api/${project.id}/envelope/?sentry_key=${key}`, {
            method: 'POST',
            body: `{}\n{"type":"event"}\n${JSON.stringify({ message: `threads ${words[i % words.length]}`, tags: { n: String(i) } })}\n`,
          }).then((r) => r.status),
        ),
      );
      expect(statuses.every((s) => s === 200)).toBe(true);
      // The second worker thread, and only it, runs at the lowest priority: it takes spare CPU
      // without starving ingest (on Linux each thread has its own nice value, /proc field 19).
      const nice = (tid: string) => Number(readFileSync(`/proc/${two.child.pid}/task/${tid}/stat`, 'utf8').split(') ')[1].split(' ')[16]);
      const threads = readdirSync(`/proc/${two.child.pid}/task`);
      expect(nice(String(two.child.pid))).toBe(0);
      expect(threads.filter((tid) => nice(tid) === 19)).toHaveLength(1);
      const db = new BetterSqlite3(path.join(two.dataDir, 'faultline.db'), { readonly: true });
      try {
        const pid = Number(project.id);
        await waitFor(async () => (db.prepare('SELECT COUNT(*) AS n FROM events WHERE project_id = ?').get(pid) as { n: number }).n === 400, 60_000, 'all events saved');
        const groups = db.prepare('SELECT title FROM groups WHERE project_id = ? ORDER BY title').all(pid) as { title: string }[];
        expect(groups.map((g) => g.title)).toEqual(words.map((w) => `threads ${w}`));
        await waitFor(async () => (db.prepare('SELECT SUM(times_seen) AS n FROM groups WHERE project_id = ?').get(pid) as { n: number }).n === 400, 30_000, 'counts to settle');
      } finally {
        db.close();
      }
      // No batch fell back to one-by-one saving: the threads wait for the write lock (BEGIN
      // IMMEDIATE) instead of failing on a snapshot another thread has moved past.
      expect(two.output()).not.toMatch(/batch save failed|SQLITE_BUSY/);
      const queue = new BetterSqlite3(path.join(two.dataDir, 'queue.db'), { readonly: true });
      try {
        expect((queue.prepare('SELECT COUNT(*) AS n FROM dead_letters').get() as { n: number }).n).toBe(0);
      } finally {
        queue.close();
      }
    } finally {
      await two.stop();
      removeDir(two.dataDir);
    }
  });
});
