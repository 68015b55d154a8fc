/**
 * Contract every queue backend passes: durable enqueue, leases, acks, retries with delays, dead
 * letters, no double delivery to concurrent consumers. Server-backed backends run against the real
 * server (FAULTLINE_TEST_REDIS_URL, FAULTLINE_TEST_AMQP_URL), each run under its own key or queue
 * prefix, removed afterwards.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import amqp from 'amqplib';
import { removeDir, sleep, tempDataDir } from '../../../test/helpers/faultline.js';
import { clearRedisPrefix, describeWithServer, uniquePrefix, type ServerVar } from '../../../test/helpers/servers.js';
import type { QueueBackend, QueueTask } from './index.js';
import { RabbitMqQueueBackend } from './backends/rabbitmq.js';
import { RedisStreamsQueueBackend } from './backends/redis-streams.js';
import { SqliteQueueBackend } from './backends/sqlite.js';

interface Place {
  /** Opens the backend on this test's storage; opening again sees what was enqueued before. */
  open(): Promise<QueueBackend>;
  cleanup(): Promise<void>;
}

interface BackendCase {
  env?: ServerVar;
  /**
   * How a lease ends. `timed`: `leaseMs` after the take. `connection`: RabbitMQ has no timed
   * leases; an unacked message comes back when the connection that took it closes (worker died).
   */
  leases: 'timed' | 'connection';
  place(url: string): Place;
}

const MAX_ATTEMPTS = 3;
const QUEUES = ['t', 'a', 'b'];
const DELAY = 300;

const BACKENDS: Record<string, BackendCase> = {
  sqlite: {
    leases: 'timed',
    place: () => {
      const dir = tempDataDir();
      return { open: async () => new SqliteQueueBackend({ dataDir: dir, maxAttempts: MAX_ATTEMPTS }), cleanup: async () => removeDir(dir) };
    },
  },
  'redis-streams': {
    env: 'FAULTLINE_TEST_REDIS_URL',
    leases: 'timed',
    place: (url) => {
      const prefix = uniquePrefix('queue');
      return {
        open: () => RedisStreamsQueueBackend.connect({ url, maxAttempts: MAX_ATTEMPTS, prefix }),
        cleanup: () => clearRedisPrefix(url, prefix),
      };
    },
  },
  rabbitmq: {
    env: 'FAULTLINE_TEST_AMQP_URL',
    leases: 'connection',
    place: (url) => {
      const prefix = uniquePrefix('queue').replaceAll(':', '.');
      return {
        open: () => RabbitMqQueueBackend.connect({ url, maxAttempts: MAX_ATTEMPTS, prefix }),
        cleanup: async () => {
          const conn = await amqp.connect(url);
          const ch = await conn.createChannel();
          for (const q of QUEUES) {
            for (const name of [q, `${q}.dead`, `${q}.delay.${DELAY}`]) await ch.deleteQueue(prefix + name);
          }
          await conn.close();
        },
      };
    },
  },
};

const payloads = (tasks: { payload: Buffer }[]) => tasks.map((t) => t.payload.toString());

/** Takes until something comes (brokers move messages asynchronously), or gives up after 5 s. */
async function takeSoon(q: QueueBackend, queue: string): Promise<QueueTask[]> {
  const until = Date.now() + 5_000;
  for (;;) {
    const got = await q.take(queue, 10, 60_000);
    if (got.length || Date.now() > until) return got;
    await sleep(25);
  }
}

