/**
 * The `faultline` executable's first lines: run as a program, sh starts node with a 4 MB young
 * generation and at most two malloc arenas (docs/configuration.md, Memory), and an arena count the
 * environment already sets wins; `faultline start` on two cores or fewer also collects garbage on
 * its own threads. A stand-in `node` first on PATH records what it was started with, and a
 * stand-in `nproc` says how many cores there are.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT } from './helpers/faultline.js';

describe('bin/faultline.js', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'faultline-launcher-'));
  writeFileSync(path.join(dir, 'node'), '#!/bin/sh\necho "arenas=${MALLOC_ARENA_MAX:-unset} args=$*"\n');
  writeFileSync(path.join(dir, 'nproc'), '#!/bin/sh\necho "${CORES:-8}"\n');
  chmodSync(path.join(dir, 'node'), 0o755);
  chmodSync(path.join(dir, 'nproc'), 0o755);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const bin = path.join(ROOT, 'bin/faultline.js');

  const launch = (env: Record<string, string>, args = ['start', '--port', '9123']) => {
    const r = spawnSync(bin, args, {
      env: { PATH: `${dir}:/usr/bin:/bin`, ...env },
      encoding: 'utf8',
    });
    expect(r.status, r.stderr).toBe(0);
    return r.stdout.trim();
  };

  it('starts node with a 4 MB young generation and two malloc arenas, passing the arguments on', () => {
    expect(launch({})).toBe(`arenas=2 args=--max-semi-space-size=4 ${bin} start --port 9123`);
  });

  it('keeps an arena count the environment sets', () => {
    expect(launch({ MALLOC_ARENA_MAX: '8' })).toMatch(/^arenas=8 /);
  });

  it('collects garbage on the threads themselves for `start` on two cores or fewer, and only there', () => {
    expect(launch({ CORES: '2' })).toBe(`arenas=2 args=--max-semi-space-size=4 --single-threaded-gc ${bin} start --port 9123`);
    expect(launch({ CORES: '1' })).toContain(' --single-threaded-gc ');
    expect(launch({ CORES: '4' })).not.toContain('single-threaded-gc');
    expect(launch({ CORES: '2' }, ['worker'])).toBe(`arenas=2 args=--max-semi-space-size=4 ${bin} worker`);
  });
});
