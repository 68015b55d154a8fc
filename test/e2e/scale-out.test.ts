/**
 * The scale-out layout for real: 2 ingest + 2 worker + 1 web + 1 scheduler processes sharing
 * PostgreSQL (metadata, bodies) and Redis (queue as Redis Streams, buffer, tsdb, cache). A few
 * thousand events go in with concurrency; one worker is killed with SIGKILL mid-stream. Every
 * count must come out exact: events per issue, users per issue, tag values, nothing lost and
 * nothing counted twice (at-least-once delivery, idempotent saves, deduplicated counters), and each
 * issue shows its latest event's title.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWithServer } from '../helpers/servers.js';
import { sqlDialects, type TestDatabase } from '../helpers/databases.js';
import { apiClient, cli, removeDir, sleep, startFaultline, tempDataDir, waitFor, type RunningServer } from '../helpers/faultline.js';

const REDIS_DB = 7; // a database of its own, flushed by this suite only

/** Queues the RabbitMQ layout uses, emptied first so an earlier run's leftovers do not count. */
async function purgeRabbit(url: string): Promise<void> {
  const amqp = await import('amqplib');
  const conn = await amqp.connect(url);
  for (const q of ['ingest', 'post-process', 'notify', 'delegator']) {
    const ch = await conn.createChannel();
    ch.on('error', () => {});
    await ch.purgeQueue(q).catch(() => {});
    await ch.close().catch(() => {});
  }
  await conn.close();
}

const LAYOUTS = [
  { name: 'PostgreSQL + Redis (Redis Streams queue)', db: 'postgres', dbVar: 'FAULTLINE_TEST_POSTGRES_URL', queue: 'redis', events: 3000 },
  { name: 'MySQL/MariaDB + Redis + RabbitMQ queue', db: 'mysql', dbVar: 'FAULTLINE_TEST_MYSQL_URL', queue: 'amqp', events: 1200 },
] as const;

