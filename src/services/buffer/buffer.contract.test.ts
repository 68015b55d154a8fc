/**
 * Contract every buffer backend passes, against a real SQLite database: counters collapse and land
 * in one flush. Deferred backends (Redis) also: a dedupe key counts once, and concurrent workers
 * incrementing while a flusher flushes lose nothing and count nothing twice.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sleep } from '../../../test/helpers/faultline.js';
import { clearRedisPrefix, describeWithServer, uniquePrefix, type ServerVar } from '../../../test/helpers/servers.js';
import { makeGroup, makeProject, testServices } from '../../../test/helpers/services.js';
import { closeRedis, connectRedis, type Redis } from '../redis.js';
import type { BufferBackend, GroupCounters } from './index.js';
import { MemoryBufferBackend } from './backends/memory.js';
import { RedisBufferBackend } from './backends/redis.js';

interface BackendCase {
  env?: ServerVar;
  /** Incremented after commit with dedupe keys and flushed by a scheduled task (not `transactional`). */
  deferred: boolean;
  /** Opens a factory of instances (one per worker process); `close` releases what it opened. */
  open(url: string): Promise<{ make(): Promise<BufferBackend>; close(): Promise<void> }>;
}

const BACKENDS: Record<string, BackendCase> = {
  memory: { deferred: false, open: async () => ({ make: async () => new MemoryBufferBackend(), close: async () => {} }) },
  redis: {
    env: 'FAULTLINE_TEST_REDIS_URL',
    deferred: true,
    open: async (url) => {
      const prefix = uniquePrefix('buffer');
      const clients: Redis[] = [];
      return {
        make: async () => {
          const redis = await connectRedis(url);
          clients.push(redis);
          return new RedisBufferBackend(redis, { prefix, flushBatch: 3 });
        },
        close: async () => {
          for (const c of clients) await closeRedis(c);
          await clearRedisPrefix(url, prefix);
        },
      };
    },
  },
};

for (const [name, backend] of Object.entries(BACKENDS)) {
  const suite = (body: (url: string) => void) =>
    backend.env ? describeWithServer(`buffer contract: ${name}`, backend.env, body) : describe(`buffer contract: ${name}`, () => body(''));

  suite((url) => {
    let s: Awaited<ReturnType<typeof testServices>>;
    let h: Awaited<ReturnType<BackendCase['open']>>;
    let projectId: number;
    beforeAll(async () => {
      s = await testServices();
      projectId = (await makeProject(s)).project.id;
      h = await backend.open(url);
    });
    afterAll(async () => {
      await h?.close();
      await s?.cleanup();
    });
    const groupRow = (id: number) => s.database.db.selectFrom('groups').selectAll().where('id', '=', id).executeTakeFirstOrThrow();

    it('collapses increments and writes them in one flush, recounting users from the tagstore', async () => {
      const buffer = await h.make();
      const g = await makeGroup(s, projectId, { first_seen: 5000, last_seen: 5000 });
      const user = (value: string) => ({ projectId, groupId: g, key: 'user', value, count: 1, firstSeen: 1, lastSeen: 1 });
      await s.tagstore.incrMulti([user('id:1'), user('id:2'), user('id:1')]);
      await buffer.incr([
        { groupId: g, timesSeen: 1, firstSeen: 6000, lastSeen: 6000, lastRelease: '1.0' },
        { groupId: g, timesSeen: 2, firstSeen: 4000, lastSeen: 7000, lastRelease: '2.0' },
        { groupId: g, timesSeen: 1, firstSeen: 6500, lastSeen: 6500, lastRelease: '1.5' },
      ]);
      expect(await buffer.flush(s.database.db)).toBe(1);
      const row = await groupRow(g);
      expect([row.times_seen, row.users_seen, row.first_seen, row.last_seen, row.last_release]).toEqual([4, 2, 4000, 7000, '2.0']);
      expect(await buffer.flush(s.database.db)).toBe(0);
    });

    it.runIf(backend.deferred)('counts a dedupe key once, across flushes', async () => {
      const buffer = await h.make();
      const g = await makeGroup(s, projectId, { first_seen: 5000, last_seen: 5000 });
      const event = { groupId: g, timesSeen: 1, firstSeen: 6000, lastSeen: 6000, dedupeKey: `ev-${g}` };
      await buffer.incr([event, event]);
      expect(await buffer.flush(s.database.db)).toBe(1);
      await buffer.incr([event, { ...event, dedupeKey: `ev-${g}-other` }]);
      await buffer.flush(s.database.db);
      expect((await groupRow(g)).times_seen).toBe(2);
    });

    it.runIf(backend.deferred)('loses and doubles nothing while workers increment during flushes', async () => {
      const groups = await Promise.all(Array.from({ length: 5 }, () => makeGroup(s, projectId, { first_seen: 1e12, last_seen: 0 })));
      const workers = await Promise.all(Array.from({ length: 4 }, () => h.make()));
      const flusher = await h.make();
      const expected = new Map<number, { n: number; first: number; last: number }>(groups.map((g) => [g, { n: 0, first: 1e12, last: 0 }]));
      let running = workers.length;
      const work = workers.map(async (buffer, w) => {
        const sent: GroupCounters[][] = [];
        for (let i = 0; i < 150; i++) {
          // Every 7th call is a redelivery of an earlier batch: its dedupe keys were seen.
          const batch =
            i % 7 === 6
              ? sent[Math.floor(Math.random() * sent.length)]
              : Array.from({ length: 1 + (i % 4) }, (_, j) => {
                  const groupId = groups[(w + i + j) % groups.length];
                  const at = 1_000_000 + w * 1000 + i * 10 + j;
                  const e = expected.get(groupId)!;
                  e.n++;
                  e.first = Math.min(e.first, at);
                  e.last = Math.max(e.last, at);
                  return { groupId, timesSeen: 1, firstSeen: at, lastSeen: at, dedupeKey: `w${w}-${i}-${j}` };
                });
          sent.push(batch);
          await buffer.incr(batch);
          if (i % 10 === 0) await sleep(Math.random() * 5);
        }
        running--;
      });
      let flushes = 0;
      const flushing = (async () => {
        while (running > 0) {
          await flusher.flush(s.database.db);
          flushes++;
          await sleep(Math.random() * 3);
        }
      })();
      await Promise.all([...work, flushing]);
      await flusher.flush(s.database.db);
      expect(flushes).toBeGreaterThan(3);
      for (const g of groups) {
        const row = await groupRow(g);
        const e = expected.get(g)!;
        expect([row.times_seen, row.first_seen, row.last_seen]).toEqual([e.n, e.first, e.last]);
      }
    });
  });
}
