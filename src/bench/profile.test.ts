/** The profiling tools behind `bench --profile-worker`: the allocation sampler and the statement timer, on real processes. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, test } from 'vitest';
import pg from 'pg';
import { describeWithServer } from '../../test/helpers/servers.js';
import { formatPgStatements, readPgStatements, startPgStatements } from './pg-statements.js';
import { allocations } from './profile.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

test('the heap sampler names the function that allocated, short-lived garbage included', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'faultline-heap-'));
  try {
    const file = path.join(dir, 'p.heapprofile');
    // Everything makeGarbage allocates dies at once: only a profile that keeps collected objects sees it.
    const script = 'function makeGarbage() { for (let i = 0; i < 300000; i++) globalThis.last = { i, list: [i, i + 1] }; } makeGarbage();';
    const r = spawnSync(process.execPath, ['--import', path.join(root, 'dist/bench/heap-sampling.js'), '-e', script], {
      env: { ...process.env, FAULTLINE_HEAP_PROFILE: file },
      encoding: 'utf8',
    });
    expect(r.status, r.stderr).toBe(0);
    const rows = allocations(JSON.parse(readFileSync(file, 'utf8')).head);
    const [top] = rows;
    expect(top[0]).toMatch(/^makeGarbage /);
    expect(top[1]).toBeGreaterThan(1_000_000); // 300,000 objects and arrays: well over a megabyte
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the heap sampler, asked for survivors only, leaves out most of what died young and keeps what outlived a scavenge', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'faultline-heap-'));
  try {
    // makeGarbage's objects die at once; keepAlive's (as many) stay reachable to the end.
    const script = [
      'function makeGarbage() { for (let i = 0; i < 300000; i++) globalThis.last = { i, list: [i, i + 1] }; }',
      'const kept = [];',
      'function keepAlive() { for (let i = 0; i < 300000; i++) kept.push({ i, list: [i, i + 1] }); }',
      'makeGarbage(); keepAlive(); makeGarbage();',
    ].join('\n');
    const sample = (survivors: boolean) => {
      const file = path.join(dir, `${survivors}.heapprofile`);
      const r = spawnSync(process.execPath, ['--import', path.join(root, 'dist/bench/heap-sampling.js'), '-e', script], {
        env: { ...process.env, FAULTLINE_HEAP_PROFILE: file, ...(survivors ? { FAULTLINE_HEAP_SURVIVORS: '1' } : {}) },
        encoding: 'utf8',
      });
      expect(r.status, r.stderr).toBe(0);
      return new Map(allocations(JSON.parse(readFileSync(file, 'utf8')).head).map(([name, bytes]) => [name.split(' ')[0], bytes]));
    };
    const all = sample(false);
    const survived = sample(true);
    expect(survived.get('keepAlive')).toBeGreaterThan(1_000_000);
    expect(survived.get('keepAlive')).toBeGreaterThan(0.8 * all.get('keepAlive')!);
    // Young garbage that a full collection frees (several run while keepAlive grows the heap)
    // stays in the profile: about a fifth of makeGarbage's here.
    expect(survived.get('makeGarbage') ?? 0).toBeLessThan(0.3 * all.get('makeGarbage')!);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the statement timer counts each SQLite statement by its text, values lists folded, and every commit', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'faultline-sql-'));
  try {
    const file = path.join(dir, 'sql.json');
    const script = [
      "const Database = require('better-sqlite3');",
      "const db = new Database(':memory:');",
      "db.prepare('create table t (a, b)').run();",
      'for (let i = 0; i < 5; i++) {',
      "  db.prepare('begin').run();",
      "  db.prepare('insert into t values (?, ?), (?, ?)').run(i, i, i, i);",
      "  db.prepare('insert into t values (?, ?), (?, ?), (?, ?)').run(i, i, i, i, i, i);",
      "  db.prepare('commit').run();",
      '}',
      "db.prepare('select count(*) n from t').get();",
    ].join('\n');
    const r = spawnSync(process.execPath, ['--import', path.join(root, 'dist/bench/sql-timing.js'), '-e', script], {
      cwd: root,
      env: { ...process.env, FAULTLINE_SQL_TIMING: file },
      encoding: 'utf8',
    });
    expect(r.status, r.stderr).toBe(0);
    const timing = JSON.parse(readFileSync(file, 'utf8')) as { statements: { sql: string; count: number; ms: number }[]; commits: number[] };
    const bySql = new Map(timing.statements.map((s) => [s.sql, s]));
    // Two and three rows are one statement once their values lists are folded.
    expect(bySql.get('insert into t values (..)')?.count).toBe(10);
    expect(bySql.get('commit')?.count).toBe(5);
    expect(bySql.get('select count(*) n from t')?.count).toBe(1);
    expect(timing.commits).toHaveLength(5);
    expect(timing.commits[0]).toBeGreaterThanOrEqual(timing.commits[4]); // slowest first
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

describeWithServer('PostgreSQL statement times for --sql', 'FAULTLINE_TEST_POSTGRES_URL', (url) => {
  test("reads the statements' execution time from pg_stat_statements, or says how to load it", async () => {
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    try {
      const preload = (await c.query<{ v: string }>(`select current_setting('shared_preload_libraries') as v`)).rows[0].v;
      if (!preload.includes('pg_stat_statements')) {
        // As on a stock server: the extension's view cannot work, so the profile stops before it starts.
        await expect(startPgStatements(url)).rejects.toThrow(/shared_preload_libraries = 'pg_stat_statements'.*restart/);
        return;
      }
      await startPgStatements(url);
      for (let i = 0; i < 3; i++) await c.query('select $1::int + 1 as probe_sum', [i]);
      const probe = (await readPgStatements(url)).find((s) => s.query.includes('probe_sum'));
      expect(probe?.calls).toBe(3);
    } finally {
      await c.end();
    }
  });

  test('reports each statement per event, most time first, with the total', () => {
    const lines = formatPgStatements(
      [
        { query: 'insert into events values ($1)', calls: 10, ms: 20 },
        { query: 'select 1', calls: 100, ms: 5 },
      ],
      1000,
    );
    expect(lines[0]).toMatch(/25 ms in all, 25\.0 µs per event$/);
    expect(lines[1]).toMatch(/^ +20 ms +20\.0 µs\/event +10× +insert into events/);
    expect(lines[2]).toMatch(/^ +5 ms +5\.0 µs\/event +100× +select 1$/);
  });
});
