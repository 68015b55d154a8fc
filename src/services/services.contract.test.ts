/**
 * Contract suites for the SQL-backed services (nodestore, tagstore, the buffer's SQL flush, search),
 * and the filesystem nodestore beside the SQL one, run once per SQL dialect: SQLite always, PostgreSQL and MySQL/MariaDB on the real servers when
 * their URLs are set (test/helpers/databases.ts). Each suite is written against the interface only.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sqlDialects, type TestDatabase } from '../../test/helpers/databases.js';
import { makeGroup, makeProject, testServices } from '../../test/helpers/services.js';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { removeDir, tempDataDir } from '../../test/helpers/faultline.js';
import { parseSearch } from './search/index.js';
import { FilesystemNodestoreBackend } from './nodestore/backends/filesystem.js';
import { SqlNodestoreBackend } from './nodestore/backends/sql.js';
import type { NodestoreBackend, NodestoreScan } from './nodestore/index.js';
import { decodeNode, EncodedNode, encodeNodeV1 } from './nodestore/codec.js';
import { BodyDictionaries } from './nodestore/dictionaries.js';

/** The one file called `name` somewhere under `dir` (the filesystem nodestore shards by hash). */
function findFile(dir: string, name: string): string {
  for (const entry of readdirSync(dir)) {
    const p = path.join(dir, entry);
    if (entry === name) return p;
    if (statSync(p).isDirectory()) {
      try {
        return findFile(p, name);
      } catch {
        /* not in this branch */
      }
    }
  }
  throw new Error(`${name} not found`);
}

