/**
 * Step 2: in-app detection and grouping. Fills the event's title, culprit and metadata and
 * returns the grouping hashes, preferred first (src/grouping does the work).
 *
 * Results are memoized by the grouping input digest (grouping/input-key.ts): most events repeat
 * an issue's stack, and grouping is a pure function of that input, so the next event with the
 * same stack, message and fingerprint reuses the in_app defaults, hashes, title, culprit and
 * metadata.
 *
 * Exception messages often carry ids, counts or names that differ from event to event ("user
 * 4711 not found"), while the stack decides the issue. So an event's exceptions are first looked
 * up by a digest without their messages (grouping/input-key.ts `valueMayBeIgnored` says when that
 * is allowed); that entry is used only if no message contributed to the hashes, and then the
 * title and `metadata.value` are worked out from the event's own message. Otherwise the entry
 * says so, and the full digest is used.
 */
import { LRUCache } from 'lru-cache';
import { applyInAppDefaults, groupEvent, readInApp, valueContributes, writeInApp, type GroupingResult } from '../grouping/index.js';
import { groupingInputKey, valueMayBeIgnored } from '../grouping/input-key.js';
import { exceptionMetadataValue, exceptionTitle } from '../grouping/title.js';
import type { EventError, NormalizedEvent } from '../protocol/index.js';
import type { ProjectSettings } from './context.js';

/** What the pipeline keeps of a grouping result (the variants' component trees are for grouping-info only). */
export type EventGrouping = Pick<GroupingResult, 'config' | 'hashes' | 'title' | 'culprit' | 'metadata' | 'location'>;

/** Stands under a value-free digest whose stack let the exception value into the hashes. */
const VALUE_MATTERS = 'value-matters';

interface MemoEntry {
  grouping: EventGrouping;
  /** Notes grouping appended to `event.errors` (skipped malformed frames). */
  notes: EventError[];
  /** Every frame's in_app after the defaults (they too depend only on the grouping input; grouping/in-app.ts `readInApp`). */
  inApp: string;
  /** The exception the title comes from (for an event with another message). */
  titleException: number;
}

// About 950 bytes an entry: ~9.5 MB for the stacks of the 10,000 busiest issues.
const memo = new LRUCache<string, MemoEntry | typeof VALUE_MATTERS>({ max: 10_000 });

/** The type and value of the exception at `index`, as grouping reads them (valueMayBeIgnored held). */
function exceptionAt(event: NormalizedEvent, index: number): { type: string | null; value: string | null } {
  const v = (event.exception as { values: Record<string, unknown>[] }).values[index];
  return { type: typeof v.type === 'string' ? v.type : null, value: typeof v.value === 'string' ? v.value : null };
}

function apply(event: NormalizedEvent, entry: MemoEntry, ownValue = false): EventGrouping {
  let g = entry.grouping;
  if (ownValue) {
    // The entry came from an event with another message: title and metadata.value are this one's.
    const { type, value } = exceptionAt(event, entry.titleException);
    const metadata = { ...g.metadata, value: exceptionMetadataValue(value) };
    g = { ...g, metadata, title: exceptionTitle(type, value, metadata) };
  }
  event.title = g.title;
  event.culprit = g.culprit;
  event.metadata = { ...g.metadata };
  if (g.location !== undefined) event.location = g.location;
  event.hashes = [...g.hashes];
  event.grouping_config = { id: g.config };
  if (entry.notes.length) event.errors.push(...structuredClone(entry.notes));
  return { ...g, hashes: [...g.hashes] };
}

export function groupNormalizedEvent(event: NormalizedEvent, project: ProjectSettings): EventGrouping {
  // hashesOnly: the pipeline keeps no component trees (grouping-info builds its own).
  const options = { fingerprintingRules: project.fingerprintingRules, stacktraceRules: project.groupingEnhancements, hashesOnly: true };
  // The digests are taken before the in_app defaults: they are a function of the same input.
  const shapeKey = valueMayBeIgnored(event, options) ? groupingInputKey(event, options, true) : null;
  let key: string | null = null;
  if (shapeKey !== null) {
    const shapeHit = memo.get(shapeKey);
    if (shapeHit && shapeHit !== VALUE_MATTERS) {
      writeInApp(event, shapeHit.inApp);
      return apply(event, shapeHit, true);
    }
    // The first event of a shape is filed under the shape alone (one entry per stack, so the
    // memo holds as many stacks as it can); a shape whose message matters uses the full digest.
    if (shapeHit === VALUE_MATTERS) key = groupingInputKey(event, options);
  } else {
    key = groupingInputKey(event, options);
  }
  const hit = key !== null ? memo.get(key) : undefined;
  if (hit && hit !== VALUE_MATTERS) {
    writeInApp(event, hit.inApp);
    return apply(event, hit);
  }
  applyInAppDefaults(event);
  const errorsBefore = event.errors.length;
  const result = groupEvent(event, options);
  const notes = event.errors.slice(errorsBefore);
  const entry: MemoEntry = {
    grouping: { config: result.config, hashes: result.hashes, title: result.title, culprit: result.culprit, metadata: result.metadata, location: result.location },
    notes: structuredClone(notes),
    inApp: readInApp(event),
    titleException: result.titleException ?? 0,
  };
  if (key !== null) memo.set(key, entry);
  else if (shapeKey !== null) memo.set(shapeKey, valueContributes(result) ? VALUE_MATTERS : entry);
  event.errors.length = errorsBefore; // apply() adds them back
  return apply(event, entry);
}

/** Forgets memoized results (tests). */
export function clearGroupingMemo(): void {
  memo.clear();
}

/** How many digests the memo holds (tests). */
export function groupingMemoSize(): number {
  return memo.size;
}
