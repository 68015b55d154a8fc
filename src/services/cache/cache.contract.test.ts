/**
 * Contract every cache backend passes: set/get/delete, `null` as a value, TTLs, and (for shared
 * backends) one process seeing another's writes. Redis runs against FAULTLINE_TEST_REDIS_URL, with
 * and without its in-process LRU.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sleep } from '../../../test/helpers/faultline.js';
import { clearRedisPrefix, describeWithServer, uniquePrefix, type ServerVar } from '../../../test/helpers/servers.js';
import { closeRedis, connectRedis, type Redis } from '../redis.js';
import type { CacheBackend } from './index.js';
import { MemoryCacheBackend } from './backends/memory.js';
import { RedisCacheBackend } from './backends/redis.js';

interface BackendCase {
  env?: ServerVar;
  /** Whether two instances (two processes) share their contents. */
  shared: boolean;
  /** Opens a factory of instances; `close` releases what it opened. */
  open(url: string): Promise<{ make(): Promise<CacheBackend>; close(): Promise<void> }>;
}

function redisCase(localTtlMs: number): BackendCase {
  return {
    env: 'FAULTLINE_TEST_REDIS_URL',
    shared: true,
    open: async (url) => {
      const prefix = uniquePrefix('cache');
      const clients: Redis[] = [];
      return {
        make: async () => {
          const redis = await connectRedis(url);
          clients.push(redis);
          return new RedisCacheBackend(redis, { prefix, localTtlMs });
        },
        close: async () => {
          for (const c of clients) await closeRedis(c);
          await clearRedisPrefix(url, prefix);
        },
      };
    },
  };
}

const BACKENDS: Record<string, BackendCase> = {
  memory: { shared: false, open: async () => ({ make: async () => new MemoryCacheBackend(), close: async () => {} }) },
  redis: redisCase(2_000),
  'redis (no local LRU)': redisCase(0),
};

for (const [name, backend] of Object.entries(BACKENDS)) {
  const suite = (body: (url: string) => void) =>
    backend.env ? describeWithServer(`cache contract: ${name}`, backend.env, body) : describe(`cache contract: ${name}`, () => body(''));

  suite((url) => {
    let h: Awaited<ReturnType<BackendCase['open']>>;
    beforeAll(async () => {
      h = await backend.open(url);
    });
    afterAll(async () => h.close());

    it('returns what was set until deleted, null included', async () => {
      const c = await h.make();
      await c.set('k', { v: 1, nested: { list: [1, 'two'] } });
      expect(await c.get('k')).toEqual({ v: 1, nested: { list: [1, 'two'] } });
      await c.set('null', null);
      expect(await c.get('null')).toBeNull();
      await c.delete('k');
      expect(await c.get('k')).toBeUndefined();
      expect(await c.get('never-set')).toBeUndefined();
    });

    it('forgets a value after its TTL', async () => {
      const c = await h.make();
      await c.set('short', 'v', 100);
      expect(await c.get('short')).toBe('v');
      await sleep(200);
      expect(await c.get('short')).toBeUndefined();
    });

    it.runIf(backend.shared)('shares values and deletions between processes', async () => {
      const a = await h.make();
      const b = await h.make();
      await a.set('shared', { n: 1 });
      expect(await b.get('shared')).toEqual({ n: 1 });
      await b.delete('shared');
      expect(await b.get('shared')).toBeUndefined();
    });
  });
}