for (const layout of LAYOUTS)
describeWithServer('scale-out', 'FAULTLINE_TEST_REDIS_URL', (redisBase) =>
describeWithServer(`on ${layout.name}`, layout.dbVar, () =>
describeWithServer('with its queue', layout.queue === 'amqp' ? 'FAULTLINE_TEST_AMQP_URL' : 'FAULTLINE_TEST_REDIS_URL', (queueBase) => {
  const makePg = sqlDialects()[layout.db];
  let pg: TestDatabase;
  let dataDir: string;
  let env: Record<string, string>;
  const procs: RunningServer[] = [];

  beforeAll(async () => {
    pg = await makePg!();
    const redisUrl = `${redisBase.replace(/\/\d*$/, '')}/${REDIS_DB}`;
    const r = new Redis(redisUrl);
    await r.flushdb();
    r.disconnect();
    dataDir = tempDataDir();
    if (layout.queue === 'amqp') await purgeRabbit(queueBase);
    env = {
      FAULTLINE_DATABASE_URL: pg.url!,
      FAULTLINE_QUEUE_URL: layout.queue === 'amqp' ? queueBase : redisUrl,
      FAULTLINE_REDIS_URL: redisUrl,
      FAULTLINE_QUEUE_LEASE_MS: '3000',
      FAULTLINE_WORKER_BATCH_SIZE: '50',
    };
  }, 120_000);

  afterAll(async () => {
    for (const p of procs) await p.stop('SIGKILL');
    await pg?.drop();
    if (dataDir) removeDir(dataDir);
  });

  it('counts every event exactly across processes, even when a worker dies mid-batch', async () => {
    const web = await startFaultline({ dataDir, env, command: 'web' });
    procs.push(web);
    const ingestA = await startFaultline({ dataDir, env, command: 'ingest' });
    const ingestB = await startFaultline({ dataDir, env, command: 'ingest' });
    const workerA = await startFaultline({ dataDir, env, command: 'worker', http: false });
    const workerB = await startFaultline({ dataDir, env, command: 'worker', http: false });
    const scheduler = await startFaultline({ dataDir, env, command: 'scheduler', http: false });
    procs.push(ingestA, ingestB, workerA, workerB, scheduler);

    const project = JSON.parse(cli(dataDir, ['project', 'create', 'scale/app', '--json'], env));
    const key = new URL(project.dsn).username;
    const token = JSON.parse(cli(dataDir, ['token', 'create', '--org', 'scale', '--json'], env)).token;
    const api = apiClient(web.url, token);

    const ISSUES = 12;
    const USERS = 40;
    const N = layout.events;
    const expected = new Map<string, { count: number; users: Set<string>; shards: Map<string, number> }>();
    const events: string[] = [];
    /** Each issue's latest event (timestamps rise with i): its title is the issue's. */
    const latestTitle = new Map<string, string>();
    const base = Math.floor(Date.now() / 1000) - N;
    for (let i = 0; i < N; i++) {
      const type = `ScaleError${String.fromCharCode(65 + (i % ISSUES))}`;
      const user = `u${(i * 7) % USERS}`;
      const shard = `s${i % 5}`;
      const e = expected.get(type) ?? { count: 0, users: new Set(), shards: new Map() };
      e.count++;
      e.users.add(user);
      e.shards.set(shard, (e.shards.get(shard) ?? 0) + 1);
      expected.set(type, e);
      const id = i.toString(16).padStart(32, '0');
      latestTitle.set(type, `${type}: failure number ${i}`);
      events.push(
        `{"event_id":"${id}"}\n{"type":"event"}\n` +
          JSON.stringify({ event_id: id, timestamp: base + i, platform: 'node', exception: { values: [{ type, value: `failure number ${i}` }] }, user: { id: user }, tags: { shard } }) +
          '\n',
      );
    }

    let sent = 0;
    let killed = false;
    const ingests = [ingestA, ingestB];
    const send = async () => {
      while (sent < N) {
        const i = sent++;
        const target = ingests[i % 2];
        const r = await fetch(`${target.url}/api/${project.id}/envelope/?sentry_key=${key}`, { method: 'POST', body: events[i] });
        expect(r.status).toBe(200);
        if (!killed && i > N / 3) {
          killed = true;
          await workerA.stop('SIGKILL');
        }
      }
    };
    await Promise.all(Array.from({ length: 16 }, send));
    // The killed worker comes back, as a supervisor would restart it.
    const workerC = await startFaultline({ dataDir, env, command: 'worker', http: false });
    procs.push(workerC);

    const issues = await waitFor(async () => {
      const list = (await api.get(`/api/0/projects/scale/app/issues/?query=&limit=100`)) as any[];
      const total = list.reduce((n, i) => n + Number(i.count), 0);
      return list.length === ISSUES && total === N ? list : null;
    }, 120_000, `all ${N} events counted`);
    await sleep(2000); // a late duplicate would show up here
    const again = (await api.get(`/api/0/projects/scale/app/issues/?query=&limit=100`)) as any[];
    expect(again.reduce((n, i) => n + Number(i.count), 0)).toBe(N);
    for (const issue of issues) {
      const want = expected.get(issue.metadata.type)!;
      const fresh = again.find((i) => i.id === issue.id);
      expect(fresh.count, issue.metadata.type).toBe(String(want.count));
      expect(fresh.userCount, issue.metadata.type).toBe(want.users.size);
      // Every worker's batches brought new titles; the issue shows its latest event's.
      expect(fresh.title).toBe(latestTitle.get(issue.metadata.type));
      const shards = (await api.get(`/api/0/issues/${issue.id}/tags/shard/values/`)) as any[];
      expect(Object.fromEntries(shards.map((v) => [v.value, v.count]))).toEqual(Object.fromEntries(want.shards));
      const evs = (await api.get(`/api/0/issues/${issue.id}/events/?limit=100`)) as any[];
      expect(evs.length).toBe(Math.min(100, want.count));
    }
    const stats = (await api.get(`/api/0/projects/scale/app/issues/?query=&limit=100&statsPeriod=24h`)) as any[];
    const charted = stats.reduce((n, i) => n + i.stats['24h'].reduce((m: number, [, c]: [number, number]) => m + c, 0), 0);
    expect(charted).toBe(N);
    // Usage stats count each saved event once too (the project series, here in Redis).
    const usage = (await api.get('/api/0/organizations/scale/stats_v2/?field=sum(quantity)&statsPeriod=24h&interval=1h&category=error&outcome=accepted')) as any;
    expect(usage.groups[0].totals['sum(quantity)']).toBe(N);
  }, 300_000);
})));
