/**
 * Post-processing on every SQL dialect: a rule's frequency window is claimed together with the
 * record of its fire and the queueing of its actions, so a step that fails in between leaves the
 * rule free for the retry. Rules read the event's level, environment and tags from the task; a
 * task queued by an earlier release finds them in its event's body. A frequency condition counts
 * the events in its window, whatever the issue had before it.
 */
import { sql } from 'kysely';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { sqlDialects } from '../../test/helpers/databases.js';
import { eventTask, makeProject, servicesOn } from '../../test/helpers/services.js';
import type { Services } from '../services/index.js';
import { A, C, F } from '../alerts/rules.js';
import { insertReturningId } from '../db/sql.js';
import { sendDigests } from '../notify/digest.js';
import { NOTIFY_QUEUE } from '../notify/job.js';
import { INGEST_QUEUE } from '../services/queue/ingest-task.js';
import { EventWorker, PostProcessProcessor } from './index.js';
import { eventNodeId, legacyEventNodeId } from '../services/nodestore/index.js';
import { POST_PROCESS_QUEUE } from './post-process-task.js';

for (const [dialect, makeDb] of Object.entries(sqlDialects())) {
  describe(`post-processing on ${dialect}`, () => {
    const services = servicesOn(makeDb);

    /** Adds a rule to the project as stored rows are (the API's parsed shape), returning its id. */
    const addRule = async (s: Services, projectId: number, label: string, rule: Record<string, unknown>, environment: string | null = null) =>
      (await insertReturningId(
        s.database.db.insertInto('alert_rules').values({ project_id: projectId, label, environment, data: JSON.stringify(rule), created_by: null, date_added: Date.now() }),
        s.database.dialect,
      ))!;

    /** A project with a "new issue" webhook rule and the post-process task of its first event. */
    async function firstEventWithRule(slug: string, eventId: string) {
      const s = services();
      const { project } = await makeProject(s, 'pp', `${slug}-${dialect}`);
      const rule = { actionMatch: 'all', filterMatch: 'all', frequency: 30, conditions: [{ id: C.firstSeen }], filters: [], actions: [{ id: A.webhook, url: 'http://127.0.0.1:9/hook' }] };
      const ruleId = await addRule(s, project.id, 'new issue', rule);
      await s.queue.enqueue(INGEST_QUEUE, [
        eventTask(project.id, eventId, { message: `first of its kind (${slug})` }),
      ]);
      const worker = new EventWorker(s, pino({ level: 'silent' }), { batchSize: 10, leaseMs: 60_000 });
      while ((await worker.runOnce()) > 0);
      const [task] = await s.queue.take(POST_PROCESS_QUEUE, 10, 60_000);
      expect(task).toBeDefined();
      return { ruleId, task, projectId: project.id, slug };
    }

    it('fires a rule on the retry when recording the fire failed the first time', async () => {
      const s = services();
      const db = s.database.db;
      const { ruleId, task } = await firstEventWithRule('retry', 'd'.repeat(32));
      const processor = new PostProcessProcessor(s, pino({ level: 'silent' }));
      const notifyBefore = (await s.queue.stats(NOTIFY_QUEUE)).ready;
      // The fire cannot be recorded: the step fails after the rule passed.
      await sql`alter table rule_fires rename to rule_fires_away`.execute(db);
      await expect(processor.process(task)).rejects.toThrow();
      await sql`alter table rule_fires_away rename to rule_fires`.execute(db);
      // The retry still finds the rule's window free, fires once and queues the webhook.
      await processor.process(task);
      const fires = await db.selectFrom('rule_fires').select(['rule_id', 'event_id']).where('rule_id', '=', ruleId).execute();
      expect(fires.map((f) => f.event_id)).toEqual(['d'.repeat(32)]);
      expect((await s.queue.stats(NOTIFY_QUEUE)).ready).toBe(notifyBefore + 1);
    });

    it('does not alert again for an event redelivered days later, after digests pruned old fires', async () => {
      const s = services();
      const db = s.database.db;
      const eventId = 'f'.repeat(32);
      const { ruleId, task, projectId, slug } = await firstEventWithRule('late', eventId);
      const processor = new PostProcessProcessor(s, pino({ level: 'silent' }));
      await processor.process(task);
      await s.queue.ack([task.id]);
      const notifyAfterFirst = (await s.queue.stats(NOTIFY_QUEUE)).ready;
      // Three days pass (the workers were down): the event, its fire and the rule's window age.
      const days3 = 3 * 86_400_000;
      await db.updateTable('events').set({ received: sql`received - ${days3}` }).where('event_id', '=', eventId).execute();
      await db.updateTable('rule_fires').set({ date_added: sql`date_added - ${days3}` }).where('rule_id', '=', ruleId).execute();
      await db.updateTable('rule_group_status').set({ last_active: sql`last_active - ${days3}` }).where('rule_id', '=', ruleId).execute();
      await sendDigests(s);
      // The ingest task of that event comes back (its first worker died before the ack).
      await s.queue.enqueue(INGEST_QUEUE, [
        eventTask(projectId, eventId, { message: `first of its kind (${slug})` }),
      ]);
      const worker = new EventWorker(s, pino({ level: 'silent' }), { batchSize: 10, leaseMs: 60_000 });
      while ((await worker.runOnce()) > 0);
      const [again] = await s.queue.take(POST_PROCESS_QUEUE, 10, 60_000);
      expect(again).toBeDefined();
      await processor.process(again);
      expect((await s.queue.stats(NOTIFY_QUEUE)).ready).toBe(notifyAfterFirst);
      const fires = await db.selectFrom('rule_fires').select('event_id').where('rule_id', '=', ruleId).execute();
      expect(fires.map((f) => f.event_id)).toEqual([eventId]);
    });

    it("fires a frequency rule on the events in its window, not on the issue's older ones", async () => {
      const s = services();
      const db = s.database.db;
      const { project } = await makeProject(s, 'pp', `window-${dialect}`);
      // More than 2 events in an hour; no quiet period, so it fires whenever that holds.
      const rule = { actionMatch: 'all', filterMatch: 'all', frequency: 0, conditions: [{ id: C.frequency, value: 2, interval: '1h' }], filters: [], actions: [{ id: A.webhook, url: 'http://127.0.0.1:9/hook' }] };
      const ruleId = await addRule(s, project.id, 'window', rule);
      const now = Date.now() / 1000;
      const processor = new PostProcessProcessor(s, pino({ level: 'silent' }));
      const fired: string[] = [];
      // Two events from two hours ago, then three of now, arriving one after another.
      for (const [n, timestamp] of [[1, now - 7200], [2, now - 7100], [3, now - 60], [4, now - 30], [5, now]]) {
        const eventId = n.toString(16).padStart(32, 'b');
        await s.queue.enqueue(INGEST_QUEUE, [eventTask(project.id, eventId, { message: 'in a window', timestamp })]);
        const worker = new EventWorker(s, pino({ level: 'silent' }), { batchSize: 10, leaseMs: 60_000 });
        while ((await worker.runOnce()) > 0);
        for (const task of await s.queue.take(POST_PROCESS_QUEUE, 10, 60_000)) {
          await processor.process(task);
          await s.queue.ack([task.id]);
        }
        const fires = await db.selectFrom('rule_fires').select('event_id').where('rule_id', '=', ruleId).orderBy('id').execute();
        fired.push(fires.map((f) => f.event_id.slice(-1)).join(''));
      }
      // The third event of the issue is only the first of the hour: the fifth is the third.
      expect(fired).toEqual(['', '', '', '', '5']);
    });

    it('parks the fires of a noisy rule for the digest once it fired the threshold number of times', async () => {
      const s = services();
      const db = s.database.db;
      const { project } = await makeProject(s, 'pp', `noisy-${dialect}`);
      // No condition and no quiet period: fires for every event.
      const rule = { actionMatch: 'all', filterMatch: 'all', frequency: 0, conditions: [], filters: [], actions: [{ id: A.webhook, url: 'http://127.0.0.1:9/hook' }] };
      const ruleId = await addRule(s, project.id, 'noisy', rule);
      const ids = [1, 2, 3, 4, 5].map((n) => n.toString(16).padStart(32, 'a'));
      await s.queue.enqueue(INGEST_QUEUE, ids.map((eventId) => eventTask(project.id, eventId, { message: 'noisy' })));
      const worker = new EventWorker(s, pino({ level: 'silent' }), { batchSize: 10, leaseMs: 60_000 });
      while ((await worker.runOnce()) > 0);
      const tasks = await s.queue.take(POST_PROCESS_QUEUE, 10, 60_000);
      expect(tasks).toHaveLength(5);
      const notifyBefore = (await s.queue.stats(NOTIFY_QUEUE)).ready;
      const processor = new PostProcessProcessor({ ...s, config: { ...s.config, digestThreshold: 2 } }, pino({ level: 'silent' }));
      for (const task of tasks) await processor.process(task);
      const fires = await db.selectFrom('rule_fires').select(['event_id', 'digest']).where('rule_id', '=', ruleId).orderBy('id').execute();
      expect(fires.map((f) => Number(f.digest))).toEqual([0, 0, 1, 1, 1]);
      expect((await s.queue.stats(NOTIFY_QUEUE)).ready).toBe(notifyBefore + 2);
    });

    it("judges rules by what the task carries, without reading the event's body", async () => {
      const s = services();
      const db = s.database.db;
      const { project } = await makeProject(s, 'pp', `carried-${dialect}`);
      // Fires only for error events in production tagged flavour=fresh.
      const rule = {
        actionMatch: 'all',
        filterMatch: 'all',
        frequency: 30,
        conditions: [{ id: C.firstSeen }],
        filters: [{ id: F.tagged, key: 'flavour', match: 'eq', value: 'fresh' }, { id: F.level, match: 'eq', level: 40 }], // 40: error
        actions: [{ id: A.webhook, url: 'http://127.0.0.1:9/hook' }],
      };
      const ruleId = await addRule(s, project.id, 'carried', rule, 'production');
      const eventId = 'f'.repeat(32);
      const payload = { message: 'carried along', level: 'error', environment: 'production', tags: { flavour: 'fresh' } };
      await s.queue.enqueue(INGEST_QUEUE, [eventTask(project.id, eventId, payload)]);
      const worker = new EventWorker(s, pino({ level: 'silent' }), { batchSize: 10, leaseMs: 60_000 });
      while ((await worker.runOnce()) > 0);
      const [task] = await s.queue.take(POST_PROCESS_QUEUE, 10, 60_000);
      expect(JSON.parse(task.payload.toString('utf8')).ruleEvent).toMatchObject({ level: 'error', environment: 'production', tags: expect.arrayContaining([['flavour', 'fresh']]) });
      // The body is gone: only the task can say the tag, level and environment.
      const row = await db.selectFrom('events').select('received').where('event_id', '=', eventId).executeTakeFirstOrThrow();
      await s.nodestore.delete([eventNodeId(project.id, eventId, Number(row.received))]);
      await new PostProcessProcessor(s, pino({ level: 'silent' })).process(task);
      const fires = await db.selectFrom('rule_fires').select('event_id').where('rule_id', '=', ruleId).execute();
      expect(fires.map((f) => f.event_id)).toEqual([eventId]);
    });

    it('reads the body of an event saved and queued by an earlier release (old body id, no receive time)', async () => {
      const s = services();
      const db = s.database.db;
      const { project } = await makeProject(s, 'pp', `legacy-${dialect}`);
      // Fires only for events whose body carries the tag: it must have been read.
      const rule = { actionMatch: 'all', filterMatch: 'all', frequency: 30, conditions: [{ id: C.firstSeen }], filters: [{ id: F.tagged, key: 'flavour', match: 'eq', value: 'legacy' }], actions: [{ id: A.webhook, url: 'http://127.0.0.1:9/hook' }] };
      const ruleId = await addRule(s, project.id, 'tagged', rule);
      const eventId = 'b'.repeat(32);
      await s.queue.enqueue(INGEST_QUEUE, [
        eventTask(project.id, eventId, { message: 'from before the upgrade', tags: { flavour: 'legacy' } }),
      ]);
      const worker = new EventWorker(s, pino({ level: 'silent' }), { batchSize: 10, leaseMs: 60_000 });
      while ((await worker.runOnce()) > 0);
      const [task] = await s.queue.take(POST_PROCESS_QUEUE, 10, 60_000);
      // As the earlier release left them: the body under e:<project>:<event id>, a task without the time.
      const row = await db.selectFrom('events').select('received').where('event_id', '=', eventId).executeTakeFirstOrThrow();
      const newId = eventNodeId(project.id, eventId, Number(row.received));
      const body = await s.nodestore.get(newId);
      expect(body).not.toBeNull();
      await s.nodestore.setMulti([{ id: legacyEventNodeId(project.id, eventId), data: body!, timestamp: Date.now() }]);
      await s.nodestore.delete([newId]);
      const { received: _received, ruleEvent: _ruleEvent, ...old } = JSON.parse(task.payload.toString('utf8'));
      expect(_received).toBe(Number(row.received));

      const notifyBefore = (await s.queue.stats(NOTIFY_QUEUE)).ready;
      await new PostProcessProcessor(s, pino({ level: 'silent' })).process({ ...task, payload: Buffer.from(JSON.stringify(old)) });
      const fires = await db.selectFrom('rule_fires').select('event_id').where('rule_id', '=', ruleId).execute();
      expect(fires.map((f) => f.event_id)).toEqual([eventId]);
      expect((await s.queue.stats(NOTIFY_QUEUE)).ready).toBe(notifyBefore + 1);
    });

    it("fires a rule on the retry when queueing its actions failed the first time", async () => {
      const s = services();
      const db = s.database.db;
      const { ruleId, task } = await firstEventWithRule('notify', 'e'.repeat(32));
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
