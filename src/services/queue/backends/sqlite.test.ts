/** The embedded queue's file format: a queue.db written by the previous version is converted on open, losing nothing. */
import { statSync } from 'node:fs';
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

  it('gives the space of a burst back to the file system once the queue is empty', async () => {
    dir = tempDataDir();
    const q = new SqliteQueueBackend({ dataDir: dir, maxAttempts: 3 });
    const payload = Buffer.alloc(100 * 1024, 'x');
    for (let i = 0; i < 10; i++) await q.enqueue('ingest', Array.from({ length: 100 }, () => payload)); // 100 MB
    for (;;) {
      const tasks = await q.take('ingest', 100, 60_000);
      if (tasks.length === 0) break;
      await q.ack(tasks.map((t) => t.id));
    }
    // An idle worker keeps polling; each empty take (at most once a second) gives 16 MB back.
    const freeBytes = () => {
      const db = new BetterSqlite3(path.join(dir, 'queue.db'), { readonly: true });
      const bytes = (db.pragma('freelist_count', { simple: true }) as number) * (db.pragma('page_size', { simple: true }) as number);
      db.close();
      return bytes;
    };
    expect(freeBytes()).toBeGreaterThan(80 * 1024 * 1024);
    for (let i = 0; i < 8 && freeBytes() > 64 * 1024 * 1024; i++) {
      await new Promise((r) => setTimeout(r, 1_050));
      await q.take('ingest', 100, 60_000);
    }
    await q.close(); // checkpoints, which truncates the file
    const size = statSync(path.join(dir, 'queue.db')).size;
    // At most the 64 MB of free pages kept for the next burst, plus the (empty) tables.
    expect(size).toBeLessThan(70 * 1024 * 1024);
  });
});
