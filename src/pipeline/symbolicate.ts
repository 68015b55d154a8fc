/**
 * Step: JavaScript source maps (src/sourcemaps does the work). Runs after scrubbing and before
 * grouping, so issues group on original frames, as Sentry does. One parsed-map cache per process.
 * Never throws for a bad upload: problems become `event.errors[]`; a database error is retried
 * with the task like any other step's.
 */
import type { NormalizedEvent } from '../protocol/index.js';
import { SourceCache, symbolicateEvent } from '../sourcemaps/index.js';
import type { BatchContext, ProjectSettings } from './context.js';

const cache = new SourceCache();

export async function symbolicateJs(ctx: BatchContext, event: NormalizedEvent, project: ProjectSettings): Promise<void> {
  await symbolicateEvent(event, { db: ctx.services.database.db, organizationId: project.organizationId, projectId: project.id, cache, shared: ctx.services.cache });
}
