/**
 * The buffer: issue counters (times_seen, users_seen, first/last seen) collected in memory and
 * written to SQL in one statement per issue, instead of one row update per event. This is what
 * keeps a hot issue from becoming a row-lock storm (Sentry's buffers). The embedded backend flushes
 * inside the batch's transaction, so counts are exact and visible as soon as the batch commits.
 */
import type { Executor } from '../executor.js';

export interface GroupCounters {
  timesSeen: number;
  usersSeen: number;
  firstSeen: number;
  lastSeen: number;
  lastRelease?: string | null;
}

export interface BufferBackend {
  /** Adds to an issue's pending counters. */
  incr(groupId: number, delta: GroupCounters): void;
  /** Writes all pending counters; returns how many issues were updated. */
  flush(executor: Executor): Promise<number>;
  /** Drops pending counters (the batch's transaction was rolled back). */
  discard(): void;
}

export { MemoryBufferBackend } from './backends/memory.js';
