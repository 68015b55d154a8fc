import { mkdtempSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterEach, describe, expect, test, vi } from 'vitest';
import { WalCheckpointer } from './checkpointer.js';

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0).reverse()) c();
});

/** A database file in WAL mode with 4 KB pages, as a writer's connection. */
function walDatabase(): { conn: BetterSqlite3.Database; file: string } {
  const dir = mkdtempSync(path.join(tmpdir(), 'faultline-checkpoint-'));
  const file = path.join(dir, 'faultline.db');
  const conn = new BetterSqlite3(file);
  conn.pragma('page_size = 4096');
  conn.pragma('journal_mode = WAL');
  conn.exec('CREATE TABLE bodies (id INTEGER PRIMARY KEY, data BLOB)');
  cleanups.push(() => {
    if (conn.open) conn.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { conn, file };
}

/** Pages in the log now, as a passive checkpoint from another connection reports them. */
function logPages(file: string): number {
  const other = new BetterSqlite3(file);
  try {
    return (other.pragma('wal_checkpoint(PASSIVE)') as { log: number }[])[0].log;
  } finally {
    other.close();
  }
}

describe('WalCheckpointer', () => {
  test('keeps the log near its target while a writer commits, and lets it start over', async () => {
    const { conn, file } = walDatabase();
    const target = 256 * 1024; // 64 pages of 4 KB; each commit below writes about 22
    const cp = new WalCheckpointer(conn, target, () => {
      throw new Error('the thread failed');
    });
    const insert = conn.prepare('INSERT INTO bodies (data) VALUES (?)');
    const commit = conn.transaction(() => {
      for (let i = 0; i < 20; i++) insert.run(Buffer.alloc(4000, i));
    });
    for (let i = 0; i < 60; i++) {
      await cp.beforeWrite();
      commit();
      cp.committed();
    }
    await cp.close();
    expect(cp.runs).toBeGreaterThanOrEqual(5);
    // Left to the connection, the log would have grown to its backstop of 256 pages; a writer that
    // did not wait for the checkpoint would never let it start over.
    expect(logPages(file)).toBeLessThan(2 * 64);
    expect(conn.prepare('SELECT COUNT(*) AS n FROM bodies').get()).toEqual({ n: 1200 });
    // The connection's own checkpoints stay as a backstop only.
    expect(conn.pragma('wal_autocheckpoint', { simple: true })).toBe(4 * 64);
  });

  test('holds the next write until the running checkpoint is done', async () => {
    const { conn } = walDatabase();
    const cp = new WalCheckpointer(conn, 4096, () => undefined);
    conn.prepare('INSERT INTO bodies (data) VALUES (?)').run(Buffer.alloc(100_000));
    // The first checkpoint comes after eight commits, before any has measured the log.
    for (let i = 0; i < 8; i++) cp.committed();
    expect(cp.runs).toBe(0);
    await cp.beforeWrite();
    expect(cp.runs).toBe(1);
    await cp.close();
  });

  test('gives the checkpoints back to the connection when its thread cannot open the database', async () => {
    const { conn, file } = walDatabase();
    renameSync(file, `${file}.moved`); // the thread opens the file by name, and must find it
    cleanups.push(() => renameSync(`${file}.moved`, file));
    const fallback = vi.fn(() => conn.pragma('wal_autocheckpoint = 1000'));
    const cp = new WalCheckpointer(conn, 256 * 1024, fallback);
    await vi.waitFor(() => expect(fallback).toHaveBeenCalledTimes(1), { timeout: 5000 });
    expect(conn.pragma('wal_autocheckpoint', { simple: true })).toBe(1000);
    for (let i = 0; i < 20; i++) cp.committed();
    await cp.beforeWrite();
    expect(cp.runs).toBe(0);
    await cp.close();
  });
});
