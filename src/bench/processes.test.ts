import { spawn } from 'node:child_process';
import { describe, expect, test } from 'vitest';
import { binNodeFlags, commandCpu, isLocal, threadSchedule } from './processes.js';

describe('CPU of the servers beside the benchmark', () => {
  test('counts what a server spent, including its children that exited (PostgreSQL backends)', async () => {
    const before = commandCpu(['sh', 'no-such-command']);
    // A shell whose subshell spins for a few tenths of a second and exits; the shell lives on,
    // holding the subshell's time only in its count of exited children.
    const shell = spawn('/bin/sh', ['-c', '( i=0; while [ $i -lt 400000 ]; do i=$((i+1)); done ); echo spun; sleep 5']);
    try {
      await new Promise<void>((resolve) => shell.stdout.on('data', (d: Buffer) => d.toString().includes('spun') && resolve()));
      const after = commandCpu(['sh', 'no-such-command']);
      expect(after.sh - before.sh).toBeGreaterThan(0.1);
      expect(after['no-such-command']).toBe(0);
    } finally {
      shell.kill();
    }
  });

  test('knows which service URLs are on this machine', () => {
    expect(isLocal('postgres://postgres@127.0.0.1:5432/test')).toBe(true);
    expect(isLocal('redis://localhost:6379/5')).toBe(true);
    expect(isLocal('postgres://db.internal:5432/faultline')).toBe(false);
  });
});

describe('roles started with node flags of their own (the profiler)', () => {
  test("still get the executable's node flags: its young generation size", () => {
    // bin/faultline.js gives these on its second line; a role run as `node <flags> bin/faultline.js`
    // would otherwise profile a process with V8's default young generation.
    expect(binNodeFlags()).toEqual(['--max-semi-space-size=4']);
  });
});

describe("a thread's time on a core (the kernel's schedstat)", () => {
  test('grows by about the CPU the thread spent, and is null for a thread that does not exist', () => {
    const before = threadSchedule(process.pid, process.pid);
    expect(before).not.toBeNull();
    const cpu = process.cpuUsage();
    // Until this process has used 200 ms of CPU, not of wall time: on a busy machine (the whole
    // suite on two cores) 200 ms of wall time may be half that on a core.
    const deadline = performance.now() + 10_000;
    let spins = 0;
    let spent = process.cpuUsage(cpu);
    while (spent.user + spent.system < 200_000 && performance.now() < deadline) {
      for (let i = 0; i < 10_000; i++) spins++;
      spent = process.cpuUsage(cpu);
    }
    const after = threadSchedule(process.pid, process.pid)!;
    expect(spins).toBeGreaterThan(0);
    // This thread did nearly all of the process's work meanwhile.
    expect(after.running - before!.running).toBeGreaterThan(0.1);
    expect(after.running - before!.running).toBeLessThanOrEqual((spent.user + spent.system) / 1e6 + 0.05);
    expect(after.waiting).toBeGreaterThanOrEqual(before!.waiting);
    expect(threadSchedule(process.pid, 2 ** 30)).toBeNull();
  });
});
