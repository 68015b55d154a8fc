import { readlinkSync } from 'node:fs';
import path from 'node:path';

/**
 * The kernel's id of the calling thread on Linux (`/proc/thread-self` names it), under which
 * /proc/<pid>/task/<tid> reports that thread's CPU: the benchmark reads the worker thread's there.
 * Null where there is no such file.
 */
export function kernelThreadId(): number | null {
  try {
    return Number(path.basename(readlinkSync('/proc/thread-self')));
  } catch {
    return null;
  }
}
