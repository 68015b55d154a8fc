/**
 * The delegator over real nodestore backends (the SQL table on each dialect of sqlDialects(), and
 * files): the primary's answer is returned, writes reach every secondary, a slow, failing or wrong
 * secondary is recorded (timeout / error / low similarity) without touching the caller, records
 * travel through the durable queue into `delegator_calls` and the report, and the primary and the
 * sampling can be switched at run time through SQL.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sqlDialects, type TestDatabase } from '../../../test/helpers/databases.js';
import { removeDir, sleep, tempDataDir, waitFor } from '../../../test/helpers/faultline.js';
import { testServices } from '../../../test/helpers/services.js';
import { FilesystemNodestoreBackend } from '../nodestore/backends/filesystem.js';
import { SqlNodestoreBackend } from '../nodestore/backends/sql.js';
import type { NodestoreBackend } from '../nodestore/index.js';
import {
  buildReport,
  createDelegator,
  DelegatorControl,
  DelegatorRecorder,
  drainDelegatorCalls,
  writeSettings,
  type DelegatorCallRecord,
  type DelegatorRouter,
} from './index.js';

const fixed = (primary: string, secondaries: string[]): DelegatorRouter => ({ primary: () => primary, secondaries: () => secondaries, sampled: () => true });

for (const [dialect, makeDb] of Object.entries(sqlDialects())) {
describe(`delegator over nodestore backends on ${dialect}`, () => {
  let s: Awaited<ReturnType<typeof testServices>>;
  let database: TestDatabase;
  let dir: string;
  let sqlStore: SqlNodestoreBackend;
  let fsStore: FilesystemNodestoreBackend;

  beforeAll(async () => {
    database = await makeDb();
    s = await testServices(database.url);
    dir = tempDataDir();
    sqlStore = new SqlNodestoreBackend(s.database.db, s.database.dialect, s.bodyDictionaries);
    fsStore = new FilesystemNodestoreBackend(dir, s.bodyDictionaries);
  });
  afterAll(async () => {
    await s?.cleanup();
    await database?.drop();
    removeDir(dir);
  });

  it('answers from the primary, dual-writes to the secondary, and scores equal answers 1', async () => {
    const records: DelegatorCallRecord[] = [];
    const d = createDelegator<NodestoreBackend>({ service: 'nodestore', backends: { sql: sqlStore, filesystem: fsStore }, router: fixed('sql', ['filesystem']), record: (r) => records.push(...r), writeMethods: ['setMulti', 'delete'] });
    const body = { message: 'boom', exception: { values: [{ type: 'Error', value: 'x' }] } };
    await d.setMulti([{ id: 'e:1:aa', data: body, timestamp: 1 }, { id: 'e:1:bb', data: { n: 2 }, timestamp: 2 }]);
    await waitFor(async () => records.filter((r) => r.method === 'setMulti').length === 2, 5_000, 'setMulti records');
    expect(await fsStore.get('e:1:aa')).toEqual(body);
    expect(await d.get('e:1:aa')).toEqual(body);
    expect((await d.getMulti(['e:1:aa', 'e:1:bb', 'e:1:cc'])).size).toBe(2);
    await d.delete(['e:1:bb']);
    await waitFor(async () => records.filter((r) => r.method === 'delete').length === 2, 5_000, 'delete records');
    expect(await fsStore.get('e:1:bb')).toBeNull();
    // Shadow reads are recorded when they finish, in whatever order that is.
    const secondaryReads = () => records.filter((r) => r.method !== 'setMulti' && r.method !== 'delete' && r.role === 'secondary');
    await waitFor(async () => secondaryReads().length === 2, 5_000, 'secondary read records');
    const reads = secondaryReads().map((r) => [r.method, r.backend, r.similarity, r.error]);
    expect(reads.sort((a, b) => String(a[0]).localeCompare(String(b[0])))).toEqual([['get', 'filesystem', 1, null], ['getMulti', 'filesystem', 1, null]]);
    expect(records.every((r) => r.latencyMs >= 0 && r.service === 'nodestore')).toBe(true);
  });

  it('records a slow, failing or wrong secondary in the report without touching the caller', async () => {
    const body = { message: 'report me', list: [1, 2, 3, 4] };
    await sqlStore.setMulti([{ id: 'e:7:r1', data: body, timestamp: 1 }]);
    let slowFinished = false;
    const slow = { ...fsStore, get: async () => { await sleep(2_000); slowFinished = true; return body; } } as unknown as NodestoreBackend;
    const failing = { get: async () => { throw new Error('disk on fire'); } } as unknown as NodestoreBackend;
    const wrong = { get: async () => ({ message: 'report me', list: [1, 2, 3, 5] }) } as unknown as NodestoreBackend;
    const recorder = new DelegatorRecorder(s.queue, { flushMs: 50 });
    const d = createDelegator<NodestoreBackend>({
      service: `test-${dialect}`,
      backends: { sql: sqlStore, slow, failing, wrong },
      router: fixed('sql', ['slow', 'failing', 'wrong']),
      record: recorder.record,
      timeoutMs: 200,
      scopeOf: () => ({ projectId: 7 }),
    });
    for (let i = 0; i < 3; i++) {
      expect(await d.get('e:7:r1')).toEqual(body); // the primary's answer, every time
      expect(slowFinished).toBe(false); // returned while the slow secondary was still sleeping
    }
    let rows = 0;
    await waitFor(async () => {
      await recorder.flush();
      rows += await drainDelegatorCalls(s.queue, s.database.db);
      return rows >= 12;
    }, 10_000, 'delegator_calls rows');
    await recorder.close();
    const report = await buildReport(s.database.db, { service: `test-${dialect}`, bucketMs: 60_000 });
    const get = report.methods.find((m) => m.method === 'get')!;
    expect(get.calls).toBe(3);
    const by = Object.fromEntries(get.backends.map((b) => [b.backend, b]));
    expect(by.sql).toMatchObject({ role: 'primary', calls: 3, errors: 0, timeouts: 0, meanSimilarity: 1 });
    expect(by.sql.latencyMs.p50).not.toBeNull();
    expect(by.slow).toMatchObject({ role: 'secondary', timeouts: 3, errors: 0, meanSimilarity: null });
    expect(by.failing).toMatchObject({ errors: 3, timeouts: 0 });
    expect(by.wrong.meanSimilarity).toBeCloseTo(0.5 + 0.5 * (3 + 0.8) / 4);
    expect(by.wrong.histogram[9]).toBe(3);
    expect(by.wrong.deltaMs!.p50).not.toBeNull();
    expect(by.wrong.heatmap).toHaveLength(1);
    const stored = await s.database.db.selectFrom('delegator_calls').selectAll().where('backend', '=', 'failing').executeTakeFirstOrThrow();
    expect(stored).toMatchObject({ project_id: 7, role: 'secondary' });
    expect(stored.error).toContain('disk on fire');
  });

  it('switches the primary and the sampling at run time through SQL; writes are mirrored even unsampled', async () => {
    const defaults = { primary: 'sql', secondaries: ['filesystem'], sampleRate: 0, organizations: [], projects: [] };
    const control = new DelegatorControl(s.database.db, { nodestore: defaults }, { nodestore: ['sql', 'filesystem'] });
    await control.refresh();
    const records: DelegatorCallRecord[] = [];
    const d = createDelegator<NodestoreBackend>({
      service: 'nodestore',
      backends: { sql: sqlStore, filesystem: fsStore },
      router: control,
      record: (r) => records.push(...r),
      writeMethods: ['setMulti', 'delete'],
      scopeOf: (_m, args) => ({ projectId: Number(String((args[0] as any)?.[0]?.id ?? args[0]).split(':')[1]) }),
    });
    await d.setMulti([{ id: 'e:5:only-dual', data: { v: 1 }, timestamp: 1 }]);
    await waitFor(async () => (await fsStore.get('e:5:only-dual')) !== null, 5_000, 'mirrored write');
    expect(records).toHaveLength(0); // sampleRate 0: mirrored, not recorded

    await fsStore.setMulti([{ id: 'e:5:fs-only', data: { from: 'fs' }, timestamp: 1 }]);
    expect(await d.get('e:5:fs-only')).toBeNull();
    await writeSettings(s.database.db, 'nodestore', { primary: 'filesystem', projects: [5] });
    await control.refresh();
    expect(control.primary('nodestore')).toBe('filesystem');
    expect(control.secondaries('nodestore')).toEqual(['sql']); // reads switched, the old store still written
    expect(await d.get('e:5:fs-only')).toEqual({ from: 'fs' });
    expect(control.sampled('nodestore', { projectId: 5 })).toBe(true);
    expect(control.sampled('nodestore', { projectId: 6 })).toBe(false);
    // A stored primary this process does not have is ignored rather than breaking every call.
    await writeSettings(s.database.db, 'nodestore', { primary: 's3' });
    await control.refresh();
    expect(control.primary('nodestore')).toBe('sql');
    await writeSettings(s.database.db, 'nodestore', { primary: null, projects: null });
  });
});
}
