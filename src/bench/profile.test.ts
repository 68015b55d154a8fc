/** The profiling tools behind `bench --profile-worker`: the allocation sampler on a real process. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, test } from 'vitest';
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
