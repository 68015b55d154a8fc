/**
 * The tsdb: event counts per issue and per project in time buckets, for sparklines and charts.
 * Two rollups are kept: hourly (the 24h view) and daily (the 14d/30d views).
 */
import type { Executor } from '../executor.js';

export type TsdbModel = 'group' | 'project';
export const ROLLUPS = [3600, 86400] as const;
export type Rollup = (typeof ROLLUPS)[number];

export interface TsdbIncrement {
  model: TsdbModel;
  keyId: number;
  /** Unix ms. */
  timestamp: number;
  count: number;
  /**
   * The event this point counts (`project:event_id`). A backend outside the SQL transaction
   * counts each key once, so an event redelivered after a crash between the commit and the
   * increment is counted then, and never twice. Transactional backends ignore it.
   */
  dedupeKey?: string;
}

export interface TsdbBackend {
  /** True when increments are written through the caller's SQL transaction (so they roll back with it). */
  readonly transactional: boolean;
  incrMulti(items: TsdbIncrement[], executor?: Executor): Promise<void>;
  /** Counts per bucket in [start, end] (Unix ms), every bucket present (zeros filled), oldest first; bucket starts in Unix seconds. */
  getRange(model: TsdbModel, keyIds: number[], start: number, end: number, rollup: Rollup): Promise<Map<number, [number, number][]>>;
}

export function bucketOf(timestampMs: number, rollup: number): number {
  const r = rollup * 1000;
  return Math.floor(timestampMs / r) * r;
}

export { SqlTsdbBackend } from './backends/sql.js';
