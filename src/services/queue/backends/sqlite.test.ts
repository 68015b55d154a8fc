/**
 * The embedded queue's files: a queue.db written by a previous version is converted on open, losing
 * nothing; payloads live in segment files that go once their tasks are done.
 */
import { existsSync, readdirSync, statSync, truncateSync } from 'node:fs';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { removeDir, tempDataDir } from '../../../../test/helpers/faultline.js';
import { SqliteQueueBackend } from './sqlite.js';

let dir = '';
afterEach(() => removeDir(dir));

describe('SqliteQueueBackend file format', () => {
  it('converts a version 1 file (payload inside the task row), keeping tasks, leases, attempts and dead letters', async () => {
    dir = tempDataDir();
    const old = new BetterSqlite3(path.join(dir, 'queue.db'));
    // The version 1 schema, as Faultline 0.1 created it.
    old.exec(`
      CREATE TABLE tasks (id INTEGER PRIMARY KEY AUTOINCREMENT, queue TEXT NOT NULL, payload BLOB NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0, available_at INTEGER NOT NULL, created INTEGER NOT NULL, last_error TEXT);
      CREATE INDEX tasks_ready ON tasks (queue, available_at, id);
      CREATE TABLE dead_letters (id INTEGER PRIMARY KEY, queue TEXT NOT NULL, payload BLOB NOT NULL, attempts INTEGER NOT NULL,
        created INTEGER NOT NULL, died INTEGER NOT NULL, last_error TEXT);`);
    const insert = old.prepare('INSERT INTO tasks (queue, payload, attempts, available_at, created) VALUES (?, ?, ?, ?, ?)');
    insert.run('ingest', Buffer.from('first'), 0, 0, 1);
    insert.run('ingest', Buffer.from('second'), 2, 0, 2);
    insert.run('ingest', Buffer.from('leased'), 1, Date.now() + 600_000, 3);
    old.prepare('INSERT INTO dead_letters VALUES (9, ?, ?, 3, 1, 2, ?)').run('ingest', Buffer.from('dead'), 'boom');
    old.close();

    const q = new SqliteQueueBackend({ dataDir: dir, maxAttempts: 3 });
    expect(await q.stats('ingest')).toEqual({ ready: 2, leased: 1, dead: 1 });
    const got = await q.take('ingest', 10, 60_000);
    expect(got.map((t) => [t.payload.toString(), t.attempts])).toEqual([['first', 1], ['second', 3]]);
    // The third attempt of "second" fails: it joins the dead letters with its payload.
    await q.nack(got[1].id, 'still broken', 0);
    await q.ack([got[0].id]);
    expect(await q.stats('ingest')).toEqual({ ready: 0, leased: 1, dead: 2 });
    await q.close();

    // Opening again does not convert twice; the file now has the current page size.
    const again = new SqliteQueueBackend({ dataDir: dir, maxAttempts: 3 });
    expect(await again.stats('ingest')).toEqual({ ready: 0, leased: 1, dead: 2 });
    await again.close();
    const check = new BetterSqlite3(path.join(dir, 'queue.db'), { readonly: true });
    expect([check.pragma('page_size', { simple: true }), check.pragma('auto_vacuum', { simple: true })]).toEqual([16_384, 2]);
    check.close();
  });

  it('keeps using a file with 4 KB pages that another process has open, then converts it once it is free', async () => {
    dir = tempDataDir();
    const first = new SqliteQueueBackend({ dataDir: dir, maxAttempts: 3 });
    await first.close();
    // Make it an older file: 4 KB pages, no auto-vacuum.
    const old = new BetterSqlite3(path.join(dir, 'queue.db'));
    old.pragma('journal_mode = DELETE');
    old.pragma('page_size = 4096');
    old.pragma('auto_vacuum = NONE');
    old.exec('VACUUM');
    old.pragma('journal_mode = WAL');
    expect(old.pragma('page_size', { simple: true })).toBe(4096);
    const q = new SqliteQueueBackend({ dataDir: dir, maxAttempts: 3 }); // `old` still has it open
    await q.enqueue('ingest', [Buffer.from('kept')]);
    expect(old.pragma('page_size', { simple: true })).toBe(4096);
    await q.close();
    old.close();
    const reopened = new SqliteQueueBackend({ dataDir: dir, maxAttempts: 3 });
    expect((await reopened.take('ingest', 10, 60_000)).map((t) => t.payload.toString())).toEqual(['kept']);
    await reopened.close();
    const check = new BetterSqlite3(path.join(dir, 'queue.db'), { readonly: true });
    expect(check.pragma('page_size', { simple: true })).toBe(16_384);
    check.close();
  });

  it('keeps payloads in segment files, and deletes them once their tasks are done', async () => {
    dir = tempDataDir();
    const q = new SqliteQueueBackend({ dataDir: dir, maxAttempts: 3 });
    const payload = (i: number) => Buffer.alloc(100 * 1024, String.fromCharCode(97 + (i % 26)));
    for (let i = 0; i < 10; i++) await q.enqueue('ingest', Array.from({ length: 100 }, (_, j) => payload(i * 100 + j))); // 100 MB
    const logBytes = () => readdirSync(path.join(dir, 'queue-log')).reduce((n, f) => n + statSync(path.join(dir, 'queue-log', f)).size, 0);
    expect(logBytes()).toBe(1000 * 100 * 1024);
    // The bytes are not in queue.db (nor in its WAL).
    const dbBytes = () => ['queue.db', 'queue.db-wal'].reduce((n, f) => n + (existsSync(path.join(dir, f)) ? statSync(path.join(dir, f)).size : 0), 0);
    expect(dbBytes()).toBeLessThan(5 * 1024 * 1024);
    let n = 0;
    for (;;) {
      const tasks = await q.take('ingest', 100, 60_000);
      if (tasks.length === 0) break;
      for (const t of tasks) expect(t.payload.equals(payload(n++))).toBe(true);
      await q.ack(tasks.map((t) => t.id));
    }
    expect(n).toBe(1000);
    // An idle worker keeps polling; a second later the done segments are gone, and the one being
    // written is closed and deleted too.
    for (let i = 0; i < 4 && logBytes() > 0; i++) {
      await new Promise((r) => setTimeout(r, 1_050));
      await q.take('ingest', 100, 60_000);
    }
    expect(logBytes()).toBe(0);
    await q.enqueue('ingest', [Buffer.from('after the burst')]);
    expect((await q.take('ingest', 10, 60_000)).map((t) => t.payload.toString())).toEqual(['after the burst']);
    await q.close();
  });

  it('reads tasks a version 2 file holds in its payload table, beside new ones in the log', async () => {
    dir = tempDataDir();
    const first = new SqliteQueueBackend({ dataDir: dir, maxAttempts: 3 });
    await first.close();
    // Turn it back into a version 2 file with one queued task, as the previous release left it.
    const old = new BetterSqlite3(path.join(dir, 'queue.db'));
    old.exec(`DROP INDEX tasks_log_segment; DROP TABLE payload_log;
      ALTER TABLE tasks DROP COLUMN log_segment; ALTER TABLE tasks DROP COLUMN log_offset; ALTER TABLE tasks DROP COLUMN log_length;`);
    old.pragma('user_version = 2');
    const id = old.prepare("INSERT INTO tasks (queue, available_at, created) VALUES ('ingest', 0, 1)").run().lastInsertRowid;
    old.prepare('INSERT INTO task_payloads (id, payload) VALUES (?, ?)').run(id, Buffer.from('queued by the previous release'));
    old.close();

    const q = new SqliteQueueBackend({ dataDir: dir, maxAttempts: 1 });
    await q.enqueue('ingest', [Buffer.from('queued now')]);
    const tasks = await q.take('ingest', 10, 60_000);
    expect(tasks.map((t) => t.payload.toString())).toEqual(['queued by the previous release', 'queued now']);
    // Dead letters keep their payload whichever place it came from.
    for (const t of tasks) await q.nack(t.id, 'boom', 0);
    expect(await q.stats('ingest')).toEqual({ ready: 0, leased: 0, dead: 2 });
    await q.close();
    const check = new BetterSqlite3(path.join(dir, 'queue.db'), { readonly: true });
    const dead = check.prepare('SELECT payload FROM dead_letters ORDER BY id').all() as { payload: Buffer }[];
    expect(dead.map((d) => d.payload.toString())).toEqual(['queued by the previous release', 'queued now']);
    check.close();
  });

  it('hands out a payload cut short (a segment that lost its tail) instead of failing the take', async () => {
    dir = tempDataDir();
    const q = new SqliteQueueBackend({ dataDir: dir, maxAttempts: 3 });
    await q.enqueue('ingest', [Buffer.from('whole'), Buffer.from('cut short')]);
    const [segment] = readdirSync(path.join(dir, 'queue-log'));
    truncateSync(path.join(dir, 'queue-log', segment), 8);
    const tasks = await q.take('ingest', 10, 60_000);
    expect(tasks.map((t) => t.payload.toString())).toEqual(['whole', 'cut']);
    await q.close();
  });

  it('keeps the payloads of producers in several threads or processes apart, across segments', async () => {
    dir = tempDataDir();
    // Each backend has its own connections and files, as `faultline start`'s main and worker threads do.
    const a = new SqliteQueueBackend({ dataDir: dir, maxAttempts: 3 });
    const b = new SqliteQueueBackend({ dataDir: dir, maxAttempts: 3 });
    const consumer = new SqliteQueueBackend({ dataDir: dir, maxAttempts: 3 });
    const payload = (who: string, i: number) => Buffer.concat([Buffer.from(`${who}${i}:`), Buffer.alloc(400 * 1024 + i, who)]);
    // 2 × 60 payloads of 400 KB: more than one 32 MB segment, written turn by turn.
    await Promise.all([
      (async () => { for (let i = 0; i < 60; i++) await a.enqueue('ingest', [payload('a', i)]); })(),
      (async () => { for (let i = 0; i < 60; i += 2) await b.enqueue('ingest', [payload('b', i), payload('b', i + 1)]); })(),
    ]);
    expect(readdirSync(path.join(dir, 'queue-log')).length).toBeGreaterThan(1);
    const seen: string[] = [];
    for (;;) {
      const tasks = await consumer.take('ingest', 25, 60_000);
      if (tasks.length === 0) break;
      for (const t of tasks) {
        const head = t.payload.subarray(0, t.payload.indexOf(':')).toString();
        const [who, i] = [head[0], Number(head.slice(1))];
        expect(t.payload.equals(payload(who, i)), head).toBe(true);
        seen.push(head);
      }
      await consumer.ack(tasks.map((t) => t.id));
    }
    expect(seen.sort()).toEqual([...Array.from({ length: 60 }, (_, i) => `a${i}`), ...Array.from({ length: 60 }, (_, i) => `b${i}`)].sort());
    for (const q of [a, b, consumer]) await q.close();
  });

  it('reads a payload into its reused buffer for readPayload, the same bytes as payload, at any size', async () => {
    dir = tempDataDir();
    const q = new SqliteQueueBackend({ dataDir: dir, maxAttempts: 3 });
    // A small one, one larger than the reused buffer (256 KB), and a small one after it.
    const payloads = [Buffer.from('{"a":1}'), Buffer.alloc(300_000, 0x61), Buffer.from('second small')];
    await q.enqueue('ingest', payloads);
    const tasks = await q.take('ingest', 10, 60_000);
    expect(tasks).toHaveLength(3);
    const copies = tasks.map((t) => t.readPayload!((bytes) => Buffer.from(bytes)));
    expect(copies).toEqual(payloads);
    expect(tasks.map((t) => t.payload)).toEqual(payloads);
    // The bytes handed to `use` are the reused buffer's: a later read overwrites what was not copied.
    const kept = tasks[0].readPayload!((bytes) => bytes);
    tasks[2].readPayload!((bytes) => bytes.length);
    expect(kept.toString()).not.toBe('{"a":1}');
    await q.close();
  });

  it('reads neighbouring payloads together for readPayload, and always the bytes of the task asked for', async () => {
    dir = tempDataDir();
    const q = new SqliteQueueBackend({ dataDir: dir, maxAttempts: 3 });
    const sizes = [10, 20_000, 5, 70_000, 1, 120_000, 300, 260_000, 15_000, 3];
    const made: Buffer[] = [];
    let n = 0;
    const next = (size: number) => {
      const b = Buffer.alloc(size, 0x30 + (n % 40));
      b.write(`#${n++}#`.slice(0, size));
      made.push(b);
      return b;
    };
    // Tasks arrive while others are being read: each take's reads stay within what was committed.
    await q.enqueue('ingest', sizes.slice(0, 4).map(next));
    const seen: Buffer[] = [];
    for (let round = 0; round < 4; round++) {
      const tasks = await q.take('ingest', 3, 60_000);
      for (const t of tasks) seen.push(t.readPayload!((bytes) => Buffer.from(bytes)));
      await q.enqueue('ingest', sizes.slice(4 + round * 2, 6 + round * 2).map(next));
      await q.ack(tasks.map((t) => t.id));
    }
    for (const t of await q.take('ingest', 100, 60_000)) seen.push(t.readPayload!((bytes) => Buffer.from(bytes)));
    expect(seen.map((b) => b.toString('latin1', 0, 8))).toEqual(made.map((b) => b.toString('latin1', 0, 8)));
    expect(seen).toEqual(made);
    await q.close();
  });

  it('tells a backlog above the limit from one below it, with other queues and finished tasks in between', async () => {
    dir = tempDataDir();
    const q = new SqliteQueueBackend({ dataDir: dir, maxAttempts: 3 });
    const some = (n: number, tag: string) => Array.from({ length: n }, (_, i) => Buffer.from(`${tag}${i}`));
    // ingest: 30 tasks, with 40 of another queue among them; then 25 ingest tasks done from the middle.
    await q.enqueue('ingest', some(10, 'a'));
    await q.enqueue('post-process', some(40, 'p'));
    await q.enqueue('ingest', some(20, 'b'));
    const taken = await q.take('ingest', 25, 60_000);
    await q.ack(taken.slice(5).map((t) => t.id));
    // Left: ingest 5 leased + 5 ready, post-process 40; ids still span 70.
    expect(await q.stats('ingest')).toEqual({ ready: 5, leased: 5, dead: 0 });
    expect(await q.stats('post-process')).toEqual({ ready: 40, leased: 0, dead: 0 });
    for (const limit of [0, 5, 9, 10, 39, 40, 69, 70, 1000]) {
      expect(await q.backlogAbove('ingest', limit)).toBe(10 > limit);
      expect(await q.backlogAbove('post-process', limit)).toBe(40 > limit);
      expect(await q.backlogAbove('notify', limit)).toBe(false);
    }
    await q.ack([...taken.slice(0, 5).map((t) => t.id), ...(await q.take('ingest', 10, 60_000)).map((t) => t.id)]);
    expect(await q.backlogAbove('ingest', 0)).toBe(false);
    await q.close();
  });

  it('writes a group commit of more task parts than one system call takes (IOV_MAX, 1,024), every byte in place', async () => {
    dir = tempDataDir();
    const q = new SqliteQueueBackend({ dataDir: dir, maxAttempts: 3 });
    // One event-loop turn of 1,500 requests, each a header line and a payload: 3,000 buffers.
    const sent = Array.from({ length: 1500 }, (_, i) => [Buffer.from(`{"n":${i}}\n`), Buffer.alloc(100 + (i % 7), 97 + (i % 26))]);
    await Promise.all(sent.map((parts) => q.enqueue('ingest', [parts])));
    const got: string[] = [];
    for (let tasks = await q.take('ingest', 500, 60_000); tasks.length; tasks = await q.take('ingest', 500, 60_000)) {
      got.push(...tasks.map((t) => t.payload.toString('latin1')));
      await q.ack(tasks.map((t) => t.id));
    }
    expect(got).toEqual(sent.map((parts) => Buffer.concat(parts).toString('latin1')));
    await q.close();
  });
});
