/**
 * Quotas: how much an organization, a project or a single key (DSN) may send per time window, per
 * data category, checked by ingest before it queues anything (Sentry's quotas, as Relay enforces
 * them; a limited item gets a 429 with Retry-After and X-Sentry-Rate-Limits).
 *
 * Fixed windows aligned to the Unix epoch: a counter per (limit, scope, window start). A check is
 * all-or-nothing: when any applicable limit would be exceeded, nothing is counted (as Relay's
 * `is_rate_limited.lua`), so rejected events do not use up the quota of the next ones.
 * Left out: sliding windows, refunds of items dropped later in the pipeline, and where limits come
 * from (configuration and the projects' key settings; the caller passes them).
 */

export type QuotaScopeKind = 'organization' | 'project' | 'key';

/** Who is sending: the key's project and organization. */
export interface QuotaScope {
  organizationId: number;
  projectId: number;
  keyId: number;
}

export interface QuotaLimit {
  /** Stable identifier; part of the counter, so two limits on one scope count separately. */
  id: string;
  /** Which of the sender's ids the counter belongs to. */
  scope: QuotaScopeKind;
  /** Data categories counted together (`error`, `transaction`, `attachment`, ...); empty = all. */
  categories: string[];
  /** Most quantity accepted per window; 0 rejects everything (e.g. a disabled key). */
  limit: number;
  /** Window length in seconds. */
  window: number;
  /** Reported when this limit rejects, e.g. `key_quota`, `org_quota`. */
  reasonCode: string;
}

export type QuotaResult =
  | { limited: false }
  | {
      limited: true;
      /** Seconds until the window of the rejecting limit ends (the longest, if several reject). */
      retryAfter: number;
      scope: QuotaScopeKind;
      reasonCode: string;
    };

export interface QuotasBackend {
  /**
   * Counts `quantity` of `category` against every applicable limit, atomically: either all are
   * incremented (not limited) or none (limited).
   */
  check(scope: QuotaScope, category: string, quantity: number, limits: QuotaLimit[]): Promise<QuotaResult>;
}

/** One counter a check touches. */
export interface QuotaCounter {
  limit: QuotaLimit;
  /** `<limit id>:<scope>:<scope id>:<window start in seconds>`. */
  key: string;
  /** Unix ms at which the window ends. */
  windowEnd: number;
}

/** The counters of the limits that apply to `category`, in the window around `now`. */
export function quotaCounters(scope: QuotaScope, category: string, limits: QuotaLimit[], now: number): QuotaCounter[] {
  const out: QuotaCounter[] = [];
  for (const limit of limits) {
    if (limit.categories.length && !limit.categories.includes(category)) continue;
    const windowMs = Math.max(1, limit.window) * 1000;
    const start = Math.floor(now / windowMs) * windowMs;
    const scopeId = limit.scope === 'organization' ? scope.organizationId : limit.scope === 'project' ? scope.projectId : scope.keyId;
    out.push({ limit, key: `${limit.id}:${limit.scope}:${scopeId}:${start / 1000}`, windowEnd: start + windowMs });
  }
  return out;
}

/** Whether `used + quantity` breaks the limit. */
export function exceeds(limit: QuotaLimit, used: number, quantity: number): boolean {
  return limit.limit <= 0 || used + quantity > limit.limit;
}

/** The result for the rejecting counters (none = not limited): the longest wait wins. */
export function quotaResult(rejected: QuotaCounter[], now: number): QuotaResult {
  if (!rejected.length) return { limited: false };
  const worst = rejected.reduce((a, b) => (b.windowEnd > a.windowEnd ? b : a));
  return {
    limited: true,
    retryAfter: Math.max(1, Math.ceil((worst.windowEnd - now) / 1000)),
    scope: worst.limit.scope,
    reasonCode: worst.limit.reasonCode,
  };
}

export { MemoryQuotasBackend } from './backends/memory.js';
