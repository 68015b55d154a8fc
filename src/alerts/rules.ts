/**
 * Alert rules in Sentry's "issue alert" model (`sentry.rules`): conditions (when), filters (if),
 * actions (then), `actionMatch` / `filterMatch` (all, any, none) and `frequency` (minutes before
 * the same rule may fire again for the same issue). Components are addressed by Sentry's ids so
 * payloads copied from Sentry's API work. This file validates and normalizes a rule; evaluate.ts
 * runs it. Left out: Sentry's other conditions (e.g. percent-of-sessions), integrations other than
 * email, webhooks and Slack incoming webhooks, and per-rule owners.
 */
import { z } from 'zod';

export const C = {
  firstSeen: 'sentry.rules.conditions.first_seen_event.FirstSeenEventCondition',
  regression: 'sentry.rules.conditions.regression_event.RegressionEventCondition',
  frequency: 'sentry.rules.conditions.event_frequency.EventFrequencyCondition',
  uniqueUsers: 'sentry.rules.conditions.event_frequency.EventUniqueUserFrequencyCondition',
} as const;
export const F = {
  level: 'sentry.rules.filters.level.LevelFilter',
  tagged: 'sentry.rules.filters.tagged_event.TaggedEventFilter',
  age: 'sentry.rules.filters.age_comparison.AgeComparisonFilter',
} as const;
export const A = {
  email: 'sentry.mail.actions.NotifyEmailAction',
  webhook: 'sentry.rules.actions.notify_event_service.NotifyEventServiceAction',
  slack: 'sentry.integrations.slack.notify_action.SlackNotifyServiceAction',
} as const;

/** Sentry's interval choices for frequency conditions (`event_frequency.py` STANDARD_INTERVALS). */
export const INTERVALS: Record<string, number> = {
  '1m': 60_000, '5m': 300_000, '15m': 900_000, '1h': 3_600_000, '1d': 86_400_000, '1w': 604_800_000, '30d': 2_592_000_000,
};
/** Sentry's LevelFilter compares numeric levels (`sentry.constants.LOG_LEVELS`). */
export const LEVELS: Record<string, number> = { debug: 10, info: 20, warning: 30, error: 40, fatal: 50 };

const num = z.coerce.number().int().min(0);
const condition = z.discriminatedUnion('id', [
  z.object({ id: z.literal(C.firstSeen) }),
  z.object({ id: z.literal(C.regression) }),
  z.object({ id: z.literal(C.frequency), value: num, interval: z.enum(Object.keys(INTERVALS) as [string, ...string[]]) }),
  z.object({ id: z.literal(C.uniqueUsers), value: num, interval: z.enum(Object.keys(INTERVALS) as [string, ...string[]]) }),
]);
const MATCHES = ['eq', 'ne', 'sw', 'ew', 'co', 'nc', 'is', 'ns'] as const;
const filter = z.discriminatedUnion('id', [
  z.object({
    id: z.literal(F.level),
    match: z.enum(['eq', 'gte', 'lte']),
    level: z.union([z.string(), z.number()]).transform((v) => (typeof v === 'number' ? v : (LEVELS[v] ?? Number(v)))),
  }),
  z.object({ id: z.literal(F.tagged), key: z.string().min(1), match: z.enum(MATCHES), value: z.string().optional().default('') }),
  z.object({ id: z.literal(F.age), comparison_type: z.enum(['older', 'newer']), value: num, time: z.enum(['minute', 'hour', 'day', 'week']) }),
]);
const action = z.discriminatedUnion('id', [
  z.object({
    id: z.literal(A.email),
    targetType: z.enum(['Member', 'Team', 'IssueOwners']),
    targetIdentifier: z.union([z.string(), z.number()]).optional().transform((v) => (v === undefined || v === '' ? null : String(v))),
  }),
  // Sentry's webhook plugin action names a service; here the URL is carried by the action itself.
  z.object({ id: z.literal(A.webhook), url: z.string().url(), secret: z.string().optional(), service: z.string().optional() }),
  z.object({ id: z.literal(A.slack), webhook: z.string().url(), channel: z.string().optional() }),
]);

export const ruleInput = z.object({
  name: z.string().trim().min(1).max(255),
  environment: z.string().max(64).nullish(),
  actionMatch: z.enum(['all', 'any', 'none']).default('all'),
  filterMatch: z.enum(['all', 'any', 'none']).default('all'),
  frequency: z.coerce.number().int().min(0).max(43_200).default(30),
  conditions: z.array(condition).default([]),
  filters: z.array(filter).default([]),
  actions: z.array(action).min(1, 'Must select an action'),
});

export type RuleInput = z.infer<typeof ruleInput>;
export type RuleCondition = RuleInput['conditions'][number];
export type RuleFilter = RuleInput['filters'][number];
export type RuleAction = RuleInput['actions'][number];

/** The stored rule body (everything but name and environment, which are columns). */
export type RuleData = Omit<RuleInput, 'name' | 'environment'>;

export function ruleData(input: RuleInput): RuleData {
  const { name: _n, environment: _e, ...data } = input;
  return data;
}

/** The API shape of a rule (Sentry's `RuleSerializer`). */
export function serializeRule(row: { id: number; label: string; environment: string | null; data: string; date_added: number; created_by: number | null }) {
  const data = JSON.parse(row.data) as RuleData;
  return {
    id: String(row.id),
    name: row.label,
    environment: row.environment,
    actionMatch: data.actionMatch,
    filterMatch: data.filterMatch,
    frequency: data.frequency,
    conditions: data.conditions,
    filters: data.filters,
    actions: data.actions,
    status: 'active',
    owner: null,
    createdBy: row.created_by === null ? null : { id: String(row.created_by) },
    dateCreated: new Date(Number(row.date_added)).toISOString(),
  };
}
