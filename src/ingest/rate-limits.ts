/**
 * Rate limits and back-pressure at the edge, answered as Relay answers them (protocol.md §5):
 * - per-key limits (`count` events per `window` seconds, Sentry's key rate limit) and per-project
 *   limits (events per minute), counted by the quotas service;
 * - back-pressure: when the queue holds more than `maxQueueBacklog` tasks, every item is refused
 *   for a minute, so SDKs back off instead of the server falling over.
 * Limited items are dropped; if nothing is left the reply is 429 with `Retry-After` and
 * `X-Sentry-Rate-Limits`, otherwise 200 with `X-Sentry-Rate-Limits` naming what was dropped.
 * Dropped items are counted as `rate_limited` outcomes (rejected-outcomes.ts).
 * Left out: organization quotas.
 */
import type { QueueBackend } from '../services/queue/index.js';
import type { QuotaLimit, QuotasBackend } from '../services/quotas/index.js';
import type { AcceptedItem } from './envelope-items.js';
import type { KeyInfo } from './project-keys.js';

/** The data category of an item type (protocol.md §3.4, the JS SDK's categories). */
export function categoryOf(itemType: string): string {
  switch (itemType) {
    case 'event':
    case 'store':
      return 'error';
    case 'sessions':
      return 'session';
    case 'log':
      return 'log_item';
    case 'check_in':
      return 'monitor';
    case 'client_report':
      return 'internal';
    case 'user_report':
      return 'default';
    default:
      return itemType;
  }
}

/** Categories that key and project limits count: the ones that are events. */
const LIMITED_CATEGORIES = ['error', 'transaction', 'feedback', 'default', 'security'];

export interface RateLimit {
  retryAfter: number;
  /** Empty: every category. */
  categories: string[];
  scope: 'organization' | 'project' | 'key';
  reasonCode: string;
}

/** `X-Sentry-Rate-Limits`: `retry_after:categories:scope:reason_code`, comma separated. */
export function formatRateLimits(limits: RateLimit[]): string {
  return limits.map((l) => `${Math.ceil(l.retryAfter)}:${l.categories.join(';')}:${l.scope}:${l.reasonCode}`).join(', ');
}

const BACKLOG_RETRY_AFTER = 60;

export class IngestGate {
  #backlogAt = 0;
  #backlogFull = false;

  constructor(
    private readonly quotas: QuotasBackend,
    private readonly queue: QueueBackend,
    private readonly queueName: string,
    private readonly maxBacklog: number,
  ) {}

  /** Whether the queue is over its backlog limit; the queue is asked at most once a second. */
  async backlogFull(now = Date.now()): Promise<boolean> {
    if (now - this.#backlogAt >= 1000) {
      this.#backlogAt = now;
      try {
        if (this.queue.backlogAbove) {
          this.#backlogFull = await this.queue.backlogAbove(this.queueName, this.maxBacklog);
        } else {
          const s = await this.queue.stats(this.queueName);
          this.#backlogFull = s.ready + s.leased > this.maxBacklog;
        }
      } catch {
        this.#backlogFull = false; // a stats failure must not refuse events
      }
    }
    return this.#backlogFull;
  }

  backlogLimit(): RateLimit {
    return { retryAfter: BACKLOG_RETRY_AFTER, categories: [], scope: 'organization', reasonCode: 'backlog' };
  }

  /** Splits items into accepted ones and the rate limits that dropped the others. */
  async check(key: KeyInfo, items: AcceptedItem[]): Promise<{ items: AcceptedItem[]; limits: RateLimit[] }> {
    const limits: QuotaLimit[] = [];
    if (key.keyRateLimit) {
      limits.push({ id: 'key', scope: 'key', categories: LIMITED_CATEGORIES, limit: key.keyRateLimit.count, window: key.keyRateLimit.window, reasonCode: 'key_quota' });
    }
    if (key.projectRateLimitPerMinute !== null) {
      limits.push({ id: 'project', scope: 'project', categories: LIMITED_CATEGORIES, limit: key.projectRateLimitPerMinute, window: 60, reasonCode: 'project_quota' });
    }
    if (limits.length === 0) return { items, limits: [] };
    const perCategory = new Map<string, number>();
    for (const it of items) {
      const c = categoryOf(it.itemType);
      if (LIMITED_CATEGORIES.includes(c)) perCategory.set(c, (perCategory.get(c) ?? 0) + 1);
    }
    const refused = new Set<string>();
    const out: RateLimit[] = [];
    for (const [category, quantity] of perCategory) {
      const r = await this.quotas.check({ organizationId: key.organizationId, projectId: key.projectId, keyId: key.keyId }, category, quantity, limits);
      if (r.limited) {
        refused.add(category);
        out.push({ retryAfter: r.retryAfter, categories: [category], scope: r.scope, reasonCode: r.reasonCode });
      }
    }
    return { items: items.filter((it) => !refused.has(categoryOf(it.itemType))), limits: out };
  }
}
