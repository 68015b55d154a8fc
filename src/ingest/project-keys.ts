/**
 * Finds the project key (DSN) a request authenticates with. Cached, because every ingest request
 * asks: a key change (disable, delete) is seen within the cache TTL (10 s).
 */
import type { Kysely } from 'kysely';
import type { Database } from '../db/index.js';
import { parseProjectOptions } from '../db/models/project-options.js';
import type { CacheBackend } from '../services/cache/index.js';

export interface KeyInfo {
  keyId: number;
  projectId: number;
  organizationId: number;
  isActive: boolean;
  /** The key's own limit (Sentry's key `rateLimit`), and the project's per-minute limit. */
  keyRateLimit: { count: number; window: number } | null;
  projectRateLimitPerMinute: number | null;
}

export class ProjectKeyResolver {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly cache: CacheBackend,
  ) {}

  async resolve(publicKey: string): Promise<KeyInfo | null> {
    const cacheKey = `pk:${publicKey}`;
    const cached = await this.cache.get<KeyInfo | null>(cacheKey);
    if (cached !== undefined) return cached;
    const row = await this.db
      .selectFrom('project_keys')
      .innerJoin('projects', 'projects.id', 'project_keys.project_id')
      .select([
        'project_keys.id',
        'project_keys.project_id',
        'project_keys.is_active',
        'project_keys.rate_limit_count',
        'project_keys.rate_limit_window',
        'projects.organization_id',
        'projects.options',
      ])
      .where('project_keys.public_key', '=', publicKey)
      .executeTakeFirst();
    const info: KeyInfo | null = row
      ? {
          keyId: row.id,
          projectId: row.project_id,
          organizationId: row.organization_id,
          isActive: row.is_active === 1,
          keyRateLimit:
            row.rate_limit_count !== null && row.rate_limit_window ? { count: row.rate_limit_count, window: row.rate_limit_window } : null,
          projectRateLimitPerMinute: parseProjectOptions(row.options).rateLimitPerMinute,
        }
      : null;
    await this.cache.set(cacheKey, info);
    return info;
  }
}
