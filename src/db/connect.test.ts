import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterEach, describe, expect, test } from 'vitest';
import { loadConfig } from '../config/index.js';
import { SQLITE_PAGE_SIZE, walPages, WORKER_CHECKPOINT_BYTES } from './connect.js';
import { openDatabase } from './index.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function dataDir(): string {
  const d = mkdtempSync(path.join(tmpdir(), 'faultline-db-'));
  dirs.push(d);
  return d;
}

describe('the embedded database file', () => {
  test('is made with 16 KB pages, and checkpoints are sized in bytes whatever the page size', async () => {
    const dir = dataDir();
    const handle = await openDatabase(loadConfig({}, { FAULTLINE_DATA_DIR: dir }));
    try {
      const sqlite = handle.sqlite!;
      expect(sqlite.pragma('page_size', { simple: true })).toBe(SQLITE_PAGE_SIZE);
      expect(sqlite.pragma('auto_vacuum', { simple: true })).toBe(2); // incremental
      expect(sqlite.pragma('wal_autocheckpoint', { simple: true })).toBe((64 * 1024 * 1024) / SQLITE_PAGE_SIZE);
      expect(walPages(sqlite, WORKER_CHECKPOINT_BYTES)).toBe(WORKER_CHECKPOINT_BYTES / SQLITE_PAGE_SIZE);
    } finally {
      await handle.close();
    }
  });

  test('made by an earlier release keeps its 4 KB pages and gets checkpoints of the same size in bytes', async () => {
    const dir = dataDir();
    const old = new BetterSqlite3(path.join(dir, 'faultline.db'));
    old.pragma('page_size = 4096');
    old.exec('CREATE TABLE earlier (id INTEGER PRIMARY KEY)');
    old.close();
    const handle = await openDatabase(loadConfig({}, { FAULTLINE_DATA_DIR: dir }));
    try {
      const sqlite = handle.sqlite!;
      expect(sqlite.pragma('page_size', { simple: true })).toBe(4096);
      expect(sqlite.pragma('wal_autocheckpoint', { simple: true })).toBe((64 * 1024 * 1024) / 4096);
      expect(walPages(sqlite, WORKER_CHECKPOINT_BYTES)).toBe(WORKER_CHECKPOINT_BYTES / 4096);
    } finally {
      await handle.close();
    }
  });
});
