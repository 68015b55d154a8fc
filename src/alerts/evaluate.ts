/**
 * Runs one alert rule against one saved event, as Sentry's `RuleProcessor.apply_rule` does: the
 * rule's environment must match, then its conditions combine by `actionMatch`, its filters by
 * `filterMatch` (all / any / none; an empty list passes "all"). Frequency conditions count events
 * already saved — post-processing runs after the batch commits, so the count includes the event
 * that triggered it. "More than `value` in `interval`" is strict, as in Sentry.
 * Left out: Sentry's "comparison" (percent change) mode of frequency conditions.
 */
import { C, F, INTERVALS, LEVELS, type RuleCondition, type RuleData, type RuleFilter } from './rules.js';

export interface RuleEvent {
  level: string;
  environment: string | null;
  tags: [string, string][];
}

export interface RuleSubject {
  event: RuleEvent;
  /** The first_seen (Unix ms). */
  firstSeen: number;
  isNew: boolean;
  isRegression: boolean;
  /**
   * Events of the issue since `since` (Unix ms), counted up to `cap` (enough to tell a threshold);
   * an answer below `cap` may be an upper bound of the count (the lifetime count).
   */
  countEvents(since: number, cap: number): number | Promise<number>;
  /** Distinct users of the events since `since`, counted up to `cap` (likewise). */
  countUsers(since: number, cap: number): number | Promise<number>;
  now: number;
}

type Match = 'all' | 'any' | 'none';

/** How far a count must go to tell whether it is "more than `value`". */
function countCap(value: number): number {
  return Math.max(0, Math.floor(value) + 1);
}

async function combine<T>(items: T[], match: Match, test: (item: T) => Promise<boolean> | boolean): Promise<boolean> {
  for (const item of items) {
    const ok = await test(item);
    if (match === 'all' && !ok) return false;
    if (match === 'any' && ok) return true;
    if (match === 'none' && ok) return false;
  }
  return match !== 'any' || items.length === 0;
}

async function conditionPasses(c: RuleCondition, s: RuleSubject): Promise<boolean> {
  switch (c.id) {
    case C.firstSeen:
      return s.isNew;
    case C.regression:
      return s.isRegression;
    case C.frequency:
      return (await s.countEvents(s.now - INTERVALS[c.interval], countCap(c.value))) > c.value;
    case C.uniqueUsers:
      return (await s.countUsers(s.now - INTERVALS[c.interval], countCap(c.value))) > c.value;
  }
}

const UNIT_MS = { minute: 60_000, hour: 3_600_000, day: 86_400_000, week: 604_800_000 } as const;

function tagMatches(f: Extract<RuleFilter, { id: typeof F.tagged }>, tags: [string, string][]): boolean {
  const key = f.key.toLowerCase();
  const values = tags.filter(([k]) => k.toLowerCase() === key).map(([, v]) => v.toLowerCase());
  const want = f.value.toLowerCase();
  switch (f.match) {
    case 'is': return values.length > 0;
    case 'ns': return values.length === 0;
    case 'eq': return values.includes(want);
    case 'ne': return !values.includes(want);
    case 'sw': return values.some((v) => v.startsWith(want));
    case 'ew': return values.some((v) => v.endsWith(want));
    case 'co': return values.some((v) => v.includes(want));
    case 'nc': return !values.some((v) => v.includes(want));
  }
}

function filterPasses(f: RuleFilter, s: RuleSubject): boolean {
  switch (f.id) {
    case F.level: {
      const level = LEVELS[s.event.level] ?? 0;
      return f.match === 'eq' ? level === f.level : f.match === 'gte' ? level >= f.level : level <= f.level;
    }
    case F.tagged:
      return tagMatches(f, s.event.tags);
    case F.age: {
      const cutoff = s.firstSeen + f.value * UNIT_MS[f.time];
      return f.comparison_type === 'older' ? cutoff < s.now : cutoff > s.now;
    }
  }
}

export async function rulePasses(rule: RuleData, environment: string | null, s: RuleSubject): Promise<boolean> {
  if (environment && s.event.environment !== environment) return false;
  if (!(await combine(rule.conditions, rule.actionMatch, (c) => conditionPasses(c, s)))) return false;
  return combine(rule.filters, rule.filterMatch, (f) => filterPasses(f, s));
}