for (const [dialect, makeDb] of Object.entries(sqlDialects())) {
describe(`SQL services on ${dialect}`, () => {
let s: Awaited<ReturnType<typeof testServices>>;
let database: TestDatabase;
let projectId: number;

beforeAll(async () => {
  database = await makeDb();
  s = await testServices(database.url);
  projectId = (await makeProject(s)).project.id;
});
afterAll(async () => {
  await s?.cleanup();
  await database?.drop();
});

// Every nodestore backend runs the same suite: the SQL table, and files in a temporary directory.
for (const kind of ['sql', 'filesystem'] as const) {
describe(`nodestore contract: ${kind}`, () => {
  let store: NodestoreBackend & NodestoreScan;
  let dir: string;
  beforeAll(() => {
    dir = tempDataDir();
    store = kind === 'sql' ? new SqlNodestoreBackend(s.database.db, s.database.dialect, s.bodyDictionaries) : new FilesystemNodestoreBackend(dir, s.bodyDictionaries);
  });
  afterAll(() => removeDir(dir));
  const raw = async (id: string): Promise<Buffer> =>
    kind === 'sql'
      ? (await s.database.db.selectFrom('nodestore_node').select('data').where('id', '=', id).executeTakeFirstOrThrow()).data
      : readFileSync(findFile(dir, encodeURIComponent(id).replace(/\./g, '%2E')));

  it('sets, gets, gets many, overwrites and deletes bodies', async () => {
    const body = { message: 'héllo', nested: { list: [1, 2, 3] }, big: 'x'.repeat(10_000) };
    await store.setMulti([{ id: `${kind}:n1`, data: body, timestamp: 1 }, { id: `${kind}:n2`, data: { a: 1 }, timestamp: 2 }]);
    expect(await store.get(`${kind}:n1`)).toEqual(body);
    const many = await store.getMulti([`${kind}:n1`, `${kind}:n2`, 'missing']);
    expect([...many.keys()].sort()).toEqual([`${kind}:n1`, `${kind}:n2`]);
    await store.setMulti([{ id: `${kind}:n2`, data: { a: 2 }, timestamp: 3 }]);
    expect(await store.get(`${kind}:n2`)).toEqual({ a: 2 });
    await store.delete([`${kind}:n1`, 'never-there']);
    expect(await store.get(`${kind}:n1`)).toBeNull();
    expect((await raw(`${kind}:n2`))[0]).toBe(2); // versioned body format: 2 is zstd-compressed JSON
    await store.delete([`${kind}:n2`]);
  });

  it('still reads bodies written in the first (deflate) format', async () => {
    const body = { message: 'from an earlier release', frames: Array.from({ length: 30 }, (_, i) => ({ lineno: i })) };
    const v1 = encodeNodeV1(body);
    expect(v1[0]).toBe(1);
    expect(decodeNode(v1)).toEqual(body);
    if (kind === 'sql') {
      await s.database.db.insertInto('nodestore_node').values({ id: 'sql:v1', data: v1, timestamp: 1 }).execute();
      expect(await store.get('sql:v1')).toEqual(body);
      await store.delete(['sql:v1']);
    }
  });

  it('reads bodies compressed with a project dictionary, which another process loads from the database', async () => {
    const writer = new BodyDictionaries(s.database.db, s.database.dialect, { sampleBytes: 256 });
    const body = (n: number) => ({ platform: 'node', exception: { values: [{ type: 'Error', value: `n=${n}`, stacktrace: { frames: [{ function: `step${n}`, filename: 'app.js' }] } }] } });
    await writer.ready(projectId);
    let bytes = writer.encode(projectId, body(0));
    let n = 0;
    while (bytes[0] !== 3) bytes = writer.encode(projectId, body(++n));
    await writer.write(writer.unwritten());
    await store.setMulti([{ id: `${kind}:d1`, data: new EncodedNode(bytes), timestamp: 1 }]);
    const reader = new BodyDictionaries(s.database.db, s.database.dialect);
    const other = kind === 'sql' ? new SqlNodestoreBackend(s.database.db, s.database.dialect, reader) : new FilesystemNodestoreBackend(dir, reader);
    expect(await other.get(`${kind}:d1`)).toEqual(body(n));
    expect((await other.getMulti([`${kind}:d1`])).get(`${kind}:d1`)).toEqual(body(n));
    expect((await raw(`${kind}:d1`))[0]).toBe(3);
    // What a migration copies: the stored bytes, dictionary reference and all.
    const encoded = await other.getEncodedMulti([`${kind}:d1`, 'missing']);
    expect([...encoded.keys()]).toEqual([`${kind}:d1`]);
    expect(encoded.get(`${kind}:d1`)!.equals(bytes)).toBe(true);
    await store.delete([`${kind}:d1`]);
  });

  it('keeps awkward ids apart and lists every body once, in pages, with its timestamp', async () => {
    const ids = ['.', '..', 'a/b', 'e:1:ff', 'ü', ...Array.from({ length: 23 }, (_, i) => `e:2:${String(i).padStart(32, '0')}`)];
    await store.setMulti(ids.map((id, i) => ({ id, data: { i }, timestamp: 1_700_000_000_000 + i * 1000 })));
    for (const [i, id] of ids.entries()) expect(await store.get(id)).toEqual({ i });
    const seen: { id: string; timestamp: number }[] = [];
    let cursor: string | null = null;
    do {
      const page: Awaited<ReturnType<typeof store.scan>> = await store.scan(cursor, 5);
      seen.push(...page.items);
      cursor = page.next;
    } while (cursor !== null);
    expect(seen.map((x) => x.id).sort()).toEqual([...ids].sort());
    expect(seen.find((x) => x.id === 'e:1:ff')!.timestamp).toBe(1_700_000_000_000 + 3000);
    expect(await store.count()).toBe(ids.length);
    await store.delete(ids);
    expect(await store.count()).toBe(0);
  });
});
}

describe('tagstore contract: sql', () => {
  it('counts values, keeps first and last seen, and summarizes keys', async () => {
    const g = await makeGroup(s, projectId);
    const inc = (key: string, value: string, firstSeen = 1000, lastSeen = 2000) => ({ projectId, groupId: g, key, value, count: 1, firstSeen, lastSeen });
    await s.tagstore.incrMulti([inc('browser', 'Chrome'), inc('browser', 'Chrome'), inc('user', 'id:1')]);
    await s.tagstore.incrMulti([inc('browser', 'Chrome', 500, 900), inc('browser', 'Firefox', 3000, 4000)]);
    const values = await s.tagstore.getGroupTagValues(g, 'browser', 10);
    expect(values.map((v) => [v.value, v.count, v.firstSeen, v.lastSeen])).toEqual([['Chrome', 3, 500, 2000], ['Firefox', 1, 3000, 4000]]);
    const keys = await s.tagstore.getGroupTagKeys(g, 1);
    expect(keys.find((k) => k.key === 'browser')).toMatchObject({ totalValues: 4, uniqueValues: 2, topValues: [{ value: 'Chrome', count: 3 }] });
  });
});

describe('tagstore contract: awkward values', () => {
  it('stores values with the characters of array and SQL syntax exactly as given', async () => {
    const g = await makeGroup(s, projectId);
    const awkward = ['a,b', '{x}', '"quoted"', "it's", 'back\\slash', 'NULL', 'null', '', ' padded ', 'ü漢字', 'tab\tnew\nline', '(1,2)'];
    await s.tagstore.incrMulti(awkward.map((value, i) => ({ projectId, groupId: g, key: 'k', value, count: i + 1, firstSeen: 1, lastSeen: 2 })));
    const values = await s.tagstore.getGroupTagValues(g, 'k', 100);
    expect(new Map(values.map((v) => [v.value, v.count]))).toEqual(new Map(awkward.map((value, i) => [value, i + 1])));
  });
});

describe('buffer contract: memory', () => {
  it('collapses increments and writes them in one flush, recounting users from the tagstore', async () => {
    const g = await makeGroup(s, projectId, { first_seen: 5000, last_seen: 5000 });
    const user = (value: string) => ({ projectId, groupId: g, key: 'user', value, count: 1, firstSeen: 1, lastSeen: 1 });
    await s.tagstore.incrMulti([user('id:1'), user('id:2'), user('id:1')]);
    await s.buffer.incr([
      { groupId: g, timesSeen: 1, firstSeen: 6000, lastSeen: 6000 },
      { groupId: g, timesSeen: 2, firstSeen: 4000, lastSeen: 7000, lastRelease: '2.0' },
    ]);
    expect(await s.buffer.flush(s.database.db)).toBe(1);
    const row = await s.database.db.selectFrom('groups').selectAll().where('id', '=', g).executeTakeFirstOrThrow();
    expect([row.times_seen, row.users_seen, row.first_seen, row.last_seen, row.last_release]).toEqual([3, 2, 4000, 7000, '2.0']);
    expect(await s.buffer.flush(s.database.db)).toBe(0);
  });
});

describe('search contract: sql', () => {
  it('filters by status, level, tags and text, and sorts', async () => {
    const { project } = await makeProject(s, 'acme', 'searchable');
    const now = Date.now();
    const a = await makeGroup(s, project.id, { title: 'TypeError: x is undefined', level: 'error', times_seen: 10, last_seen: now - 1000 });
    const b = await makeGroup(s, project.id, { title: 'Timeout talking to db', level: 'warning', times_seen: 3, last_seen: now, status: 'resolved' });
    const c = await makeGroup(s, project.id, { title: 'KeyError: user', level: 'error', times_seen: 50, last_seen: now - 5000, first_seen: now - 30 * 86_400_000 });
    await s.tagstore.incrMulti([{ projectId: project.id, groupId: a, key: 'browser', value: 'Chrome 120', count: 1, firstSeen: now, lastSeen: now }]);
    const q = async (query: string, sort: 'date' | 'freq' | 'new' | 'user' = 'date') =>
      (await s.search.queryIssues({ projectIds: [project.id], search: parseSearch(query), sort, offset: 0, limit: 10, now })).groupIds;
    expect(await q('is:unresolved')).toEqual([a, c]);
    expect(await q('')).toEqual([b, a, c]);
    expect(await q('', 'freq')).toEqual([c, a, b]);
    expect(await q('level:warning')).toEqual([b]);
    expect(await q('!level:warning')).toEqual([a, c]);
    expect(await q('browser:"Chrome 120"')).toEqual([a]);
    expect(await q('browser:Chrome*')).toEqual([a]);
    expect(await q('has:browser')).toEqual([a]);
    expect(await q('timeout')).toEqual([b]);
    expect(await q('timesSeen:>5')).toEqual([a, c]);
    expect(await q('age:-7d')).toEqual([b, a]);
    expect(await q('level:[warning, error] is:resolved')).toEqual([b]);
    const page = await s.search.queryIssues({ projectIds: [project.id], search: parseSearch(''), sort: 'date', offset: 1, limit: 1, now });
    expect(page).toEqual({ groupIds: [a], hasMore: true });
  });
});
});
}
