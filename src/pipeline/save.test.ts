/**
 * The save step's issue bookkeeping, on every SQL dialect: new issues take consecutive short ids,
 * each release counts the issues first seen in it, a redelivered batch counts nothing twice, and a
 * worker that dies between its commit and queueing post-processing loses no alert, bodies are
 * compressed with a dictionary of the project's code, and two workers creating the same new issue
 * at once end with one issue. A batch is the database's default size unless one is set. An issue
 * with many users counts them exactly.
 */
import { sql } from 'kysely';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { sqlDialects } from '../../test/helpers/databases.js';
import { eventTask, makeProject, servicesOn } from '../../test/helpers/services.js';
import { A, C } from '../alerts/rules.js';
import type { Services } from '../services/index.js';
import { encodeIngestTask, INGEST_QUEUE } from '../services/queue/ingest-task.js';
import { EventWorker, PostProcessProcessor } from './index.js';
import { DEFAULT_BATCH_SIZE } from './worker.js';
import { SqlNodestoreBackend } from '../services/nodestore/backends/sql.js';
import { BodyDictionaries } from '../services/nodestore/dictionaries.js';
import { getEventBodies } from '../services/nodestore/index.js';
import { POST_PROCESS_QUEUE } from './post-process-task.js';
import { USERS_RECOUNT_BELOW } from '../services/buffer/index.js';

