/**
 * The tagstore: for each issue, every tag key's values with how often and when they were seen.
 * It powers tag breakdowns, tag search and the affected-user count (distinct `user` values).
 */
import type { Executor } from '../executor.js';
import type { TagValueCounts } from './counts.js';

export interface TagValueIncrement {
  projectId: number;
  groupId: number;
  key: string;
  value: string;
  count: number;
  firstSeen: number;
  lastSeen: number;
}

export interface TagKeySummary {
  key: string;
  totalValues: number;
  uniqueValues: number;
  topValues: TagValueSummary[];
}

export interface TagValueSummary {
  value: string;
  count: number;
  firstSeen: number;
  lastSeen: number;
}

export interface TagstoreBackend {
  /**
   * Adds counts (collapsing repeats within the call). Returns, per issue, how many `user` values
   * it wrote for the first time (new affected users), or null where the database cannot tell.
   */
  incrMulti(items: TagValueCounts | TagValueIncrement[], executor?: Executor): Promise<Map<number, number> | null>;
  getGroupTagKeys(groupId: number, topValues?: number): Promise<TagKeySummary[]>;
  getGroupTagValues(groupId: number, key: string, limit: number): Promise<TagValueSummary[]>;
}

export { SqlTagstoreBackend } from './backends/sql.js';
export { TagValueCounts } from './counts.js';
