/**
 * What a batch reads but never writes: the services, and the project settings the steps need
 * (grouping rules, scrubbing and filter options), cached across batches for a few seconds.
 */
import { parseProjectOptions, type ProjectOptions } from '../db/models/project-options.js';
import type { Services } from '../services/index.js';
import type { RuleData } from '../alerts/rules.js';

export interface ProjectSettings {
  id: number;
  organizationId: number;
  slug: string;
  fingerprintingRules: string;
  /** Stack trace rules text (`groupingEnhancements`), '' when unset. */
  groupingEnhancements: string;
  options: ProjectOptions;
  /** The project has alert rules: its saved events need post-processing even on unresolved issues. */
  hasAlertRules: boolean;
  /** Its alert rules, for post-processing (read with the rest, so not once per event). */
  alertRules: ProjectAlertRule[];
}

export interface ProjectAlertRule {
  id: number;
  environment: string | null;
  data: RuleData;
}

/** Cache key of a project's settings; whoever changes them (or its alert rules) deletes it. */
export function projectSettingsKey(projectId: number): string {
  return `project:${projectId}`;
}

export interface BatchContext {
  readonly services: Services;
  project(projectId: number): Promise<ProjectSettings | null>;
}

export function createBatchContext(services: Services): BatchContext {
  return {
    services,
    async project(projectId) {
      const key = projectSettingsKey(projectId);
      const cached = await services.cache.get<ProjectSettings | null>(key);
      if (cached !== undefined) return cached;
      const row = await services.database.db
        .selectFrom('projects')
        .select(['id', 'organization_id', 'slug', 'fingerprinting_rules', 'grouping_enhancements', 'options'])
        .where('id', '=', projectId)
        .executeTakeFirst();
      const rules = row ? await services.database.db.selectFrom('alert_rules').select(['id', 'environment', 'data']).where('project_id', '=', projectId).orderBy('id').execute() : [];
      const alertRules = rules.map((r) => ({ id: Number(r.id), environment: r.environment, data: JSON.parse(r.data) as RuleData }));
      const settings = row
        ? {
            id: row.id,
            organizationId: row.organization_id,
            slug: row.slug,
            fingerprintingRules: row.fingerprinting_rules,
            groupingEnhancements: row.grouping_enhancements ?? '',
            options: parseProjectOptions(row.options),
            hasAlertRules: alertRules.length > 0,
            alertRules,
          }
        : null;
      await services.cache.set(key, settings, 5_000);
      return settings;
    },
  };
}
