/**
 * What a batch reads but never writes: the services, and the project settings the steps need
 * (grouping rules, scrubbing and filter options), cached across batches for a few seconds.
 */
import { parseProjectOptions, type ProjectOptions } from '../db/models/project-options.js';
import type { Services } from '../services/index.js';

export interface ProjectSettings {
  id: number;
  organizationId: number;
  slug: string;
  fingerprintingRules: string;
  /** Stack trace rules text (`groupingEnhancements`), '' when unset. */
  groupingEnhancements: string;
  options: ProjectOptions;
}

export interface BatchContext {
  readonly services: Services;
  project(projectId: number): Promise<ProjectSettings | null>;
}

export function createBatchContext(services: Services): BatchContext {
  return {
    services,
    async project(projectId) {
      const key = `project:${projectId}`;
      const cached = await services.cache.get<ProjectSettings | null>(key);
      if (cached !== undefined) return cached;
      const row = await services.database.db
        .selectFrom('projects')
        .select(['id', 'organization_id', 'slug', 'fingerprinting_rules', 'grouping_enhancements', 'options'])
        .where('id', '=', projectId)
        .executeTakeFirst();
      const settings = row
        ? {
            id: row.id,
            organizationId: row.organization_id,
            slug: row.slug,
            fingerprintingRules: row.fingerprinting_rules,
            groupingEnhancements: row.grouping_enhancements ?? '',
            options: parseProjectOptions(row.options),
          }
        : null;
      await services.cache.set(key, settings, 5_000);
      return settings;
    },
  };
}
