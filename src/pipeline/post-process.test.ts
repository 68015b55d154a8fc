/**
 * Post-processing on every SQL dialect: a rule's frequency window is claimed together with the
 * record of its fire and the queueing of its actions, so a step that fails in between leaves the
 * rule free for the retry.
 */
import { sql } from 'kysely';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sqlDialects, type TestDatabase } from '../../test/helpers/databases.js';
import { makeProject, testServices } from '../../test/helpers/services.js';
import { A, C } from '../alerts/rules.js';
import { insertReturningId } from '../db/sql.js';
import { NOTIFY_QUEUE } from '../notify/job.js';
import { encodeIngestTask, INGEST_QUEUE } from '../services/queue/ingest-task.js';
import { EventWorker, PostProcessProcessor } from './index.js';
import { POST_PROCESS_QUEUE } from './post-process-task.js';

for (const [dialect, makeDb] of Object.entries(sqlDialects())) {
  describe(`post-processing on ${dialect}`, () => {
    let s: Awaited<ReturnType<typeof testServices>>;
    let database: TestDatabase;
    beforeAll(async () => {
      database = await makeDb();
      s = await testServices(database.url);
    });
    afterAll(async () => {
      await s?.cleanup();
      await database?.drop();
    });

    it('fires a rule on the retry when recording the fire failed the first time', async () => {
      const { project } = await makeProject(s, 'pp', `retry-${dialect}`);
      const db = s.database.db;
      const rule = { actionMatch: 'all', filterMatch: 'all', frequency: 30, conditions: [{ id: C.firstSeen }], filters: [], actions: [{ id: A.webhook, url: 'http://127.0.0.1:9/hook' }] };
      const ruleId = await insertReturningId(
        db.insertInto('alert_rules').values({ project_id: project.id, label: 'new issue', environment: null, data: JSON.stringify(rule), created_by: null, date_added: Date.now() }),
        s.database.dialect,
      );
      await s.queue.enqueue(INGEST_QUEUE, [
        encodeIngestTask({ v: 2, itemType: 'event', projectId: project.id, keyId: 1, receivedAt: Date.now(), clientIp: null, userAgent: null, eventId: 'd'.repeat(32), client: null, payload: JSON.stringify({ message: 'first of its kind' }) }),
      ]);
      const worker = new EventWorker(s, pino({ level: 'silent' }), { batchSize: 10, leaseMs: 60_000 });
      while ((await worker.runOnce()) > 0);
      const [task] = await s.queue.take(POST_PROCESS_QUEUE, 10, 60_000);
      expect(task).toBeDefined();

      const processor = new PostProcessProcessor(s, pino({ level: 'silent' }));
      // The fire cannot be recorded: the step fails after the rule passed.
      await sql`alter table rule_fires rename to rule_fires_away`.execute(db);
      await expect(processor.process(task)).rejects.toThrow();
      await sql`alter table rule_fires_away rename to rule_fires`.execute(db);
      // The retry still finds the rule's window free, fires once and queues the webhook.
      await processor.process(task);
      const fires = await db.selectFrom('rule_fires').select(['rule_id', 'event_id']).where('rule_id', '=', ruleId).execute();
      expect(fires.map((f) => f.event_id)).toEqual(['d'.repeat(32)]);
      expect((await s.queue.stats(NOTIFY_QUEUE)).ready).toBe(1);
    });

    it("fires a rule on the retry when queueing its actions failed the first time", async () => {
      const { project } = await makeProject(s, 'pp', `notify-${dialect}`);
      const db = s.database.db;
      const rule = { actionMatch: 'all', filterMatch: 'all', frequency: 30, conditions: [{ id: C.firstSeen }], filters: [], actions: [{ id: A.webhook, url: 'http://127.0.0.1:9/hook' }] };
      const ruleId = await insertReturningId(
        db.insertInto('alert_rules').values({ project_id: project.id, label: 'new issue', environment: null, data: JSON.stringify(rule), created_by: null, date_added: Date.now() }),
        s.database.dialect,
      );
      await s.queue.enqueue(INGEST_QUEUE, [
        encodeIngestTask({ v: 2, itemType: 'event', projectId: project.id, keyId: 1, receivedAt: Date.now(), clientIp: null, userAgent: null, eventId: 'e'.repeat(32), client: null, payload: JSON.stringify({ message: 'another of its kind' }) }),
      ]);
      const worker = new EventWorker(s, pino({ level: 'silent' }), { batchSize: 10, leaseMs: 60_000 });
      while ((await worker.runOnce()) > 0);
      const [task] = await s.queue.take(POST_PROCESS_QUEUE, 10, 60_000);
      const notifyBefore = (await s.queue.stats(NOTIFY_QUEUE)).ready;

      // The queue refuses the webhook job once (a broker that blinked).
      let refusals = 1;
      const queue = new Proxy(s.queue, {
        get(target, prop) {
          if (prop === 'enqueue') {
            return (name: string, payloads: Buffer[]) => (name === NOTIFY_QUEUE && refusals-- > 0 ? Promise.reject(new Error('queue unavailable')) : target.enqueue(name, payloads));
          }
          const value: unknown = Reflect.get(target, prop, target);
          return typeof value === 'function' ? value.bind(target) : value;
        },
      });
      const processor = new PostProcessProcessor({ ...s, queue }, pino({ level: 'silent' }));
      await expect(processor.process(task)).rejects.toThrow('queue unavailable');
      await processor.process(task);
      const fires = await db.selectFrom('rule_fires').select('event_id').where('rule_id', '=', ruleId).execute();
      expect(fires.map((f) => f.event_id)).toEqual(['e'.repeat(32)]);
      expect((await s.queue.stats(NOTIFY_QUEUE)).ready).toBe(notifyBefore + 1);
    });
  });
}