for (const [name, backend] of Object.entries(BACKENDS)) {
  const suite = (body: (url: string) => void) =>
    backend.env ? describeWithServer(`queue contract: ${name}`, backend.env, body) : describe(`queue contract: ${name}`, () => body(''));

  suite((url) => {
    let place: Place;
    let q: QueueBackend;
    const others: QueueBackend[] = [];
    /** A second consumer on the same storage (another worker process). */
    const openOther = async () => {
      const o = await place.open();
      others.push(o);
      return o;
    };
    beforeEach(async () => {
      place = backend.place(url);
      q = await place.open();
    });
    afterEach(async () => {
      for (const o of others.splice(0)) await o.close();
      await q.close();
      await place.cleanup();
    });

    it('delivers in order and deletes on ack', async () => {
      await q.enqueue('t', [Buffer.from('a'), Buffer.from('b'), Buffer.from('c')]);
      const got = await q.take('t', 2, 60_000);
      expect(payloads(got)).toEqual(['a', 'b']);
      expect(got[0].attempts).toBe(1);
      await q.ack(got.map((t) => t.id));
      const rest = await q.take('t', 10, 60_000);
      expect(payloads(rest)).toEqual(['c']);
      await q.ack(rest.map((t) => t.id));
      expect(await q.stats('t')).toEqual({ ready: 0, leased: 0, dead: 0 });
    });

    it('stores a task given in parts as its parts joined, beside whole ones', async () => {
      // Ingest hands over a task's header line and the payload as received, unjoined.
      await Promise.all([
        q.enqueue('t', [[Buffer.from('{"v":2}\n'), Buffer.from('first payload')], Buffer.from('whole')]),
        q.enqueue('t', [[Buffer.from('one part')], [Buffer.from('h\n'), Buffer.alloc(0), Buffer.from('ü — 日本')]]),
      ]);
      const got = await takeSoon(q, 't');
      const all = got.length < 4 ? [...got, ...(await takeSoon(q, 't'))] : got;
      expect(payloads(all)).toEqual(['{"v":2}\nfirst payload', 'whole', 'one part', 'h\nü — 日本']);
      await q.ack(all.map((t) => t.id));
    });

    it('stores every one of many concurrent enqueues once, in the order they were made', async () => {
      // Ingest calls enqueue once per request, many at a time; backends may write them together.
      const sent = Array.from({ length: 200 }, (_, i) => `m${i}`);
      await Promise.all(sent.map((m, i) => q.enqueue(i % 2 ? 'a' : 'b', [Buffer.from(m)])));
      const a = await q.take('a', 500, 60_000);
      const b = await q.take('b', 500, 60_000);
      expect(payloads(a)).toEqual(sent.filter((_, i) => i % 2));
      expect(payloads(b)).toEqual(sent.filter((_, i) => !(i % 2)));
      await q.ack([...a, ...b].map((t) => t.id));
      expect(await q.stats('a')).toEqual({ ready: 0, leased: 0, dead: 0 });
    });

    it('stores requests of several payloads among single ones, each once and in its own order', async () => {
      const singles = Array.from({ length: 20 }, (_, i) => `s${i}`);
      await Promise.all([
        ...singles.map((m) => q.enqueue('mix', [Buffer.from(m)])),
        q.enqueue('mix', [Buffer.from('x1'), Buffer.from('x2'), Buffer.from('x3')]),
        q.enqueue('mix', [Buffer.from('y1'), Buffer.from('y2')]),
      ]);
      const got = payloads(await q.take('mix', 100, 60_000));
      expect([...got].sort()).toEqual([...singles, 'x1', 'x2', 'x3', 'y1', 'y2'].sort());
      expect(got.filter((m) => m.startsWith('x'))).toEqual(['x1', 'x2', 'x3']);
      expect(got.filter((m) => m.startsWith('s'))).toEqual(singles);
    });

    it('does not hand a leased task to a second consumer, and redelivers after the lease', async () => {
      await q.enqueue('t', [Buffer.from('x')]);
      const other = await openOther();
      const first = await q.take('t', 10, 200);
      expect(first).toHaveLength(1);
      expect(await q.take('t', 10, 200)).toHaveLength(0);
      expect(await other.take('t', 10, 200)).toHaveLength(0);
      if (backend.leases === 'timed') {
        await sleep(250);
      } else {
        // The worker that holds the task dies: its connection closes without an ack.
        await q.close();
        q = await place.open();
      }
      const again = await takeSoon(other, 't');
      expect(payloads(again)).toEqual(['x']);
      expect(again[0].attempts).toBe(2);
    });

    it('retries a nacked task, then moves it to the dead letters', async () => {
      await q.enqueue('t', [Buffer.from('poison')]);
      for (let i = 0; i < MAX_ATTEMPTS; i++) {
        const [t] = await q.take('t', 1, 60_000);
        expect(t.payload.toString()).toBe('poison');
        expect(t.attempts).toBe(i + 1);
        await q.nack(t.id, `failure ${i}`, 0);
      }
      expect(await q.take('t', 1, 60_000)).toHaveLength(0);
      expect(await q.stats('t')).toEqual({ ready: 0, leased: 0, dead: 1 });
    });

    it('holds a nacked task back for its delay', async () => {
      await q.enqueue('t', [Buffer.from('later')]);
      const [t] = await q.take('t', 1, 60_000);
      const nackedAt = Date.now();
      await q.nack(t.id, 'try again', DELAY);
      expect(await q.take('t', 1, 60_000)).toHaveLength(0);
      expect(await q.stats('t')).toEqual({ ready: 0, leased: 1, dead: 0 });
      const again = await takeSoon(q, 't');
      expect(Date.now() - nackedAt).toBeGreaterThanOrEqual(DELAY - 20);
      expect(payloads(again)).toEqual(['later']);
      expect(again[0].attempts).toBe(2);
    });

    it('keeps queues apart and survives reopening', async () => {
      await q.enqueue('a', [Buffer.from('1')]);
      await q.enqueue('b', [Buffer.from('2')]);
      await q.close();
      q = await place.open();
      expect(payloads(await q.take('b', 10, 1000))).toEqual(['2']);
      expect(payloads(await q.take('a', 10, 1000))).toEqual(['1']);
    });

    it('gives each task to exactly one of several concurrent consumers', async () => {
      const all = Array.from({ length: 120 }, (_, i) => `task-${i}`);
      await q.enqueue('t', all.map((p) => Buffer.from(p)));
      const consumers = [q, await openOther(), await openOther()];
      const seen: string[] = [];
      await Promise.all(
        consumers.map(async (c) => {
          for (let idle = 0; idle < 3; ) {
            const got = await c.take('t', 7, 60_000);
            idle = got.length ? 0 : idle + 1;
            seen.push(...payloads(got));
            await c.ack(got.map((t) => t.id));
          }
        }),
      );
      expect(seen.sort()).toEqual([...all].sort());
      expect(await q.stats('t')).toEqual({ ready: 0, leased: 0, dead: 0 });
    });
  });
}
