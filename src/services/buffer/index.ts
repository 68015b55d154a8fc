/**
 * The buffer: issue counters (times_seen, first/last seen, last release) collected outside the
 * issue row and written to SQL once per issue per flush (on PostgreSQL and SQLite in one statement
 * for all the issues of a flush round), instead of one row update per event. This is what keeps a
 * hot issue from becoming a row-lock storm (Sentry's buffers).
 *
 * Two lifecycles, told apart by `transactional`:
 * - transactional (embedded, in memory): the worker calls `incr` and `flush` inside the batch's
 *   SQL transaction, so counts are exact and visible when the batch commits;
 * - deferred (Redis): the worker calls `incr` after the batch committed, with each event's
 *   `dedupeKey`, so a redelivered event is not counted twice; a scheduled task calls `flush`.
 * The affected-user count is the number of the distinct `user` tag values. Where the
 * tagstore said how many of those it just wrote for the first time (`usersAdded`), `flush` adds
 * that many; otherwise, and for issues with fewer than `USERS_RECOUNT_BELOW` users, it counts them
 * again, which is exact whatever happened before but costs a read of every value (apply.ts).
 *
 * What an issue shows (title, culprit, level, metadata) goes with its counters too, from the
 * latest event, and is written by the same UPDATE when that event is at least as recent as the
 * issue's last one, as Sentry's buffer sets a group's data with its `times_seen` increment: the
 * issue rows are written once per flush, not again by every batch that brings a new title.
 *
 * A deferred buffer also carries each event's tag values (`carriesTagValues`): counted once by the
 * same dedupe key, and written to the tagstore at flush, before the counters (so the user count
 * sees them), one upsert per (issue, key, value) per flush instead of one per batch of every
 * worker. Sentry's legacy tagstore buffered its tag value counts the same way; a hot issue's tag
 * rows are then updated by one flusher, not locked in turn by every worker's transaction.
 */
import type { Executor } from '../executor.js';

export interface GroupCounters {
  groupId: number;
  timesSeen: number;
  firstSeen: number;
  lastSeen: number;
  lastRelease?: string | null;
  /** Identifies the event(s) behind this increment; a key seen before is not counted again. */
  dedupeKey?: string;
  /**
   * New affected users: `user` tag values the tagstore wrote for this issue for the first time, in
   * the same transaction as these counters (or, for a deferred buffer, its flush). Unset: unknown,
   * and the flush counts the users again.
   */
  usersAdded?: number;
  /** What the issue shows after the event seen at `lastSeen`; written only if none later was written before. */
  shown?: ShownFields;
  /** The event's tags, each value seen once between firstSeen and lastSeen: for a buffer that `carriesTagValues`. */
  tagValues?: { projectId: number; tags: [string, string][] };
}

/** An issue's fields taken from its latest event. `metadata` is JSON. */
export interface ShownFields {
  title: string;
  culprit: string | null;
  level: string;
  metadata: string;
}

export interface BufferBackend {
  readonly transactional: boolean;
  /** Writes the items' `tagValues` at flush; otherwise the caller writes tag values itself. */
  readonly carriesTagValues: boolean;
  /** Adds to issues' pending counters. */
  incr(items: GroupCounters[]): Promise<void>;
  /** Writes all pending counters to SQL; returns how many issues were updated. */
  flush(executor: Executor): Promise<number>;
  /** Drops pending counters (transactional backends: the batch was rolled back). */
  discard(): void;
}

export { MemoryBufferBackend } from './backends/memory.js';
export { applyGroupCounters, USERS_RECOUNT_BELOW } from './apply.js';
