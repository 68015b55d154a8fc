import { Worker, isMainThread } from 'node:worker_threads';
import { existsSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { kernelThreadId } from './thread-id.js';

describe("the calling thread's kernel id", () => {
  test('is the process id on a main thread, and a live task of the process on a worker thread', async () => {
    const own = kernelThreadId();
    if (isMainThread) expect(own).toBe(process.pid);
    expect(existsSync(`/proc/${process.pid}/task/${own}`)).toBe(true);
    // What kernelThreadId reads, from a thread of its own (as the worker thread of `faultline start`).
    const w = new Worker(
      "const { readlinkSync } = require('node:fs'); require('node:worker_threads').parentPort.postMessage(Number(readlinkSync('/proc/thread-self').split('/').pop())); setInterval(() => {}, 1000);",
      { eval: true },
    );
    try {
      const other = await new Promise<number>((resolve, reject) => {
        w.once('message', resolve);
        w.once('error', reject);
      });
      expect(other).not.toBe(own);
      expect(existsSync(`/proc/${process.pid}/task/${other}`)).toBe(true);
    } finally {
      await w.terminate();
    }
  });
});
