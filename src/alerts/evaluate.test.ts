import { describe, expect, it } from 'vitest';
import { compareSemver } from '../pipeline/regression.js';
import { rulePasses, type RuleSubject } from './evaluate.js';
import { C, F, ruleData, ruleInput } from './rules.js';

const subject = (over: Partial<RuleSubject> = {}): RuleSubject => ({
  event: { level: 'error', environment: 'prod', tags: [['browser', 'Chrome 120']] },
  firstSeen: Date.now() - 3_600_000,
  isNew: false,
  isRegression: false,
  countEvents: async () => 5,
  countUsers: async () => 1,
  now: Date.now(),
  ...over,
});
const rule = (body: Record<string, unknown>) => ruleData(ruleInput.parse({ name: 'r', actions: [{ id: 'sentry.mail.actions.NotifyEmailAction', targetType: 'IssueOwners' }], ...body }));

describe('rule evaluation', () => {
  it('combines conditions by actionMatch and filters by filterMatch', async () => {
    const r = rule({ actionMatch: 'any', conditions: [{ id: C.firstSeen }, { id: C.frequency, value: 4, interval: '1h' }], filters: [{ id: F.level, match: 'gte', level: 'warning' }] });
    expect(await rulePasses(r, null, subject())).toBe(true);
    expect(await rulePasses(r, null, subject({ countEvents: async () => 4 }))).toBe(false); // "more than"
    expect(await rulePasses(r, null, subject({ event: { level: 'info', environment: null, tags: [] }, isNew: true }))).toBe(false);
    expect(await rulePasses(rule({ filterMatch: 'none', filters: [{ id: F.tagged, key: 'browser', match: 'sw', value: 'chrome' }] }), null, subject())).toBe(false);
    expect(await rulePasses(rule({ filters: [{ id: F.age, comparison_type: 'older', value: 30, time: 'minute' }] }), null, subject())).toBe(true);
    expect(await rulePasses(rule({}), 'staging', subject())).toBe(false);
  });

  it('counts only as far as "more than" needs: one past the threshold', async () => {
    const caps: number[] = [];
    // An issue with 10,000 events and 3,000 users in the window, counted as far as asked.
    const counting = (total: number) => async (_since: number, cap: number) => (caps.push(cap), Math.min(total, cap));
    const s = subject({ countEvents: counting(10_000), countUsers: counting(3_000) });
    expect(await rulePasses(rule({ conditions: [{ id: C.frequency, value: 100, interval: '1h' }] }), null, s)).toBe(true);
    expect(await rulePasses(rule({ conditions: [{ id: C.uniqueUsers, value: 2_999, interval: '1d' }] }), null, s)).toBe(true);
    expect(await rulePasses(rule({ conditions: [{ id: C.uniqueUsers, value: 3_000, interval: '1d' }] }), null, s)).toBe(false);
    expect(caps).toEqual([101, 3_000, 3_001]);
  });
});

describe('release comparison', () => {
  it('orders by semver, pre-releases first, and gives up on non-semver', () => {
    expect(compareSemver('app@1.10.0', 'app@1.9.0')).toBeGreaterThan(0);
    expect(compareSemver('1.0.0-rc.1', '1.0.0')).toBeLessThan(0);
    expect(compareSemver('abc123', '1.0.0')).toBeNull();
  });
});
