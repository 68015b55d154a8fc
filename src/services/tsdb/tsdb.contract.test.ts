/**
 * Contract every tsdb backend passes: counts per bucket for both rollups, every bucket of the range
 * present (zeros filled), models and keys kept apart. SQL runs on every dialect whose server is set
 * (test/helpers/databases.ts); Redis against FAULTLINE_TEST_REDIS_URL, also checking its expiry.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clearRedisPrefix, describeWithServer, uniquePrefix, type ServerVar } from '../../../test/helpers/servers.js';
import { sqlDialects } from '../../../test/helpers/databases.js';
import { testServices } from '../../../test/helpers/services.js';
import { closeRedis, connectRedis, type Redis } from '../redis.js';
import type { TsdbBackend } from './index.js';
import { RedisTsdbBackend } from './backends/redis.js';

interface Opened {
  tsdb: TsdbBackend;
  /** Seconds until the stored bucket of this rollup expires, for backends that expire data. */
  ttl?: (model: string, rollup: number, bucketSeconds: number) => Promise<number>;
  close(): Promise<void>;
}

const BACKENDS: Record<string, { env?: ServerVar; open(url: string): Promise<Opened> }> = {
  // The SQL backend on every dialect (PostgreSQL and MySQL when their URLs are set).
  ...Object.fromEntries(
    Object.entries(sqlDialects()).map(([dialect, makeDb]) => [
      `sql (${dialect})`,
      {
        open: async () => {
          const db = await makeDb();
          const s = await testServices(db.url);
          return {
            tsdb: s.tsdb,
            close: async () => {
              await s.cleanup();
              await db.drop();
            },
          };
        },
      },
    ]),
  ),
  redis: {
    env: 'FAULTLINE_TEST_REDIS_URL',
    open: async (url) => {
      const prefix = uniquePrefix('tsdb');
      const redis: Redis = await connectRedis(url);
      return {
        tsdb: new RedisTsdbBackend(redis, { prefix }),
        ttl: (model, rollup, bucket) => redis.ttl(`${prefix}tsdb:${model}:${rollup}:${bucket}`),
        close: async () => {
          await closeRedis(redis);
          await clearRedisPrefix(url, prefix);
        },
      };
    },
  },
};

const HOUR = 3_600_000;
const DAY = 86_400_000;

for (const [name, backend] of Object.entries(BACKENDS)) {
  const suite = (body: (url: string) => void) =>
    backend.env ? describeWithServer(`tsdb contract: ${name}`, backend.env, body) : describe(`tsdb contract: ${name}`, () => body(''));

  suite((url) => {
    let o: Opened;
    beforeAll(async () => {
      o = await backend.open(url);
    });
    afterAll(async () => o?.close());

    it('counts per hourly bucket and fills empty buckets with zeros', async () => {
      const t0 = Math.floor(Date.now() / HOUR) * HOUR - 5 * HOUR;
      await o.tsdb.incrMulti([
        { model: 'group', keyId: 77, timestamp: t0 + 10, count: 1 },
        { model: 'group', keyId: 77, timestamp: t0 + 20, count: 2 },
        { model: 'group', keyId: 77, timestamp: t0 + 2 * HOUR, count: 1 },
        { model: 'group', keyId: 78, timestamp: t0, count: 5 },
      ]);
      const range = await o.tsdb.getRange('group', [77, 79], t0, t0 + 3 * HOUR, 3600);
      expect([...range.keys()]).toEqual([77, 79]);
      expect(range.get(77)).toEqual([[t0 / 1000, 3], [t0 / 1000 + 3600, 0], [t0 / 1000 + 7200, 1], [t0 / 1000 + 10800, 0]]);
      expect(range.get(79)).toEqual([[t0 / 1000, 0], [t0 / 1000 + 3600, 0], [t0 / 1000 + 7200, 0], [t0 / 1000 + 10800, 0]]);
    });

    it('keeps daily buckets, and models and keys apart, across calls', async () => {
      const d0 = Math.floor(Date.now() / DAY) * DAY - 3 * DAY;
      await o.tsdb.incrMulti([{ model: 'project', keyId: 5, timestamp: d0 + HOUR, count: 2 }]);
      await o.tsdb.incrMulti([
        { model: 'project', keyId: 5, timestamp: d0 + 5 * HOUR, count: 3 },
        { model: 'project', keyId: 5, timestamp: d0 + 2 * DAY, count: 1 },
        { model: 'group', keyId: 5, timestamp: d0 + HOUR, count: 100 },
      ]);
      // The range's ends fall inside buckets: the buckets that hold them are included.
      const daily = await o.tsdb.getRange('project', [5], d0 + 12 * HOUR, d0 + 2 * DAY + HOUR, 86400);
      expect(daily.get(5)).toEqual([[d0 / 1000, 5], [d0 / 1000 + 86400, 0], [d0 / 1000 + 2 * 86400, 1]]);
      const hourly = await o.tsdb.getRange('project', [5], d0, d0 + HOUR, 3600);
      expect(hourly.get(5)).toEqual([[d0 / 1000, 0], [d0 / 1000 + 3600, 2]]);
    });

    it('counts points with a dedupe key once when written outside the transaction', async () => {
      const t0 = Math.floor(Date.now() / HOUR) * HOUR - 2 * HOUR;
      const event = (key: string, count = 1) => [
        { model: 'group' as const, keyId: 301, timestamp: t0 + 5, count, dedupeKey: key },
        { model: 'project' as const, keyId: 302, timestamp: t0 + 5, count, dedupeKey: key },
      ];
      await o.tsdb.incrMulti([...event('1:a'), ...event('1:b'), { model: 'group', keyId: 301, timestamp: t0, count: 10 }]);
      // A redelivery of event a (and a new event c): only c is new to a non-transactional backend.
      await o.tsdb.incrMulti([...event('1:a'), ...event('1:c')]);
      const group = await o.tsdb.getRange('group', [301], t0, t0, 3600);
      const project = await o.tsdb.getRange('project', [302], t0, t0, 3600);
      // Transactional backends never see a redelivered event's points: the worker only sends
      // them again to backends outside the transaction, so they simply add.
      const expected = o.tsdb.transactional ? 14 : 13;
      expect(group.get(301)).toEqual([[t0 / 1000, expected]]);
      expect(project.get(302)).toEqual([[t0 / 1000, expected - 10]]);
    });

    it.runIf(name === 'redis')('expires hourly buckets after 30 days and daily ones after a year', async () => {
      const t = Math.floor(Date.now() / DAY) * DAY;
      await o.tsdb.incrMulti([{ model: 'group', keyId: 1, timestamp: t, count: 1 }]);
      const hourly = await o.ttl!('group', 3600, t / 1000);
      const daily = await o.ttl!('group', 86400, t / 1000);
      const now = Date.now() / 1000;
      expect(Math.abs(hourly - (t / 1000 + 3600 + 30 * 86400 - now))).toBeLessThan(5);
      expect(Math.abs(daily - (t / 1000 + 86400 + 365 * 86400 - now))).toBeLessThan(5);
      // Points with a dedupe key go through the script, which sets the same expiry.
      await o.tsdb.incrMulti([{ model: 'project', keyId: 2, timestamp: t, count: 1, dedupeKey: '1:expiry' }]);
      expect(Math.abs((await o.ttl!('project', 3600, t / 1000)) - (t / 1000 + 3600 + 30 * 86400 - now))).toBeLessThan(5);
      expect(Math.abs((await o.ttl!('project', 86400, t / 1000)) - (t / 1000 + 86400 + 365 * 86400 - now))).toBeLessThan(5);
    });
  });
}
