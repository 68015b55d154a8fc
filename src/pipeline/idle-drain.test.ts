import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import pino from 'pino';
import { loadConfig } from '../config/index.js';
import { createServices, type Services } from '../services/index.js';
import { INGEST_QUEUE } from '../services/queue/ingest-task.js';
import { eventTask, makeProject } from '../../test/helpers/services.js';
import { removeDir, sleep, tempDataDir } from '../../test/helpers/faultline.js';
import { IdleDrain, type IdleDrainOptions } from './idle-drain.js';
import { walPages, WORKER_CHECKPOINT_BYTES } from '../db/index.js';

const EVENTS = 450;
const BATCH = 100;

async function waitFor(what: string, check: () => Promise<boolean>, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

describe('IdleDrain: the main thread helping drain a backlog while ingest is quiet', () => {
  let dataDir: string;
  let services: Services;
  let drain: IdleDrain;

  beforeEach(async () => {
    dataDir = tempDataDir();
    const config = loadConfig({ dataDir }, {});
    services = await createServices(config);
    const { project } = await makeProject(services);
    // A backlog as ingest leaves it when the worker thread falls behind: more than two batches.
    const tasks = Array.from({ length: EVENTS }, (_, i) => {
      const eventId = i.toString(16).padStart(32, '0');
      return eventTask(project.id, eventId, { event_id: eventId, message: `${['cart', 'checkout', 'login'][i % 3]} failed`, level: 'error', platform: 'node' });
    });
    await services.queue.enqueue(INGEST_QUEUE, tasks);
    // Connections of its own, as `faultline start` gives it.
    drain = helper();
  });

  // The test runner's own memory is no measure of a server's: no limit unless a test sets one.
  let helperServices: Services | undefined;
  const helper = (opts: Partial<IdleDrainOptions> = {}) =>
    new IdleDrain(
      async () => (helperServices = await createServices(loadConfig({ dataDir }, {}), { migrate: false })),
      pino({ level: 'silent' }),
      { batchSize: BATCH, leaseMs: 60_000, checkMs: 100, maxRssMb: 1_000_000, ...opts },
    );

  afterEach(async () => {
    await drain.stop();
    await services.close();
    removeDir(dataDir);
  });

  const savedEvents = async () => Number((await services.database.db.selectFrom('events').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);

  it('saves the whole backlog, grouped and acked, once no requests arrive', async () => {
    drain.start();
    await waitFor('the backlog to drain', async () => {
      const stats = await services.queue.stats(INGEST_QUEUE);
      return stats.ready === 0 && stats.leased === 0;
    });
    expect(await savedEvents()).toBe(EVENTS);
    const groups = await services.database.db.selectFrom('groups').select(['title', 'times_seen']).orderBy('title').execute();
    expect(groups.map((g) => [g.title, Number(g.times_seen)])).toEqual([
      ['cart failed', 150],
      ['checkout failed', 150],
      ['login failed', 150],
    ]);
    expect((await services.queue.stats(INGEST_QUEUE)).dead).toBe(0);
    // A helper leaves faultline.db's checkpoints to the worker thread's checkpointing thread, and
    // runs one itself only past the worker's size (a checkpointing thread's connection: four times it).
    const sqlite = helperServices!.database.sqlite!;
    expect(sqlite.pragma('wal_autocheckpoint', { simple: true })).toBe(walPages(sqlite, WORKER_CHECKPOINT_BYTES));
  });

  it('leaves the backlog alone while ingest is busy, and drains it once requests stop', async () => {
    // About 10,000 accepted requests a second, far above the quiet rate.
    const busy = setInterval(() => {
      for (let i = 0; i < 50; i++) drain.accepted();
    }, 5);
    try {
      drain.start();
      await sleep(800);
      expect(await services.queue.stats(INGEST_QUEUE)).toMatchObject({ ready: EVENTS, leased: 0 });
      expect(await savedEvents()).toBe(0);
    } finally {
      clearInterval(busy);
    }
    await waitFor('the backlog to drain', async () => (await services.queue.stats(INGEST_QUEUE)).ready === 0);
    await drain.stop();
    expect(await savedEvents()).toBe(EVENTS);
  });

  it('collects its garbage in full as its heap grows, and still saves every event', async () => {
    await drain.stop();
    drain = helper({ gcEveryMb: 0.001 });
    drain.start();
    await waitFor('the backlog to drain', async () => (await services.queue.stats(INGEST_QUEUE)).ready === 0);
    await drain.stop();
    expect(await savedEvents()).toBe(EVENTS);
    // Every batch grows the heap by more than a kilobyte, and the end of helping collects once more.
    expect(drain.collections).toBeGreaterThan(EVENTS / BATCH);
  });

  it('does not help while the process holds more memory than its limit', async () => {
    await drain.stop();
    drain = helper({ maxRssMb: 1 });
    drain.start();
    await sleep(800);
    expect(await services.queue.stats(INGEST_QUEUE)).toMatchObject({ ready: EVENTS, leased: 0 });
    expect(await savedEvents()).toBe(0);
    expect(drain.collections).toBe(0);
  });
});
