/**
 * Events found by their SDK event id, and an id sent again saved once, on every SQL dialect. On
 * SQLite, where ids reach their index in bulk (db/event-ids.ts), also across merges, after events
 * are deleted, with two writers on one file, and in a database made before that index.
 */
import path from 'node:path';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { sqlDialects } from '../../test/helpers/databases.js';
import { removeDir, tempDataDir } from '../../test/helpers/faultline.js';
import { eventTask, makeProject, servicesOn, testServices } from '../../test/helpers/services.js';
import { loadConfig } from '../config/index.js';
import { EventWorker } from '../pipeline/index.js';
import type { Services } from '../services/index.js';
import { INGEST_QUEUE } from '../services/queue/ingest-task.js';
import { connect } from './connect.js';
import { eventById, eventsByIds, eventsByIdsQuery, RecentEventIds } from './event-ids.js';
import { migrate } from './index.js';

const hex = (n: number) => n.toString(16).padStart(32, '0');

const task = (projectId: number, n: number) => eventTask(projectId, hex(n), { message: `event number ${n}`, level: 'error', fingerprint: ['one issue'] });

async function send(s: Services, projectId: number, ns: number[], batchSize = 100) {
  await s.queue.enqueue(INGEST_QUEUE, ns.map((n) => task(projectId, n)));
  const worker = new EventWorker(s, pino({ level: 'silent' }), { batchSize, leaseMs: 60_000 });
  while ((await worker.runOnce()) > 0);
}

async function timesSeen(s: Services, projectId: number): Promise<number> {
  const row = await s.database.db.selectFrom('groups').select('times_seen').where('project_id', '=', projectId).executeTakeFirstOrThrow();
  return Number(row.times_seen);
}

async function savedIds(s: Services, projectId: number): Promise<string[]> {
  const rows = await s.database.db.selectFrom('events').select('event_id').where('project_id', '=', projectId).orderBy('event_id').execute();
  return rows.map((r) => r.event_id);
}

for (const [dialect, makeDb] of Object.entries(sqlDialects())) {
  describe(`events by id on ${dialect}`, () => {
    const services = servicesOn(makeDb);

    it('finds each event by its id, and saves an id sent again once, in the same batch or a later one', async () => {
      const s = services();
      const { project } = await makeProject(s, 'ids', `ids-${dialect}`);
      const other = (await makeProject(s, 'ids', `ids-other-${dialect}`)).project;
      await send(s, project.id, [1, 2, 3, 3, 4, 5, 6]);
      await send(s, project.id, [2, 5, 7]);
      // The same id in another project is another event.
      await send(s, other.id, [2]);
      expect(await savedIds(s, project.id)).toEqual([1, 2, 3, 4, 5, 6, 7].map(hex));
      expect(await timesSeen(s, project.id)).toBe(7);
      expect(await savedIds(s, other.id)).toEqual([hex(2)]);
      const { dialect: d, db } = s.database;
      for (const n of [1, 4, 7]) expect((await eventById(db, d, project.id, hex(n)))?.message).toBe(`event number ${n}`);
      expect(await eventById(db, d, project.id, hex(8))).toBeUndefined();
      expect((await eventById(db, d, other.id, hex(2)))?.project_id).toBe(other.id);
      const found = await eventsByIds(db, d, project.id, [hex(3), hex(6), hex(9)]);
      expect(found.map((r) => r.event_id).sort()).toEqual([hex(3), hex(6)]);
    });
  });
}

