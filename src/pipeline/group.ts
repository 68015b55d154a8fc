/**
 * Step 2: in-app detection and grouping. Fills the event's title, culprit and metadata and
 * returns the grouping hashes, preferred first (src/grouping does the work).
 *
 * Results are memoized by the grouping input digest (grouping/input-key.ts): most events repeat
 * an issue's stack, and grouping is a pure function of that input, so the next event with the
 * same stack, message and fingerprint reuses the in_app defaults, hashes, title, culprit and
 * metadata.
 */
import { LRUCache } from 'lru-cache';
import { applyInAppDefaults, groupEvent, readInApp, writeInApp, type GroupingResult } from '../grouping/index.js';
import { groupingInputKey } from '../grouping/input-key.js';
import type { EventError, NormalizedEvent } from '../protocol/index.js';
import type { ProjectSettings } from './context.js';

/** What the pipeline keeps of a grouping result (the variants' component trees are for grouping-info only). */
export type EventGrouping = Pick<GroupingResult, 'config' | 'hashes' | 'title' | 'culprit' | 'metadata' | 'location'>;

interface MemoEntry {
  grouping: EventGrouping;
  /** Notes grouping appended to `event.errors` (skipped malformed frames). */
  notes: EventError[];
  /** Every frame's in_app after the defaults (they too depend only on the grouping input). */
  inApp: (boolean | null)[];
}

// About 1 KB an entry: ~10 MB for the stacks of the 10,000 busiest issues.
const memo = new LRUCache<string, MemoEntry>({ max: 10_000 });

function apply(event: NormalizedEvent, entry: MemoEntry): EventGrouping {
  const g = entry.grouping;
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
  const options = { fingerprintingRules: project.fingerprintingRules, stacktraceRules: project.groupingEnhancements };
  // The digest is taken before the in_app defaults: they are a function of the same input.
  const key = groupingInputKey(event, options);
  const hit = key !== null ? memo.get(key) : undefined;
  if (hit) {
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
  };
  if (key !== null) memo.set(key, entry);
  event.errors.length = errorsBefore; // apply() adds them back
  return apply(event, entry);
}

/** Forgets memoized results (tests). */
export function clearGroupingMemo(): void {
  memo.clear();
}