for (const [dialect, makeDb] of Object.entries(sqlDialects())) {
  describe(`save step on ${dialect}`, () => {
    const services = servicesOn(makeDb);

    const task = (projectId: number, message: string, release: string, eventId: string, extra: Record<string, unknown> = {}) =>
      eventTask(projectId, eventId, { message, release, level: 'error', ...extra });

    const drain = async (s: Services = services()) => {
      const worker = new EventWorker(s, pino({ level: 'silent' }), { batchSize: 100, leaseMs: 60_000 });
      while ((await worker.runOnce()) > 0);
    };

    // Words, not numbers: message grouping replaces numbers with <int>.
    const NAMES = ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot', 'golf', 'hotel'];

    it('gives new issues consecutive short ids and counts them per release, in one batch and the next', async () => {
      const s = services();
      const { project } = await makeProject(s, 'save', `p-${dialect}`);
      const id = (n: number) => n.toString(16).padStart(32, '0');
      // 12 events: 6 distinct messages (issues), 4 first seen in 1.0, 2 in 2.0; each sent twice.
      const first = Array.from({ length: 12 }, (_, i) => task(project.id, `problem ${NAMES[i % 6]}`, i % 6 < 4 ? 'save@1.0' : 'save@2.0', id(i + 1)));
      await s.queue.enqueue(INGEST_QUEUE, first);
      await drain();
      // A later batch: two more issues in 2.0, one old issue again, and a redelivered event.
      await s.queue.enqueue(INGEST_QUEUE, [
        task(project.id, 'problem golf', 'save@2.0', id(101)),
        task(project.id, 'problem hotel', 'save@2.0', id(102)),
        task(project.id, 'problem alpha', 'save@2.0', id(103)),
        task(project.id, 'problem bravo', 'save@1.0', id(2)),
      ]);
      await drain();

      const db = s.database.db;
      const groups = await db.selectFrom('groups').select(['short_id', 'title', 'times_seen']).where('project_id', '=', project.id).orderBy('short_id').execute();
      expect(groups.map((g) => Number(g.short_id))).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
      expect(groups.map((g) => g.title).sort()).toEqual(NAMES.map((n) => `problem ${n}`));
      // The event sent again (a new task for an event id already saved) counts once: its batch
      // fails on the events' unique key and is saved one event at a time, where it is found.
      const seen = Object.fromEntries(groups.map((g) => [g.title, Number(g.times_seen)]));
      expect(seen).toEqual({ 'problem alpha': 3, 'problem bravo': 2, 'problem charlie': 2, 'problem delta': 2, 'problem echo': 2, 'problem foxtrot': 2, 'problem golf': 1, 'problem hotel': 1 });
      const perRelease = await db
        .selectFrom('release_projects')
        .innerJoin('releases', 'releases.id', 'release_projects.release_id')
        .select(['releases.version', 'release_projects.new_groups'])
        .where('release_projects.project_id', '=', project.id)
        .orderBy('releases.version')
        .execute();
      expect(perRelease.map((r) => [r.version, Number(r.new_groups)])).toEqual([
        ['save@1.0', 4],
        ['save@2.0', 4],
      ]);
      const events = await db.selectFrom('events').select((eb) => eb.fn.countAll().as('n')).where('project_id', '=', project.id).executeTakeFirstOrThrow();
      expect(Number(events.n)).toBe(15);
    });

    it("gives each project's new issues of a batch their own consecutive short ids", async () => {
      const s = services();
      const one = (await makeProject(s, 'save', `two-a-${dialect}`)).project;
      const two = (await makeProject(s, 'save', `two-b-${dialect}`)).project;
      const id = (n: number) => (0x2b0000 + n).toString(16).padStart(32, '0');
      // Interleaved in one batch; the same message in both projects is an issue in each.
      await s.queue.enqueue(
        INGEST_QUEUE,
        Array.from({ length: 9 }, (_, i) => task(i % 2 ? two.id : one.id, `problem ${NAMES[i % 3]}`, 'save@1.0', id(i))),
      );
      await drain();
      const db = s.database.db;
      for (const [project, events] of [[one, 5], [two, 4]] as const) {
        const groups = await db.selectFrom('groups').select(['id', 'short_id', 'title', 'times_seen']).where('project_id', '=', project.id).orderBy('short_id').execute();
        expect(groups.map((g) => Number(g.short_id))).toEqual([1, 2, 3]);
        expect(groups.map((g) => g.title).sort()).toEqual(['problem alpha', 'problem bravo', 'problem charlie']);
        expect(groups.reduce((n, g) => n + Number(g.times_seen), 0)).toBe(events);
        const saved = await db.selectFrom('events').select('group_id').where('project_id', '=', project.id).execute();
        expect(new Set(saved.map((e) => Number(e.group_id)))).toEqual(new Set(groups.map((g) => Number(g.id))));
      }
    });

    it('finds and makes the issues of a batch with more hashes than one statement used to list', async () => {
      const s = services();
      const { project } = await makeProject(s, 'save', `wide-${dialect}`);
      const id = (n: number) => (0x31de000 + n).toString(16).padStart(32, '0');
      const many = 250;
      const batch = (offset: number) => Array.from({ length: many }, (_, i) => task(project.id, `wide ${NAMES[i % 8]}`, 'save@1.0', id(offset + i), { fingerprint: [`wide-${i}`] }));
      const worker = new EventWorker(s, pino({ level: 'silent' }), { batchSize: 2 * many, leaseMs: 60_000 });
      for (const offset of [0, 1000]) {
        await s.queue.enqueue(INGEST_QUEUE, batch(offset));
        while ((await worker.runOnce()) > 0);
      }
      const groups = await s.database.db.selectFrom('groups').select(['short_id', 'times_seen']).where('project_id', '=', project.id).orderBy('short_id').execute();
      expect(groups.map((g) => Number(g.short_id))).toEqual(Array.from({ length: many }, (_, i) => i + 1));
      expect(groups.every((g) => Number(g.times_seen) === 2)).toBe(true);
    });

    it('counts a new issue in its release after the release was deleted and made again by the next event', async () => {
      const s = services();
      const { project } = await makeProject(s, 'save', `rel-${dialect}`);
      const db = s.database.db;
      const id = (n: number) => (0x7e1000 + n).toString(16).padStart(32, '0');
      const newIssues = async () =>
        (
          await db
            .selectFrom('release_projects')
            .innerJoin('releases', 'releases.id', 'release_projects.release_id')
            .select(['release_projects.new_groups', 'releases.id'])
            .where('release_projects.project_id', '=', project.id)
            .where('releases.version', '=', 'rel@1.0')
            .execute()
        ).map((r) => Number(r.new_groups));
      await s.queue.enqueue(INGEST_QUEUE, [task(project.id, 'problem alpha', 'rel@1.0', id(1)), task(project.id, 'problem bravo', 'rel@1.0', id(2))]);
      await drain();
      expect(await newIssues()).toEqual([2]);
      // What deleting the release through the API does: the worker still knows its old id.
      const release = await db.selectFrom('releases').select('id').where('version', '=', 'rel@1.0').executeTakeFirstOrThrow();
      await db.deleteFrom('release_projects').where('release_id', '=', release.id).execute();
      await db.deleteFrom('releases').where('id', '=', release.id).execute();
      await s.queue.enqueue(INGEST_QUEUE, [task(project.id, 'problem charlie', 'rel@1.0', id(3))]);
      await drain();
      expect(await newIssues()).toEqual([1]);
    });

    it("saves the database's default number of events per transaction unless a batch size is set", async () => {
      const s = services();
      const { project } = await makeProject(s, 'batch', `b-${dialect}`);
      const size = DEFAULT_BATCH_SIZE[s.database.dialect];
      const id = (n: number) => (0xba00 + n).toString(16).padStart(32, '0');
      await s.queue.enqueue(INGEST_QUEUE, Array.from({ length: size + 3 }, (_, i) => task(project.id, `batch ${NAMES[i % 8]}`, 'save@1.0', id(i))));
      const byDefault = new EventWorker(s, pino({ level: 'silent' }), { leaseMs: 60_000 });
      expect(await byDefault.runOnce()).toBe(size);
      // runOnce returns once the batch's save has started; stop() waits for it to finish.
      await byDefault.stop();
      const set = new EventWorker(s, pino({ level: 'silent' }), { batchSize: 2, leaseMs: 60_000 });
      expect(await set.runOnce()).toBe(2);
      expect(await set.runOnce()).toBe(1);
      expect(await set.runOnce()).toBe(0);
      const saved = await s.database.db.selectFrom('events').select((eb) => eb.fn.countAll().as('n')).where('project_id', '=', project.id).executeTakeFirstOrThrow();
      expect(Number(saved.n)).toBe(size + 3);
    });

    it("counts an issue's affected users exactly, adding the new ones once it has many", async () => {
      const s = services();
      const { project } = await makeProject(s, 'users', `u-${dialect}`);
      const id = (n: number) => (0xa5e0000 + n).toString(16).padStart(32, '0');
      const ev = (n: number, user: string | null) => task(project.id, 'users problem', 'save@1.0', id(n), { fingerprint: ['many-users'], ...(user ? { user: { id: user } } : {}) });
      // More users than are counted again at every flush, each user twice, over several batches.
      const many = USERS_RECOUNT_BELOW + 5;
      await s.queue.enqueue(INGEST_QUEUE, Array.from({ length: 2 * many }, (_, i) => ev(i, `u${i % many}`)));
      await drain();
      const users = async () => (await s.database.db.selectFrom('groups').select(['users_seen', 'times_seen']).where('project_id', '=', project.id).execute()).map((g) => [Number(g.users_seen), Number(g.times_seen)]);
      expect(await users()).toEqual([[many, 2 * many]]);
      // Known users, two new ones (one of them twice) and an event without a user, in one batch.
      await s.queue.enqueue(INGEST_QUEUE, [ev(10_001, 'u1'), ev(10_002, 'new-1'), ev(10_003, 'u2'), ev(10_004, 'new-2'), ev(10_005, 'new-1'), ev(10_006, null)]);
      await drain();
      expect(await users()).toEqual([[many + 2, 2 * many + 6]]);
    });

    it("shows each issue's latest event: title and level follow the newest event of a batch", async () => {
      const s = services();
      const { project } = await makeProject(s, 'save', `latest-${dialect}`);
      const id = (n: number) => `${(n + 500).toString(16).padStart(32, '0')}`;
      const t0 = Date.now() / 1000 - 600;
      const ev = (n: number, letter: string, text: string, at: number, level: string) =>
        task(project.id, `${text} ${letter}`, 'save@3.0', id(n), { fingerprint: [`fp-${letter}`], timestamp: at, level });
      await s.queue.enqueue(INGEST_QUEUE, ['a', 'b', 'c'].map((l, i) => ev(i, l, 'first', t0 + i, 'error')));
      await drain();
      // The next batch: newer events for all three (an older one for c comes last and must not win).
      await s.queue.enqueue(INGEST_QUEUE, [
        ...['a', 'b', 'c'].map((l, i) => ev(10 + i, l, 'second', t0 + 100 + i, 'warning')),
        ev(20, 'c', 'stale', t0 + 50, 'fatal'),
      ]);
      await drain();
      const groups = await s.database.db.selectFrom('groups').select(['title', 'level']).where('project_id', '=', project.id).orderBy('title').execute();
      expect(groups.map((g) => [g.title, g.level])).toEqual([
        ['second a', 'warning'],
        ['second b', 'warning'],
        ['second c', 'warning'],
      ]);
      // A batch of only an older event (a late arrival) counts it and shows what it showed.
      await s.queue.enqueue(INGEST_QUEUE, [ev(30, 'a', 'late', t0 + 60, 'fatal')]);
      await drain();
      const a = await s.database.db.selectFrom('groups').select(['title', 'level', 'times_seen']).where('project_id', '=', project.id).where('title', 'like', '% a').executeTakeFirstOrThrow();
      expect([a.title, a.level, Number(a.times_seen)]).toEqual(['second a', 'warning', 3]);
    });

    it('queues post-processing again for an event whose worker died after the commit, and fires each rule once', async () => {
      const s = services();
      const { project } = await makeProject(s, 'save', `crash-${dialect}`);
      const db = s.database.db;
      // Alert on every new issue, with no quiet period: a second post-process run would fire twice.
      const rule = { actionMatch: 'all', filterMatch: 'all', frequency: 0, conditions: [{ id: C.firstSeen }], filters: [], actions: [{ id: A.webhook, url: 'http://127.0.0.1:9/hook' }] };
      await db.insertInto('alert_rules').values({ project_id: project.id, label: 'new issue', environment: null, data: JSON.stringify(rule), created_by: null, date_added: Date.now() }).execute();
      const eventId = 'c'.repeat(32);
      const ingestTask = task(project.id, 'crash between commit and enqueue', 'save@9.0', eventId);
      await s.queue.enqueue(INGEST_QUEUE, [ingestTask]);

      // A worker whose post-process enqueue never returns: it has committed the batch and "died".
      const queue = new Proxy(s.queue, {
        get(target, prop) {
          if (prop === 'enqueue') return (name: string, payloads: Buffer[]) => (name === POST_PROCESS_QUEUE ? new Promise<void>(() => {}) : target.enqueue(name, payloads));
          const value: unknown = Reflect.get(target, prop, target);
          return typeof value === 'function' ? value.bind(target) : value;
        },
      });
      const dying: Services = { ...s, queue };
      const doomed = new EventWorker(dying, pino({ level: 'silent' }), { batchSize: 100, leaseMs: 300 });
      await doomed.runOnce();
      const saved = async () => db.selectFrom('events').select(['group_id', 'post_process']).where('project_id', '=', project.id).execute();
      for (let i = 0; i < 100 && (await saved()).length === 0; i++) await new Promise((r) => setTimeout(r, 20));
      expect(await saved()).toHaveLength(1);
      expect((await s.queue.stats(POST_PROCESS_QUEUE)).ready).toBe(0);

      // The lease runs out and a healthy worker gets the task again: nothing is counted twice, and
      // the post-process task is queued, still knowing that the event created its issue.
      await new Promise((r) => setTimeout(r, 350));
      await drain();
      const group = await db.selectFrom('groups').select(['id', 'times_seen']).where('project_id', '=', project.id).executeTakeFirstOrThrow();
      expect(Number(group.times_seen)).toBe(1);
      const postProcess = new PostProcessProcessor(s, pino({ level: 'silent' }));
      expect(await postProcess.runOnce()).toBe(1);
      const fires = async () => (await db.selectFrom('rule_fires').select(['group_id', 'event_id']).execute()).filter((f) => f.event_id === eventId);
      expect((await fires()).map((f) => Number(f.group_id))).toEqual([Number(group.id)]);

      // Delivered once more (its ack was lost after post-processing ran): queued again, but the rule
      // that already fired for this event does not fire again.
      await s.queue.enqueue(INGEST_QUEUE, [ingestTask]);
      await drain();
      expect(await postProcess.runOnce()).toBe(1);
      expect(await fires()).toHaveLength(1);
      expect(Number((await db.selectFrom('groups').select('times_seen').where('id', '=', group.id).executeTakeFirstOrThrow()).times_seen)).toBe(1);
    });
    it("compresses a project's bodies with a dictionary of its events' code, never their data, and reads every body back", async () => {
      const s = services();
      const { project } = await makeProject(s, 'save', `dict-${dialect}`);
      const id = (n: number) => (0xd1c7000 + n).toString(16).padStart(32, '0');
      // Distinct stacks of about 9 KB of code each: seven or eight of them fill a 64 KB sample.
      const frames = (n: number) =>
        Array.from({ length: 30 }, (_, d) => ({
          function: `handler${n}_${d}`,
          module: `app.routes.r${n}`,
          filename: `app/routes/r${n}.js`,
          lineno: 10 + d,
          context_line: `  const result${d} = await service${n}.call${d}(request, options);`,
          pre_context: [`  // route ${n} step ${d}`],
          in_app: true,
          vars: { step: `frame-var-${n}-${d}` },
        }));
      const payload = (n: number) => ({
        level: 'error',
        platform: 'node',
        exception: { values: [{ type: 'TypeError', value: `secret message ${n}`, stacktrace: { frames: frames(n) } }] },
        user: { email: `person${n}@example.com` },
        tags: { tenant: `tenant-${n}` },
        contexts: { runtime: { name: 'node', version: 'v20.20.2' }, order: { customer: `customer-${n}` } },
      });
      const tasks = Array.from({ length: 12 }, (_, n) =>
        eventTask(project.id, id(n), payload(n)),
      );
      await s.queue.enqueue(INGEST_QUEUE, tasks);
      await drain();

      const db = s.database.db;
      const dicts = await db.selectFrom('nodestore_dictionaries').select(['id', 'data']).where('project_id', '=', project.id).execute();
      expect(dicts).toHaveLength(1);
      const text = Buffer.from(dicts[0].data).toString('utf8');
      expect(text.includes('"context_line":"  const result29 = await service1.call29(request, options);"')).toBe(true);
      for (const secret of ['secret message', 'example.com', 'frame-var-', 'tenant-', 'customer-']) expect(text.includes(secret), secret).toBe(false);

      const rows = await db.selectFrom('nodestore_node').select(['id', 'data']).where('id', 'like', `e:${project.id}:%`).execute();
      const formats = rows.map((r) => r.data[0]).sort();
      expect(formats[0]).toBe(2); // the events sampled before the dictionary was complete
      expect(formats[formats.length - 1]).toBe(3);
      // Read by another process: the dictionary comes from the database.
      const reader = new SqlNodestoreBackend(db, s.database.dialect, new BodyDictionaries(db, s.database.dialect));
      expect((await reader.getMulti(rows.map((r) => r.id))).size).toBe(12);
      const refs = async (ns: number[]) =>
        db.selectFrom('events').select(['project_id', 'event_id', 'received']).where('project_id', '=', project.id).where('event_id', 'in', ns.map(id)).orderBy('event_id').execute();
      const bodies = await getEventBodies(reader, await refs(Array.from({ length: 12 }, (_, n) => n)));
      for (let n = 0; n < 12; n++) {
        const body = bodies[n]!;
        expect(body.user).toMatchObject({ email: `person${n}@example.com` });
        expect((body.exception as any).values[0].stacktrace.frames[29].vars).toEqual({ step: `frame-var-${n}-29` });
      }

      // Ingest in another process compresses the project's queued payloads with that dictionary
      // (format 4), once its background lookup found it; a worker that never saw it loads it by id.
      const ingest = new BodyDictionaries(db, s.database.dialect);
      for (let i = 0; i < 200 && !ingest.forQueue(project.id); i++) await new Promise((resolve) => setTimeout(resolve, 10));
      const dictionary = ingest.forQueue(project.id);
      expect(dictionary?.id).toBe(Number(dicts[0].id));
      const queued = (n: number, dict = dictionary) =>
        encodeIngestTask(
          { v: 2, itemType: 'event', projectId: project.id, keyId: 1, receivedAt: Date.now(), clientIp: null, userAgent: null, eventId: id(n), client: null, payload: JSON.stringify(payload(n)) },
          { compress: true, dictionary: dict },
        );
      const compressed = [12, 13, 14].map((n) => queued(n));
      for (const t of compressed) {
        expect(JSON.parse(t.toString('utf8', 0, t.indexOf(0x0a))).v).toBe(4);
        expect(t.length).toBeLessThan(queued(1, null).length * 0.7);
      }
      // And one whose dictionary was never stored: it ends in the dead letters, not in a crash.
      const deadBefore = (await s.queue.stats(INGEST_QUEUE)).dead;
      await s.queue.enqueue(INGEST_QUEUE, [...compressed, queued(15, { id: 777, data: Buffer.from('never stored') })]);
      await drain({ ...s, bodyDictionaries: new BodyDictionaries(db, s.database.dialect) });
      const later = await refs([12, 13, 14, 15]);
      expect(later.map((r) => r.event_id)).toEqual([12, 13, 14].map(id));
      const laterBodies = await getEventBodies(reader, later);
      expect(laterBodies[1]!.user).toMatchObject({ email: 'person13@example.com' });
      expect((await s.queue.stats(INGEST_QUEUE)).dead).toBe(deadBefore + 1);
    });

    it("stores a stack's text once per project, apart from the bodies that refer to it, and reads them back whole", async () => {
      const s = services();
      const one = (await makeProject(s, 'save', `stacks-${dialect}`)).project;
      const two = (await makeProject(s, 'save', `stacks2-${dialect}`)).project;
      const id = (n: number) => (0x5ac0000 + n).toString(16).padStart(32, '0');
      const frames = (n: number) =>
        Array.from({ length: 30 }, (_, d) => ({
          function: `route${n}_${d}`,
          module: `app.routes.r${n}`,
          filename: `app/routes/r${n}.js`,
          abs_path: `/srv/app/routes/r${n}.js`,
          lineno: 10 + d,
          context_line: `  const answer${d} = await backend${n}.fetch${d}(request, options); // é`,
          in_app: d > 20,
        }));
      const payload = (n: number, stack: number) => ({
        level: 'error',
        platform: 'node',
        exception: { values: [{ type: 'TypeError', value: `lookup ${NAMES[n % 8]} failed`, stacktrace: { frames: frames(stack) } }] },
        user: { email: `person${n}@example.com` },
      });
      const send = async (projectId: number, events: [number, number][]) => {
        const tasks = events.map(([n, stack]) =>
          eventTask(projectId, id(n), payload(n, stack)),
        );
        await s.queue.enqueue(INGEST_QUEUE, tasks);
        await drain(s);
      };
      // Twelve distinct stacks (about 6 KB of code each) complete the project's dictionary sample;
      // then six events of one stack.
      await send(one.id, Array.from({ length: 12 }, (_, n) => [n, n] as [number, number]));
      await send(one.id, Array.from({ length: 6 }, (_, n) => [20 + n, 100] as [number, number]));
      await send(two.id, [[40, 100], [41, 100]]);

      const db = s.database.db;
      const stored = await db.selectFrom('body_stacks').select(['id', 'project_id', 'last_used']).where('project_id', 'in', [one.id, two.id]).execute();
      const rows = await db.selectFrom('nodestore_node').select(['id', 'data']).where('id', 'like', `e:${one.id}:%`).execute();
      const byFormat = (f: number) => rows.filter((r) => r.data[0] === f);
      // The events after the dictionary was made refer to their stacks: the last of the twelve
      // distinct ones, each stored once, and the six of the shared stack, stored once for all.
      const distinctApart = byFormat(4).length - 6;
      expect(distinctApart).toBeGreaterThanOrEqual(0);
      expect(stored.filter((r) => Number(r.project_id) === one.id)).toHaveLength(distinctApart + 1);
      // Another project's events of the same stack refer to a row of its own, once it has a dictionary.
      expect(stored.filter((r) => Number(r.project_id) === two.id).length).toBeLessThanOrEqual(1);
      expect(new Set(stored.map((r) => r.id)).size).toBe(stored.length);

      // Read by another process, which loads the stack texts from the database.
      const reader = new SqlNodestoreBackend(db, s.database.dialect, new BodyDictionaries(db, s.database.dialect));
      const refs = async (projectId: number, ns: number[]) =>
        db.selectFrom('events').select(['project_id', 'event_id', 'received']).where('project_id', '=', projectId).where('event_id', 'in', ns.map(id)).orderBy('event_id').execute();
      const shared = [20, 21, 22, 23, 24, 25];
      const bodies = await getEventBodies(reader, await refs(one.id, shared));
      shared.forEach((n, i) => {
        const body = bodies[i]!;
        expect(body.user).toMatchObject({ email: `person${n}@example.com` });
        const got = (body.exception as any).values[0].stacktrace.frames;
        expect(got).toHaveLength(30);
        expect(got[29]).toMatchObject({ function: 'route100_29', context_line: frames(100)[29].context_line, in_app: true });
        expect(got[0].in_app).toBe(false);
      });
      const others = await getEventBodies(reader, await refs(two.id, [40, 41]));
      expect(others.map((b) => (b!.exception as any).values[0].stacktrace.frames[5].function)).toEqual(['route100_5', 'route100_5']);
      // A body without its stack's text (stored apart) is a fraction of one with it: about 395–417
      // against 835–839 bytes here, varying by a few bytes with the time the events are received.
      const withStack = rows.filter((r) => r.data[0] !== 4).map((r) => r.data.length);
      expect(Math.max(...byFormat(4).map((r) => r.data.length))).toBeLessThan(Math.min(...withStack) * 0.6);

      // A stack no longer stored reads as a stack without frames; the rest of the event stays.
      await db.deleteFrom('body_stacks').where('project_id', '=', one.id).execute();
      const orphan = (await getEventBodies(new SqlNodestoreBackend(db, s.database.dialect, new BodyDictionaries(db, s.database.dialect)), await refs(one.id, [20])))[0]!;
      expect(orphan.user).toMatchObject({ email: 'person20@example.com' });
      expect((orphan.exception as any).values[0].stacktrace.frames).toEqual([]);
    });

    it('keeps every stack of an event with more than a body refers to (a thread dump), seen once or again', async () => {
      const s = services();
      const { project } = await makeProject(s, 'save', `threads-${dialect}`);
      const id = (n: number) => (0x7d0000 + n).toString(16).padStart(32, '0');
      // As @sentry/node sends frames: no abs_path, which normalization fills in from filename.
      const frames = (n: number, size: number) => Array.from({ length: size }, (_, d) => ({ function: `work${n}_${d}`, filename: `/srv/app/worker${n}.js`, lineno: 5 + d, in_app: true }));
      const THREADS = 300;
      const dump = { level: 'error', platform: 'node', message: 'thread dump', threads: { values: Array.from({ length: THREADS }, (_, t) => ({ id: t, name: `t${t}`, stacktrace: { frames: frames(1000 + t, 3) } })) } };
      const task = (n: number, payload: Record<string, unknown>) => eventTask(project.id, id(n), payload);
      // Distinct stacks first, so that the project has a dictionary and bodies refer to stored texts.
      await s.queue.enqueue(INGEST_QUEUE, Array.from({ length: 12 }, (_, n) => task(n, { level: 'error', platform: 'node', exception: { values: [{ type: 'E', value: 'x', stacktrace: { frames: frames(n, 30) } }] } })));
      await drain(s);
      // The dump twice: the second time every stack is known, and its text is made only if needed.
      await s.queue.enqueue(INGEST_QUEUE, [task(100, dump)]);
      await drain(s);
      await s.queue.enqueue(INGEST_QUEUE, [task(101, dump)]);
      await drain(s);
      const db = s.database.db;
      const rows = await db.selectFrom('events').select(['project_id', 'event_id', 'received']).where('project_id', '=', project.id).where('event_id', 'in', [id(100), id(101)]).orderBy('event_id').execute();
      expect(rows).toHaveLength(2);
      const reader = new SqlNodestoreBackend(db, s.database.dialect, new BodyDictionaries(db, s.database.dialect));
      for (const body of await getEventBodies(reader, rows)) {
        const threads = (body!.threads as { values: { id: number; stacktrace: { frames: { function: string; abs_path: string }[] } }[] }).values;
        expect(threads).toHaveLength(THREADS);
        threads.forEach((t, i) => {
          expect(t.id).toBe(i);
          expect(t.stacktrace.frames.map((f) => f.function)).toEqual([`work${1000 + i}_0`, `work${1000 + i}_1`, `work${1000 + i}_2`]);
          expect(t.stacktrace.frames[2].abs_path).toBe(`/srv/app/worker${1000 + i}.js`);
        });
      }
    });

    // SQLite has one writer: two workers' transactions cannot overlap there.
    if (dialect !== 'sqlite') {
      // Alone in its batch, and with two more new issues (on PostgreSQL a batch's new issues are
      // made in one statement, undone when one of them races).
      for (const others of [0, 2])
      it(`joins the issue another worker created for the same stack a moment ago, instead of failing the batch (${others} other new issues)`, async () => {
        const s = services();
        const { project } = await makeProject(s, 'save', `race${others}-${dialect}`);
        const db = s.database.db;
        const id = (n: number) => (n + 900).toString(16).padStart(32, '0');
        // Learn the issue's hash from a first event, then start over without the issue.
        await s.queue.enqueue(INGEST_QUEUE, [task(project.id, 'race', 'save@1.0', id(1), { fingerprint: ['race'] })]);
        await drain();
        const first = await db.selectFrom('groups').selectAll().where('project_id', '=', project.id).executeTakeFirstOrThrow();
        const hashes = await db.selectFrom('group_hashes').select('hash').where('group_id', '=', first.id).execute();
        await db.deleteFrom('group_hashes').where('group_id', '=', first.id).execute();
        await db.deleteFrom('events').where('project_id', '=', project.id).execute();
        await db.deleteFrom('groups').where('id', '=', first.id).execute();

        // Another worker creates the issue and has not committed yet when this worker's batch
        // looks the hash up; it commits while this worker is creating the issue too.
        let commitOther!: () => void;
        const otherMayCommit = new Promise<void>((resolve) => (commitOther = resolve));
        let otherCreated!: () => void;
        const created = new Promise<void>((resolve) => (otherCreated = resolve));
        let otherId = 0;
        const other = db.transaction().execute(async (trx) => {
          await trx.updateTable('projects').set({ next_short_id: sql`next_short_id + 1` }).where('id', '=', project.id).execute();
          const { id: _id, short_id: shortId, ...rest } = first;
          await trx.insertInto('groups').values({ ...rest, short_id: Number(shortId) + 1, times_seen: 0 }).execute();
          otherId = Number((await trx.selectFrom('groups').select('id').where('project_id', '=', project.id).executeTakeFirstOrThrow()).id);
          await trx.insertInto('group_hashes').values(hashes.map((h) => ({ project_id: project.id, hash: h.hash, group_id: otherId }))).execute();
          otherCreated();
          await otherMayCommit;
        });
        await created;

        const logs: string[] = [];
        const worker = new EventWorker(s, pino({ level: 'info' }, { write: (line: string) => void logs.push(line) }), { batchSize: 100, leaseMs: 60_000 });
        const another = (n: number) => task(project.id, `race other ${NAMES[n]}`, 'save@1.0', id(10 + n), { fingerprint: [`other-${n}`] });
        const batch = [task(project.id, 'race', 'save@1.0', id(2), { fingerprint: ['race'] })];
        if (others) batch.unshift(another(0), ...Array.from({ length: others - 1 }, (_, n) => another(n + 1)));
        await s.queue.enqueue(INGEST_QUEUE, batch);
        const draining = (async () => {
          while ((await worker.runOnce()) > 0);
        })();
        await new Promise((r) => setTimeout(r, 300)); // the batch now waits on the other transaction
        commitOther();
        await Promise.all([other, draining]);

        expect(logs.filter((l) => l.includes('one by one'))).toEqual([]);
        const groups = await db.selectFrom('groups').select(['id', 'short_id', 'title', 'times_seen']).where('project_id', '=', project.id).orderBy('short_id').execute();
        expect(groups.map((g) => [g.title, Number(g.times_seen)])).toEqual([
          ['race', 1],
          ...Array.from({ length: others }, (_, n) => [`race other ${NAMES[n]}`, 1]),
        ]);
        expect(Number(groups[0].id)).toBe(otherId);
        const event = await db.selectFrom('events').select('group_id').where('project_id', '=', project.id).where('event_id', '=', id(2)).executeTakeFirstOrThrow();
        expect(Number(event.group_id)).toBe(otherId);
        // The short ids the batch took for its own issues were given back: no gap.
        expect(groups.map((g) => Number(g.short_id) - Number(groups[0].short_id))).toEqual(groups.map((_, i) => i));
        const { next_short_id } = await db.selectFrom('projects').select('next_short_id').where('id', '=', project.id).executeTakeFirstOrThrow();
        expect(Number(next_short_id)).toBe(Number(groups.at(-1)!.short_id) + 1);
      });
    }
  });
}
