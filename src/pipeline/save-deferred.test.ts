/**
 * The save step with a deferred buffer, as the scale-out layout runs it (PostgreSQL + Redis): an
 * issue's counters and what it shows reach its row through the buffer's flush, and a batch whose
 * commit went through but whose buffer increment was lost (Redis away for a moment) is counted
 * when the worker saves its events again, once, title included.
 */
import { Redis } from 'ioredis';
import pino from 'pino';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { loadConfig } from '../config/index.js';
import { createServices, type Services } from '../services/index.js';
import { INGEST_QUEUE } from '../services/queue/ingest-task.js';
import { sqlDialects, type TestDatabase } from '../../test/helpers/databases.js';
import { removeDir, tempDataDir } from '../../test/helpers/faultline.js';
import { describeWithServer } from '../../test/helpers/servers.js';
import { eventTask, makeProject } from '../../test/helpers/services.js';
import { EventWorker } from './worker.js';

const REDIS_DB = 8; // a database of its own, flushed by this suite only

describeWithServer('save step with a deferred buffer', 'FAULTLINE_TEST_REDIS_URL', (redisBase) =>
  describeWithServer('on PostgreSQL + Redis', 'FAULTLINE_TEST_POSTGRES_URL', () => {
    let pg: TestDatabase;
    let dataDir: string;
    let services: Services;

    beforeAll(async () => {
      pg = await sqlDialects().postgres();
      const redisUrl = `${redisBase.replace(/\/\d*$/, '')}/${REDIS_DB}`;
      const redis = new Redis(redisUrl);
      await redis.flushdb();
      redis.disconnect();
      dataDir = tempDataDir();
      services = await createServices(loadConfig({ dataDir, databaseUrl: pg.url, redisUrl }, {}));
    });

    afterAll(async () => {
      await services?.close();
      await pg?.drop();
      if (dataDir) removeDir(dataDir);
    });

    it('counts a batch whose buffer increment was lost after its commit once, and shows its newest event', async () => {
      expect(services.buffer.transactional).toBe(false);
      const { project } = await makeProject(services, 'deferred', 'app');
      const worker = new EventWorker(services, pino({ level: 'silent' }), { batchSize: 10, leaseMs: 60_000 });
      const drain = async () => {
        while ((await worker.runOnce()) > 0);
      };
      const t0 = Date.now() / 1000 - 600;
      const event = (n: number, message: string, at: number) =>
        eventTask(project.id, n.toString(16).padStart(32, '0'), { message, fingerprint: ['one-issue'], timestamp: at, level: 'error' });
      const issue = () =>
        services.database.db.selectFrom('groups').select(['title', 'times_seen']).where('project_id', '=', project.id).executeTakeFirstOrThrow();

      await services.queue.enqueue(INGEST_QUEUE, [event(1, 'first sighting', t0)]);
      await drain();
      await services.buffer.flush(services.database.db);
      expect(await issue()).toMatchObject({ title: 'first sighting', times_seen: expect.anything() });

      // Redis refuses the next increment: the batch has committed, so the worker saves its events
      // again one by one, finds each saved, and hands the buffer its counters (and title) again.
      const incr = services.buffer.incr.bind(services.buffer);
      let refusals = 0;
      services.buffer.incr = async (items) => {
        if (refusals++ === 0) throw new Error('Redis went away for a moment');
        return incr(items);
      };
      try {
        await services.queue.enqueue(INGEST_QUEUE, [event(2, 'older but later', t0 + 10), event(3, 'newest sighting', t0 + 20)]);
        await drain();
      } finally {
        services.buffer.incr = incr;
      }
      expect(refusals).toBeGreaterThan(1);
      await services.buffer.flush(services.database.db);
      const row = await issue();
      expect([row.title, Number(row.times_seen)]).toEqual(['newest sighting', 3]);
    });
  }),
);
