/**
 * Issue search: the issue stream's query language run against the issue index.
 * The parser is shared (`query.ts`); backends turn filters into their own queries.
 */
import type { ParsedSearch } from './query.js';

export type IssueSort = 'date' | 'new' | 'freq' | 'user';

export interface IssueQuery {
  projectIds: number[];
  search: ParsedSearch;
  sort: IssueSort;
  offset: number;
  limit: number;
  /** "Now", for relative times (`age:-24h`); passed in so results are reproducible. */
  now: number;
}

export interface SearchBackend {
  /** Returns matching issue ids in sort order, and whether more follow. */
  queryIssues(q: IssueQuery): Promise<{ groupIds: number[]; hasMore: boolean }>;
}

export * from './query.js';
export { SqlSearchBackend } from './backends/sql.js';
