/**
 * Contract every quotas backend passes: fixed windows, all-or-nothing checks, categories and scopes
 * counted apart, the longest Retry-After reported, and no overshoot under concurrent checks (several
 * instances = several ingest processes). A fake clock drives the windows.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clearRedisPrefix, describeWithServer, uniquePrefix, type ServerVar } from '../../../test/helpers/servers.js';
import { closeRedis, connectRedis, type Redis } from '../redis.js';
import type { QuotaLimit, QuotasBackend } from './index.js';
import { MemoryQuotasBackend } from './backends/memory.js';
import { RedisQuotasBackend } from './backends/redis.js';

interface BackendCase {
  env?: ServerVar;
  /** Whether instances share counters (several processes on one store). */
  shared: boolean;
  open(url: string): Promise<{ make(now: () => number): Promise<QuotasBackend>; close(): Promise<void> }>;
}

const BACKENDS: Record<string, BackendCase> = {
  memory: { shared: false, open: async () => ({ make: async (now) => new MemoryQuotasBackend({ now }), close: async () => {} }) },
  redis: {
    env: 'FAULTLINE_TEST_REDIS_URL',
    shared: true,
    open: async (url) => {
      const prefix = uniquePrefix('quotas');
      const clients: Redis[] = [];
      return {
        make: async (now) => {
          const redis = await connectRedis(url);
          clients.push(redis);
          return new RedisQuotasBackend(redis, { prefix, now });
        },
        close: async () => {
          for (const c of clients) await closeRedis(c);
          await clearRedisPrefix(url, prefix);
        },
      };
    },
  },
};

const limit = (fields: Partial<QuotaLimit> & Pick<QuotaLimit, 'id'>): QuotaLimit => ({
  scope: 'project',
  categories: [],
  limit: 10,
  window: 60,
  reasonCode: 'project_quota',
  ...fields,
});

// 20 s into a minute (and into an hour), so the windows' ends are known.
const T0 = 472_222 * 3_600_000 + 20_000;
let nextScope = 1;

for (const [name, backend] of Object.entries(BACKENDS)) {
  const suite = (body: (url: string) => void) =>
    backend.env ? describeWithServer(`quotas contract: ${name}`, backend.env, body) : describe(`quotas contract: ${name}`, () => body(''));

  suite((url) => {
    let h: Awaited<ReturnType<BackendCase['open']>>;
    let clock: number;
    let q: QuotasBackend;
    // Every test sends as a fresh organization/project/key, so counters never carry over.
    const sender = () => {
      const n = nextScope++;
      return { organizationId: 1000 + n, projectId: 2000 + n, keyId: 3000 + n };
    };
    beforeAll(async () => {
      h = await backend.open(url);
      q = await h.make(() => clock);
    });
    afterAll(async () => h?.close());

    it('accepts up to the limit, then rejects until the window ends', async () => {
      clock = T0;
      const s = sender();
      const limits = [limit({ id: 'p' })];
      expect(await q.check(s, 'error', 6, limits)).toEqual({ limited: false });
      expect(await q.check(s, 'error', 4, limits)).toEqual({ limited: false });
      expect(await q.check(s, 'error', 1, limits)).toEqual({ limited: true, retryAfter: 40, scope: 'project', reasonCode: 'project_quota' });
      clock = T0 + 39_500;
      expect(await q.check(s, 'error', 1, limits)).toMatchObject({ limited: true, retryAfter: 1 });
      clock = T0 + 40_000;
      expect(await q.check(s, 'error', 10, limits)).toEqual({ limited: false });
    });

    it('counts nothing for a rejected check, on any limit', async () => {
      clock = T0;
      const s = sender();
      const limits = [limit({ id: 'small', limit: 5 }), limit({ id: 'big', scope: 'organization', limit: 100, window: 3600, reasonCode: 'org_quota' })];
      expect(await q.check(s, 'error', 6, limits)).toMatchObject({ limited: true, reasonCode: 'project_quota' });
      expect(await q.check(s, 'error', 5, limits)).toEqual({ limited: false });
      // The organization limit saw 5, not 11: 95 more fit once the project window turns over.
      clock = T0 + 60_000;
      for (let i = 0; i < 19; i++) expect(await q.check(s, 'error', 5, [limits[1]])).toEqual({ limited: false });
      expect(await q.check(s, 'error', 1, limits)).toEqual({ limited: true, retryAfter: 3600 - 80, scope: 'organization', reasonCode: 'org_quota' });
    });

    it('reports the limit with the longest wait when several reject', async () => {
      clock = T0;
      const s = sender();
      const limits = [limit({ id: 'min', scope: 'key', limit: 0, reasonCode: 'key_quota' }), limit({ id: 'hour', limit: 0, window: 3600 })];
      expect(await q.check(s, 'error', 1, limits)).toEqual({ limited: true, retryAfter: 3600 - 20, scope: 'project', reasonCode: 'project_quota' });
    });

    it('counts categories and scopes apart', async () => {
      clock = T0;
      const a = sender();
      const b = { ...sender(), organizationId: a.organizationId };
      const limits = [
        limit({ id: 'errors', categories: ['error', 'default'], limit: 3 }),
        limit({ id: 'keys', scope: 'key', categories: ['transaction'], limit: 2, reasonCode: 'key_quota' }),
      ];
      expect(await q.check(a, 'error', 2, limits)).toEqual({ limited: false });
      expect(await q.check(a, 'default', 1, limits)).toEqual({ limited: false });
      expect(await q.check(a, 'error', 1, limits)).toMatchObject({ limited: true, reasonCode: 'project_quota' });
      expect(await q.check(a, 'transaction', 2, limits)).toEqual({ limited: false });
      expect(await q.check(a, 'transaction', 1, limits)).toMatchObject({ limited: true, scope: 'key' });
      expect(await q.check(a, 'session', 1000, limits)).toEqual({ limited: false });
      // Another project and key of the same organization has its own counters.
      expect(await q.check(b, 'error', 3, limits)).toEqual({ limited: false });
      expect(await q.check(b, 'transaction', 2, limits)).toEqual({ limited: false });
    });

    it('never lets concurrent checks overshoot a limit', async () => {
      clock = T0;
      const s = sender();
      const limits = [limit({ id: 'race', limit: 25 })];
      const instances = backend.shared ? [q, await h.make(() => clock), await h.make(() => clock)] : [q];
      const results = await Promise.all(Array.from({ length: 60 }, (_, i) => instances[i % instances.length].check(s, 'error', 1, limits)));
      expect(results.filter((r) => !r.limited)).toHaveLength(25);
    });
  });
}
