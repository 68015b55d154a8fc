/**
 * Finds the project key (DSN) a request authenticates with. Cached, because every ingest request
 * asks: a key change (disable, delete) is seen within the cache TTL (10 s).
 */
import type { Kysely } from 'kysely';
import type { Database } from '../db/index.js';
import type { CacheBackend } from '../services/cache/index.js';

export interface KeyInfo {
  keyId: number;
  projectId: number;
  organizationId: number;
  isActive: boolean;
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
      .select(['project_keys.id', 'project_keys.project_id', 'project_keys.is_active', 'projects.organization_id'])
      .where('project_keys.public_key', '=', publicKey)
      .executeTakeFirst();
    const info = row
      ? { keyId: row.id, projectId: row.project_id, organizationId: row.organization_id, isActive: row.is_active === 1 }
      : null;
    await this.cache.set(cacheKey, info);
    return info;
  }
}
