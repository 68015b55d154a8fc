/**
 * The nodestore migration's copy and verification, between the real SQL store (SQLite) and the
 * real filesystem store: a resumed copy, bodies lost or changed in the destination counted as
 * such, and a destination write that lands during the re-check pause not counted. The migration
 * under live ingest, through the binary, is test/e2e/nodestore-migration.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeDir, tempDataDir } from '../../test/helpers/faultline.js';
import { testServices, type TestServices } from '../../test/helpers/services.js';
import { FilesystemNodestoreBackend } from '../services/nodestore/backends/filesystem.js';
import { SqlNodestoreBackend } from '../services/nodestore/backends/sql.js';
import { migrateNodestore } from './nodestore-migration.js';

describe('nodestore migration', () => {
  let s: TestServices;
  let dir: string;
  let sql: SqlNodestoreBackend;
  let files: FilesystemNodestoreBackend;
  const ids = Array.from({ length: 25 }, (_, i) => `e:1:${String(i).padStart(12, '0')}:${'a'.repeat(32)}`);

  beforeAll(async () => {
    s = await testServices();
    dir = tempDataDir();
    sql = new SqlNodestoreBackend(s.database.db, s.database.dialect, s.bodyDictionaries);
    files = new FilesystemNodestoreBackend(dir, s.bodyDictionaries);
    await sql.setMulti(ids.map((id, n) => ({ id, data: { message: `body ${n}`, n }, timestamp: 1_700_000_000_000 + n })));
  });
  afterAll(async () => {
    await s.cleanup();
    removeDir(dir);
  });

  const run = (o: { restart?: boolean; rechecks?: number } = {}) =>
    migrateNodestore({ from: sql, to: files, name: 'sql->filesystem', database: s.database, chunkSize: 10, recheckDelayMs: 20, ...o });

  it('copies every body in chunks, resumes from its checkpoint, and verifies', async () => {
    const progress: number[] = [];
    const first = await migrateNodestore({ from: sql, to: files, name: 'sql->filesystem', database: s.database, chunkSize: 10, onProgress: (phase, done) => phase === 'copy' && progress.push(done) });
    expect(first).toEqual({ copied: 25, verified: 25, missing: 0, different: 0 });
    expect(progress).toEqual([10, 20, 25]);
    expect((await files.get(ids[7]))?.message).toBe('body 7');
    // Done once: the checkpoint says so, and a second run only verifies.
    expect(await run()).toEqual({ copied: 25, verified: 25, missing: 0, different: 0 });
  });

  it('counts a body lost from the destination and one that differs', async () => {
    await files.delete([ids[3]]);
    await files.setMulti([{ id: ids[4], data: { message: 'changed behind our back', n: 4 }, timestamp: 1 }]);
    expect(await run({ rechecks: 2 })).toEqual({ copied: 25, verified: 25, missing: 1, different: 1 });
    // Copying again from the start repairs both.
    expect(await run({ restart: true })).toEqual({ copied: 25, verified: 25, missing: 0, different: 0 });
  });

  it('does not count a destination write that lands between two re-checks', async () => {
    await files.delete([ids[10]]);
    // The secondary's write arrives late, as a dual-write on a busy machine can: after the verify
    // pass and the first re-check have both found the body missing.
    let sawMissing = 0;
    const late = Object.create(files) as FilesystemNodestoreBackend;
    late.getMulti = async (wanted: string[]) => {
      const found = await files.getMulti(wanted);
      if (wanted.includes(ids[10]) && !found.has(ids[10]) && ++sawMissing === 2) {
        await files.setMulti([{ id: ids[10], data: { message: 'body 10', n: 10 }, timestamp: 1_700_000_000_010 }]);
      }
      return found;
    };
    const migrate = (rechecks: number) => migrateNodestore({ from: sql, to: late, name: 'sql->filesystem', database: s.database, chunkSize: 10, recheckDelayMs: 5, rechecks });
    expect(await migrate(3)).toEqual({ copied: 25, verified: 25, missing: 0, different: 0 });
    expect(sawMissing).toBe(2);
    // With a single re-check the same late write would have counted as missing.
    await files.delete([ids[10]]);
    sawMissing = 0;
    expect(await migrate(1)).toEqual({ copied: 25, verified: 25, missing: 1, different: 0 });
  });
});
