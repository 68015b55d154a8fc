/**
 * Step 2: in-app detection and grouping. Fills the event's title, culprit and metadata and
 * returns the grouping hashes, preferred first (src/grouping does the work).
 */
import { applyInAppDefaults, groupEvent, type GroupingResult } from '../grouping/index.js';
import type { NormalizedEvent } from '../protocol/index.js';
import type { ProjectSettings } from './context.js';

export function groupNormalizedEvent(event: NormalizedEvent, project: ProjectSettings): GroupingResult {
  applyInAppDefaults(event);
  const result = groupEvent(event, {
    fingerprintingRules: project.fingerprintingRules,
    stacktraceRules: project.groupingEnhancements,
  });
  event.title = result.title;
  event.culprit = result.culprit;
  event.metadata = result.metadata;
  if (result.location !== undefined) event.location = result.location;
  event.hashes = result.hashes;
  event.grouping_config = { id: result.config };
  return result;
}
