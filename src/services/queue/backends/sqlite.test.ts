/** The embedded queue's file format: a queue.db written by the previous version is converted on open, losing nothing. */
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

    // Opening again does not convert twice.
    const again = new SqliteQueueBackend({ dataDir: dir, maxAttempts: 3 });
    expect(await again.stats('ingest')).toEqual({ ready: 0, leased: 1, dead: 2 });
    await again.close();
  });
});
