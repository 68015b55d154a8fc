/**
 * Contract every buffer backend passes, against a real SQLite database: counters collapse and land
 * in one flush. Deferred backends (Redis) also: a dedupe key counts once, the events' tag values go
 * with the counters and land before the user count is taken (an issue with many users gets its
 * new ones added instead), a failed flush puts back what it
 * took, and concurrent workers incrementing while a flusher flushes lose nothing and count nothing
 * twice.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sleep } from '../../../test/helpers/faultline.js';
import { clearRedisPrefix, describeWithServer, uniquePrefix, type ServerVar } from '../../../test/helpers/servers.js';
import { makeGroup, makeProject, testServices } from '../../../test/helpers/services.js';
import { closeRedis, connectRedis, type Redis } from '../redis.js';
import type { TagstoreBackend } from '../tagstore/index.js';
import { USERS_RECOUNT_BELOW, type BufferBackend, type GroupCounters } from './index.js';
import { MemoryBufferBackend } from './backends/memory.js';
import { RedisBufferBackend } from './backends/redis.js';

interface BackendCase {
  env?: ServerVar;
  /** Incremented after commit with dedupe keys and flushed by a scheduled task (not `transactional`). */
  deferred: boolean;
  /** Opens a factory of instances (one per worker process); `close` releases what it opened. */
  open(url: string): Promise<{ make(tagstore?: Pick<TagstoreBackend, 'incrMulti'>): Promise<BufferBackend>; close(): Promise<void> }>;
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
        make: async (tagstore) => {
          const redis = await connectRedis(url);
          clients.push(redis);
          return new RedisBufferBackend(redis, { prefix, flushBatch: 3, tagstore });
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

    it('writes what the issue shows from its latest event, unless a later one was written before', async () => {
      const buffer = await h.make();
      const shown = (title: string, level = 'error') => ({ title, culprit: `${title} in app.js`, level, metadata: JSON.stringify({ value: title }) });
      const g = await makeGroup(s, projectId, { first_seen: 5000, last_seen: 5000, title: 'first' });
      await buffer.incr([
        { groupId: g, timesSeen: 1, firstSeen: 7000, lastSeen: 7000, shown: shown('newest', 'fatal') },
        { groupId: g, timesSeen: 1, firstSeen: 6000, lastSeen: 6000, shown: shown('older') },
      ]);
      await buffer.flush(s.database.db);
      let row = await groupRow(g);
      expect([row.title, row.culprit, row.level, JSON.parse(row.metadata)]).toEqual(['newest', 'newest in app.js', 'fatal', { value: 'newest' }]);
      // An event older than the one shown, flushed later, leaves the issue as it is; one as recent takes it.
      await buffer.incr([{ groupId: g, timesSeen: 1, firstSeen: 6500, lastSeen: 6500, shown: shown('late arrival') }]);
      await buffer.flush(s.database.db);
      row = await groupRow(g);
      expect([row.title, Number(row.times_seen), Number(row.last_seen)]).toEqual(['newest', 3, 7000]);
      await buffer.incr([{ groupId: g, timesSeen: 1, firstSeen: 7000, lastSeen: 7000, shown: { ...shown('same moment'), culprit: null } }]);
      await buffer.flush(s.database.db);
      row = await groupRow(g);
      expect([row.title, row.culprit]).toEqual(['same moment', null]);
      // Counters without them (a redelivered event) change nothing the issue shows.
      await buffer.incr([{ groupId: g, timesSeen: 1, firstSeen: 9000, lastSeen: 9000 }]);
      await buffer.flush(s.database.db);
      row = await groupRow(g);
      expect([row.title, Number(row.last_seen)]).toEqual(['same moment', 9000]);
      // Several issues in one flush (one statement for them all).
      const others = [await makeGroup(s, projectId, { first_seen: 5000, last_seen: 5000, title: 'a' }), await makeGroup(s, projectId, { first_seen: 5000, last_seen: 8000, title: 'b' })];
      await buffer.incr(others.map((id) => ({ groupId: id, timesSeen: 1, firstSeen: 6000, lastSeen: 6000, shown: shown(`new ${id}`) })));
      await buffer.flush(s.database.db);
      expect(await Promise.all(others.map(async (id) => (await groupRow(id)).title))).toEqual([`new ${others[0]}`, 'b']);
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

    const tagCounts = async (g: number) =>
      Object.fromEntries(
        (await s.database.db.selectFrom('group_tag_values').select(['key', 'value', 'times_seen', 'first_seen', 'last_seen']).where('group_id', '=', g).execute()).map((r) => [
          `${r.key}=${r.value}`,
          [Number(r.times_seen), Number(r.first_seen), Number(r.last_seen)],
        ]),
      );

    it.runIf(backend.deferred)("carries the events' tag values: once per dedupe key, written before the affected users are counted", async () => {
      const buffer = await h.make(s.tagstore);
      expect(buffer.carriesTagValues).toBe(true);
      const g = await makeGroup(s, projectId, { first_seen: 5000, last_seen: 5000 });
      const event = (n: number, user: string, at: number) => ({
        groupId: g,
        timesSeen: 1,
        firstSeen: at,
        lastSeen: at,
        dedupeKey: `tags-${g}-${n}`,
        tagValues: { projectId, tags: [['user', user], ['level', 'error']] as [string, string][] },
      });
      await buffer.incr([event(1, 'id:a', 6000), event(2, 'id:b', 7000), event(1, 'id:a', 6000)]);
      await buffer.incr([event(3, 'id:a', 5500), event(2, 'id:b', 7000)]);
      expect(await buffer.flush(s.database.db)).toBe(1);
      expect(await tagCounts(g)).toEqual({ 'user=id:a': [2, 5500, 6000], 'user=id:b': [1, 7000, 7000], 'level=error': [3, 5500, 7000] });
      const row = await groupRow(g);
      expect([row.times_seen, row.users_seen]).toEqual([3, 2]);
      // Tag values of an issue deleted (or merged away) before the flush are dropped with its counters.
      const gone = await makeGroup(s, projectId, { first_seen: 5000, last_seen: 5000 });
      await buffer.incr([{ ...event(9, 'id:c', 8000), groupId: gone, dedupeKey: `tags-gone-${gone}` }]);
      await s.database.db.deleteFrom('groups').where('id', '=', gone).execute();
      await buffer.flush(s.database.db);
      expect(await tagCounts(gone)).toEqual({});
    });

    it.runIf(backend.deferred)('adds the new users of an issue with many instead of counting them all again', async () => {
      const buffer = await h.make(s.tagstore);
      // users_seen as a long-lived issue has it, next to two user values in the table: adding keeps
      // the first, counting again would give 2 plus the new ones.
      const g = await makeGroup(s, projectId, { first_seen: 5000, last_seen: 5000, users_seen: USERS_RECOUNT_BELOW + 40 });
      await s.tagstore.incrMulti(['id:a', 'id:b'].map((value) => ({ projectId, groupId: g, key: 'user', value, count: 1, firstSeen: 5000, lastSeen: 5000 })));
      const event = (n: number, user: string) => ({
        groupId: g,
        timesSeen: 1,
        firstSeen: 6000,
        lastSeen: 6000,
        dedupeKey: `many-${g}-${n}`,
        tagValues: { projectId, tags: [['user', user]] as [string, string][] },
      });
      await buffer.incr([event(1, 'id:a'), event(2, 'id:new'), event(3, 'id:new'), event(4, 'id:b'), event(5, 'id:other')]);
      await buffer.flush(s.database.db);
      const row = await groupRow(g);
      expect([row.times_seen, row.users_seen]).toEqual([5, USERS_RECOUNT_BELOW + 42]);
    });

    it.runIf(backend.deferred)('puts back the counters and tag values a flush took when the database fails', async () => {
      // A stand-in tagstore that fails its first write, as a database outage would.
      let failures = 1;
      const flaky = { incrMulti: async (...args: Parameters<TagstoreBackend['incrMulti']>) => (failures-- > 0 ? Promise.reject(new Error('database away')) : s.tagstore.incrMulti(...args)) };
      const buffer = await h.make(flaky);
      const g = await makeGroup(s, projectId, { first_seen: 5000, last_seen: 5000 });
      await buffer.incr([{ groupId: g, timesSeen: 1, firstSeen: 6000, lastSeen: 6000, dedupeKey: `flaky-${g}`, tagValues: { projectId, tags: [['user', 'id:z']] } }]);
      await expect(buffer.flush(s.database.db)).rejects.toThrow(/database away/);
      expect((await groupRow(g)).times_seen).toBe(0);
      await buffer.flush(s.database.db);
      expect(await tagCounts(g)).toEqual({ 'user=id:z': [1, 6000, 6000] });
      expect([(await groupRow(g)).times_seen, (await groupRow(g)).users_seen]).toEqual([1, 1]);
    });

    it.runIf(backend.deferred)('loses and doubles nothing while workers increment during flushes', async () => {
      const groups = await Promise.all(Array.from({ length: 5 }, () => makeGroup(s, projectId, { first_seen: 1e12, last_seen: 0 })));
      const workers = await Promise.all(Array.from({ length: 4 }, () => h.make(s.tagstore)));
      const flusher = await h.make(s.tagstore);
      const expected = new Map<number, { n: number; first: number; last: number; shards: Map<string, number> }>(groups.map((g) => [g, { n: 0, first: 1e12, last: 0, shards: new Map() }]));
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
                  const shard = `s${(i + j) % 3}`;
                  e.shards.set(shard, (e.shards.get(shard) ?? 0) + 1);
                  return { groupId, timesSeen: 1, firstSeen: at, lastSeen: at, dedupeKey: `w${w}-${i}-${j}`, tagValues: { projectId, tags: [['shard', shard]] as [string, string][] } };
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
        const shards = Object.fromEntries(Object.entries(await tagCounts(g)).map(([k, [n]]) => [k, n]));
        expect(shards).toEqual(Object.fromEntries([...e.shards].map(([k, n]) => [`shard=${k}`, n])));
      }
    });
  });
}