describe('events by id on SQLite, merged into their index in bulk', () => {
  const services = servicesOn(sqlDialects().sqlite);

  it('turns away ids sent again whether merged or still in the tail, and takes them again once deleted', async () => {
    const s = services();
    const { project } = await makeProject(s, 'ids', 'merge');
    // Merge once the tail holds 5 events; batches of 4.
    s.database.recentEventIds = new RecentEventIds(5);
    const { db, dialect } = s.database;
    const all = Array.from({ length: 12 }, (_, i) => i + 1);
    await send(s, project.id, all, 4);
    const merged = await db.selectFrom('event_ids').select('event_id').where('project_id', '=', project.id).orderBy('event_id').execute();
    // After the second batch of 4 the tail held 8 ≥ 5 events: merged; the third batch's 4 wait.
    expect(merged.map((r) => r.event_id)).toEqual(all.slice(0, 8).map(hex));
    const upto = (await db.selectFrom('event_ids_merged').select('upto').executeTakeFirstOrThrow()).upto;
    expect((await eventById(db, dialect, project.id, hex(8)))?.id).toBe(upto);

    // Every id again, merged (1-8) and tail (9-12), in other batches: nothing new.
    await send(s, project.id, [...all].reverse(), 3);
    expect(await savedIds(s, project.id)).toEqual(all.map(hex));
    expect(await timesSeen(s, project.id)).toBe(12);
    for (const n of all) expect((await eventById(db, dialect, project.id, hex(n)))?.message).toBe(`event number ${n}`);

    // Deleted events (one merged, one in the tail) leave no id behind: sent again, they are saved.
    await db.deleteFrom('events').where('project_id', '=', project.id).where('event_id', 'in', [hex(2), hex(11)]).execute();
    expect(await eventById(db, dialect, project.id, hex(2))).toBeUndefined();
    expect(await db.selectFrom('event_ids').select('event_id').where('event_id', '=', hex(2)).execute()).toEqual([]);
    await send(s, project.id, [2, 11]);
    expect(await savedIds(s, project.id)).toEqual(all.map(hex));
    expect(await timesSeen(s, project.id)).toBe(14);
  });

  it('reads only the tail for ids not merged yet, not every event of the project', async () => {
    const s = services();
    const { sql: text, parameters } = eventsByIdsQuery(s.database.db, 'sqlite', 1, [hex(1), hex(2)]).compile();
    const plan = (s.database.sqlite!.prepare(`explain query plan ${text}`).all(...(parameters as unknown[])) as { detail: string }[]).map((r) => r.detail);
    expect(plan).toEqual(expect.arrayContaining(['SEARCH events USING INTEGER PRIMARY KEY (rowid>?)', 'SEARCH event_ids USING PRIMARY KEY (project_id=? AND event_id=?)']));
    expect(plan.filter((d) => d.startsWith('SCAN events') || d.includes('INDEX events_project'))).toEqual([]);
  });

  it('turns away an id another writer on the same file saved, merged or not', async () => {
    const dataDir = tempDataDir();
    const url = `sqlite:${path.join(dataDir, 'shared.db')}`;
    const [a, b] = [await testServices(url), await testServices(url)];
    try {
      const { project } = await makeProject(a, 'ids', 'writers');
      a.database.recentEventIds = new RecentEventIds(3);
      b.database.recentEventIds = new RecentEventIds(1000);
      await send(a, project.id, [1]);
      await send(b, project.id, [2]);
      await send(a, project.id, [2, 3]);
      await send(b, project.id, [1, 3]);
      // a merged (its tail reached 3), then b sends them again and a new one.
      await send(a, project.id, [4, 5, 6]);
      await send(b, project.id, [4, 5, 6, 7]);
      await send(a, project.id, [7]);
      expect(await savedIds(a, project.id)).toEqual([1, 2, 3, 4, 5, 6, 7].map(hex));
      expect(await timesSeen(a, project.id)).toBe(7);
      expect((await a.database.db.selectFrom('event_ids').select('event_id').execute()).length).toBeGreaterThanOrEqual(3);
    } finally {
      await a.cleanup();
      await b.cleanup();
      removeDir(dataDir);
    }
  });

  it('moves the events of a database made before the index into it, keeping their rows, indexes and ids', async () => {
    const dataDir = tempDataDir();
    const handle = await connect(loadConfig({ dataDir }, {}));
    try {
      await migrate(handle, '0016-events-group-index');
      const db = handle.db;
      const row = (n: number) => ({
        project_id: 1, group_id: 1, event_id: hex(n), type: 'error', timestamp: 1_700_000_000_000 + n, received: 1_700_000_000_000 + n,
        title: `t${n}`, message: `m${n}`, platform: 'node', level: 'error', release: null, environment: null, user_tag: null, size: 10, post_process: null,
      });
      await db.insertInto('events').values([1, 2, 3, 4].map(row)).execute();
      // The newest event deleted: its id must not be handed out again.
      await db.deleteFrom('events').where('event_id', '=', hex(4)).execute();
      const before = await db.selectFrom('events').selectAll().orderBy('id').execute();

      await migrate(handle);
      expect(await db.selectFrom('events').selectAll().orderBy('id').execute()).toEqual(before);
      const indexes = handle.sqlite!.prepare("select name, sql from sqlite_master where type = 'index' and tbl_name = 'events'").all() as { name: string; sql: string | null }[];
      expect(indexes.filter((i) => i.sql === null)).toEqual([]); // no UNIQUE constraint's index
      expect(indexes.map((i) => i.name)).toEqual(expect.arrayContaining(['events_group_timestamp_id', 'events_project_timestamp']));
      expect((await db.selectFrom('event_ids').selectAll().orderBy('event').execute()).map((r) => [r.event_id, r.event])).toEqual(before.map((r) => [r.event_id, r.id]));
      expect((await db.selectFrom('event_ids_merged').select('upto').executeTakeFirstOrThrow()).upto).toBe(before[2].id);
      expect((await eventById(db, 'sqlite', 1, hex(2)))?.title).toBe('t2');
      await db.insertInto('events').values(row(5)).execute();
      expect((await eventById(db, 'sqlite', 1, hex(5)))?.id).toBe(before[2].id + 2);
    } finally {
      await handle.close();
      removeDir(dataDir);
    }
  });
});
