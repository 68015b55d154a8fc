/**
 * A read-only, defensively typed view of the parts of an event that grouping reads: prepared
 * stack traces (frames with trimmed names and rule-adjusted in_app), exceptions, log entry, tags.
 *
 * Built once per `groupEvent` call so that every module reads the same normalized data the way
 * Sentry's `normalize_stacktraces_for_grouping` leaves it, without touching the event itself.
 * Leaves out interfaces grouping never reads (breadcrumbs, contexts, request body, …).
 */
import type { NormalizedEvent } from '../protocol/event.js';
import { readExceptions, type GroupingException } from './exception.js';
import { DEFAULT_RULES, type Rule } from './enhancements.js';
import { prepareFrames, str, type DroppedNote, type GroupingFrame } from './frame.js';

/** A thread with its prepared frames (null when it has no stack trace with frames). */
export interface GroupingThread {
  crashed: boolean;
  current: boolean;
  frames: GroupingFrame[] | null;
}

/** Everything grouping reads from an event. */
export interface EventView {
  event: NormalizedEvent;
  platform: string;
  exceptions: GroupingException[];
  stacktrace: GroupingFrame[] | null;
  threads: GroupingThread[] | null;
  logentry: { message: string | null; formatted: string | null } | null;
  tags: [string, string | null][];
  dropped: DroppedNote[];
  /** Stack trace rules in effect: the built-in ones, then the project's. */
  rules: readonly Rule[];
  /** Only hashes, title and metadata will be read (`GroupingOptions.hashesOnly`). */
  hashesOnly: boolean;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function framesOf(stack: unknown, platform: string, path: string, dropped: DroppedNote[], rules: readonly Rule[]): GroupingFrame[] | null {
  if (!isRecord(stack) || !Array.isArray(stack.frames) || stack.frames.length === 0) return null;
  return prepareFrames(stack.frames, platform, {}, path, dropped, rules);
}

/** Builds the grouping view of an event. Never throws on malformed input. */
export function buildEventView(event: NormalizedEvent, rules: readonly Rule[] = DEFAULT_RULES, hashesOnly = false): EventView {
  const dropped: DroppedNote[] = [];
  const platform = str(event.platform) ?? 'other';
  const exceptions = readExceptions(event.exception, platform, dropped, rules);
  const stacktrace = framesOf(event.stacktrace, platform, 'stacktrace.frames', dropped, rules);
  let threads: GroupingThread[] | null = null;
  const rawThreads = isRecord(event.threads) && Array.isArray(event.threads.values) ? event.threads.values : null;
  if (rawThreads && rawThreads.length > 0) {
    threads = rawThreads.filter(isRecord).map((t, i) => ({
      crashed: !!t.crashed,
      current: !!t.current,
      frames: framesOf(t.stacktrace, platform, `threads.values.${i}.stacktrace.frames`, dropped, rules),
    }));
  }
  let logentry: EventView['logentry'] = null;
  if (isRecord(event.logentry)) {
    const message = str(event.logentry.message);
    const formatted = str(event.logentry.formatted);
    if (message || formatted) logentry = { message, formatted };
  }
  const tags: [string, string | null][] = [];
  if (Array.isArray(event.tags)) {
    for (const t of event.tags as unknown[]) {
      if (Array.isArray(t) && typeof t[0] === 'string') tags.push([t[0], typeof t[1] === 'string' ? t[1] : null]);
    }
  } else if (isRecord(event.tags)) {
    for (const [k, v] of Object.entries(event.tags)) tags.push([k, typeof v === 'string' ? v : null]);
  }
  return { event, platform, exceptions, stacktrace, threads, logentry, tags, dropped, rules, hashesOnly };
}

/** Every prepared frame of the event: exceptions, then the top-level stack, then threads. */
export function allFrames(view: EventView): GroupingFrame[] {
  const out: GroupingFrame[] = [];
  for (const e of view.exceptions) if (e.frames) out.push(...e.frames);
  if (view.stacktrace) out.push(...view.stacktrace);
  for (const t of view.threads ?? []) if (t.frames) out.push(...t.frames);
  return out;
}

/**
 * The crash frame: the last in-app frame (optionally passing `filter`) of the last exception's
 * stack (or the top-level stack, or a lone thread's), else the last frame (Sentry's
 * `get_crash_frame_from_event_data`).
 */
export function crashFrame(view: EventView, filter?: (f: GroupingFrame) => boolean): GroupingFrame | null {
  let frames = view.exceptions.length ? view.exceptions[view.exceptions.length - 1].frames : null;
  if (!frames?.length) frames = view.stacktrace;
  if (!frames?.length && view.threads?.length === 1) frames = view.threads[0].frames;
  let fallback: GroupingFrame | null = null;
  for (const f of [...(frames ?? [])].reverse()) {
    if (filter && !filter(f)) continue;
    if (f.inApp) return f;
    fallback ??= f;
  }
  return fallback;
}
