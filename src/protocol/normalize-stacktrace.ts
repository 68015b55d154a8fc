/**
 * Normalization of the `exception`, `threads` and legacy top-level `stacktrace` interfaces.
 *
 * Follows relay-event-normalization `event.rs` (`normalize_exceptions`, `normalize_exception`),
 * `stacktrace.rs` / `process_non_raw_frame`, and Sentry's legacy interface rules (protocol.md
 * §4.2–4.4): `{values}` or a flat list; an exception-level `mechanism` (old raven-js) moves onto
 * the raised (last) value; a missing `type` is split off a `Type: value` string and a value with
 * neither is dropped (Relay `normalize_exception`, `TYPE_VALUE_RE`); function `?` means unknown; frames must be objects; `filename` falls back to
 * `abs_path` (its path for http(s) URLs); a lone exception without a stack takes the top-level
 * stack, else the crashed thread's.
 * Left out: native specifics (register names, signal/mach names in mechanism meta, address
 * normalization), in-app rules and symbolication (pipeline steps).
 */
import type { ExceptionValue, Frame, Mechanism, Stacktrace, Thread } from './event.js';
import { capDepth, ErrorRecorder, isObject, MAX_CHARS, readString, truncate, unset, withinDepth } from './normalize-values.js';
import { keptFromKnown, LazyStacktrace, rememberFramesText, UNKNOWN_FUNCTION, withAbsPaths, type FramesPart } from './frames-text.js';

/** The frames split off the payload being normalized (frames-text.ts), by marker; taken as used. */
let splitParts: Map<string, FramesPart> | null = null;
/** Set by `normalizeFrame` when it changes a frame (errors are counted apart). */
let frameChanged = false;
/** Frames whose `function: "?"` `normalizeFrame` dropped: a change a kept text can follow. */
let unknownFunctions = 0;
/** Indices of the frames without an `abs_path` member that `normalizeFrame` gave one: likewise. */
const absPathsFilled: number[] = [];

/** Runs `fn` (a normalization) with frames split off its payload to put back where they stood. */
export function withSplitFrames<T>(parts: Map<string, FramesPart> | null, fn: () => T): T {
  splitParts = parts;
  try {
    return fn();
  } finally {
    splitParts = null;
  }
}

/** Reads `{values: [...]}` or a bare list (relay `Values<T>` accepts both). */
export function readValues(value: unknown): unknown[] | undefined {
  if (Array.isArray(value)) return value;
  if (isObject(value) && Array.isArray(value.values)) return value.values;
  return undefined;
}

/** What `readLine` returns for a value that is not a line number (the caller records it). */
const INVALID = Symbol('invalid');

/** A line or column number as sent (neither absent nor null). */
function readLine(v: unknown, name: 'lineno' | 'colno'): number | null | typeof INVALID {
  if (typeof v === 'number' && Number.isFinite(v) && v >= 0) {
    const n = Math.trunc(v);
    // Relay: some SDKs send lineno 0 for "unknown".
    return n === 0 && name === 'lineno' ? null : n;
  }
  return INVALID;
}

/** A context list as sent when every line is a string (the common case), else a copy with lines coerced. */
function readContextList(v: unknown[]): string[] {
  for (let i = 0; i < v.length; i++) {
    // null lines occur (blank source lines in some SDKs); anything else non-string is coerced.
    if (typeof v[i] !== 'string') return v.map((line) => (typeof line === 'string' ? line : line === null ? '' : String(line)));
  }
  return v as string[];
}

function urlPath(filename: string): string {
  if (/^https?:\/\//i.test(filename)) {
    try {
      const path = new URL(filename).pathname;
      if (path) return path;
    } catch {
      // not a parseable URL: keep it as is
    }
  }
  return filename;
}

const FRAME_STRINGS = ['filename', 'abs_path', 'function', 'raw_function', 'module', 'package', 'platform', 'context_line'] as const;

/**
 * Normalizes one frame object in place (it is the caller's own, fresh from parsing; non-objects
 * are dropped and recorded by the caller). Error paths are built only when an error is recorded:
 * a stack's frames are most of an event, and most events have no errors.
 */
export function normalizeFrame(frame: Frame, framesPath: string, index: number, rec: ErrorRecorder): Frame {
  // Direct property reads first (keyed reads with a varying key are several times slower); the
  // keyed loop runs only for a frame with a field of the wrong type.
  if (
    !stringOrAbsent(frame.filename) ||
    !stringOrAbsent(frame.abs_path) ||
    !stringOrAbsent(frame.function) ||
    !stringOrAbsent(frame.raw_function) ||
    !stringOrAbsent(frame.module) ||
    !stringOrAbsent(frame.package) ||
    !stringOrAbsent(frame.platform) ||
    !stringOrAbsent(frame.context_line)
  ) {
    for (const key of FRAME_STRINGS) {
      const v = frame[key];
      if (stringOrAbsent(v)) continue;
      rec.invalid(`${framesPath}.${index}.${key}`, v);
      delete frame[key];
    }
  }
  // Sentry's Frame.to_python / Relay process_non_raw_frame: fill each of abs_path and filename
  // from the other; an http(s) URL as filename is reduced to its path.
  if (!frame.abs_path && frame.filename) {
    // Added as the frame's last member, which a kept text can follow (frames-text.ts `withAbsPaths`).
    if (Object.hasOwn(frame, 'abs_path')) frameChanged = true;
    else absPathsFilled.push(index);
    frame.abs_path = frame.filename;
  }
  if (!frame.filename && frame.abs_path) {
    frame.filename = frame.abs_path;
    frameChanged = true;
  }
  if (frame.filename) {
    const path = urlPath(frame.filename);
    if (path !== frame.filename) {
      frame.filename = path;
      frameChanged = true;
    }
  }
  // Relay's store processor `process_frame`: "?" is the SDKs' placeholder for "unknown" (the
  // JavaScript SDKs' for every anonymous function, so unset, not deleted: see `unset`).
  if (frame.function === '?') {
    unset(frame, 'function');
    unknownFunctions++;
  }
  const lineno = frame.lineno;
  if (lineno !== undefined && lineno !== null) {
    const n = readLine(lineno, 'lineno');
    if (n === INVALID) rec.invalid(`${framesPath}.${index}.lineno`, lineno);
    if (n !== lineno) {
      frame.lineno = n === INVALID ? null : n;
      frameChanged = true;
    }
  }
  const colno = frame.colno;
  if (colno !== undefined && colno !== null) {
    const n = readLine(colno, 'colno');
    if (n === INVALID) rec.invalid(`${framesPath}.${index}.colno`, colno);
    if (n !== colno) {
      frame.colno = n === INVALID ? null : n;
      frameChanged = true;
    }
  }
  if (frame.pre_context !== undefined) normalizeContextList(frame, 'pre_context', framesPath, index, rec);
  if (frame.post_context !== undefined) normalizeContextList(frame, 'post_context', framesPath, index, rec);
  if (frame.in_app !== undefined && frame.in_app !== null && typeof frame.in_app !== 'boolean') {
    rec.invalid(`${framesPath}.${index}.in_app`, frame.in_app);
    delete frame.in_app;
  }
  if (frame.vars !== undefined) {
    // Local variables (sentry-python sends them by default) are bounded; within the bounds they
    // are kept as sent, so the client's text still stands for the frame.
    if (!isObject(frame.vars)) {
      delete frame.vars;
      frameChanged = true;
    } else if (!withinDepth(frame.vars)) {
      frame.vars = capDepth(frame.vars) as Record<string, unknown>;
      frameChanged = true;
    }
  }
  return frame;
}

function stringOrAbsent(v: unknown): boolean {
  return v === undefined || v === null || typeof v === 'string';
}

/** A frame's source context list: its lines as strings, or dropped (with an error) when not a list. */
function normalizeContextList(frame: Frame, key: 'pre_context' | 'post_context', framesPath: string, index: number, rec: ErrorRecorder): void {
  const sent: unknown = frame[key];
  if (!Array.isArray(sent)) return contextListInvalid(frame, key, framesPath, index, rec);
  const lines = readContextList(sent);
  if (lines === sent) return;
  frame[key] = lines;
  frameChanged = true;
}

function contextListInvalid(frame: Frame, key: 'pre_context' | 'post_context', framesPath: string, index: number, rec: ErrorRecorder): void {
  if (frame[key] !== null) rec.invalid(`${framesPath}.${index}.${key}`, frame[key]);
  delete frame[key];
  frameChanged = true;
}

/**
 * A frames text with the `"function":"?"` members normalization dropped taken out (the JavaScript
 * SDKs name every anonymous function `?`), or null when that cannot be done exactly: every frame
 * has a `function` and the text holds one `"function":` member per frame (so none is repeated or
 * nested elsewhere), and exactly `dropped` of them with `?`, each written as JSON.stringify writes
 * it. In valid JSON such a match is always a member: a quote inside a string is escaped.
 */
function withoutUnknownFunctions(text: string, dropped: number, frames: Frame[]): string | null {
  if (!frames.every((f) => Object.hasOwn(f, 'function'))) return null;
  let members = 0;
  for (let i = text.indexOf('"function":'); i >= 0; i = text.indexOf('"function":', i + 11)) members++;
  if (members !== frames.length) return null;
  let removed = 0;
  const out = text.replace(UNKNOWN_FUNCTION, () => (removed++, ''));
  return removed === dropped ? out : null;
}

/** Normalizes a stack trace; returns `null` (with an error) when it is not an object. */
export function normalizeStacktrace(raw: unknown, path: string, rec: ErrorRecorder): Stacktrace | null {
  if (raw === undefined || raw === null) return null;
  if (!isObject(raw)) {
    rec.invalid(path, raw);
    return null;
  }
  // Frames split off the payload come back here, with their text (frames-text.ts).
  const part = typeof raw.frames === 'string' ? splitParts?.get(raw.frames) : undefined;
  if (part) splitParts!.delete(raw.frames as string);
  if (part?.knownStack && !Object.keys(raw).some((key) => key !== 'frames' && key in LazyStacktrace.prototype)) {
    // A text that went through every step unchanged before: parsed only if a step reads it. (A
    // member the stack object answers to itself, such as `toJSON` or `__proto__`, is not set on
    // it: such a stack is parsed below.)
    // The same text as before: the members normalization added then are added again, and those
    // it dropped taken out, when something reads it.
    const lazy = new LazyStacktrace(keptFromKnown(part.text, part.hash, part.knownStack), part.knownStack);
    for (const key in raw) if (key !== 'frames' && Object.hasOwn(raw, key)) lazy[key] = raw[key];
    return lazy as unknown as Stacktrace;
  }
  const sent = part ? (part.frames ?? JSON.parse(part.text)) : raw.frames;
  const frames: Frame[] = [];
  const rawFrames = Array.isArray(sent) ? sent : [];
  if (sent !== undefined && !Array.isArray(sent)) rec.invalid(`${path}.frames`, sent);
  const framesPath = `${path}.frames`;
  const errorsBefore = rec.errors.length;
  frameChanged = false;
  unknownFunctions = 0;
  absPathsFilled.length = 0;
  for (let i = 0; i < rawFrames.length; i++) {
    const f: unknown = rawFrames[i];
    if (isObject(f)) frames.push(normalizeFrame(f, framesPath, i, rec));
    else rec.invalid(`${framesPath}.${i}`, f);
  }
  if (part && !frameChanged && rec.errors.length === errorsBefore && frames.length === rawFrames.length) {
    let text: string | null = part.text;
    if (absPathsFilled.length) {
      // Kept only if the text's frames without abs_path are exactly those normalization filled.
      const filled = withAbsPaths(part.text);
      const same = filled.filled.length === absPathsFilled.length && filled.filled.every((f, i) => f === absPathsFilled[i]);
      text = same ? filled.text : null;
    }
    if (text !== null && unknownFunctions > 0) text = withoutUnknownFunctions(text, unknownFunctions, frames);
    if (text !== null) rememberFramesText(frames, text, part.hash, unknownFunctions > 0, absPathsFilled.length > 0);
  }
  return { ...raw, frames };
}

function normalizeMechanism(raw: unknown, path: string, rec: ErrorRecorder): Mechanism | null {
  if (raw === undefined || raw === null) return null;
  if (!isObject(raw)) {
    rec.invalid(path, raw);
    return null;
  }
  const mechanism: Mechanism = { ...raw, type: typeof raw.type === 'string' && raw.type ? raw.type : 'generic' };
  if (raw.handled !== undefined && raw.handled !== null && typeof raw.handled !== 'boolean') {
    rec.invalid(`${path}.handled`, raw.handled);
    delete mechanism.handled;
  }
  return mechanism;
}

/** Relay `normalize_exception`: `^(\w+):(.*)$` splits a type off the value when type is missing. */
const TYPE_VALUE_RE = /^(\w+):(.*)$/s;

function normalizeException(raw: Record<string, unknown>, path: string, rec: ErrorRecorder): ExceptionValue | null {
  const ex: ExceptionValue = { ...raw };
  let type = readString(raw.type, `${path}.type`, 256, rec);
  // Relay's JsonLenientString: a non-string value is serialized rather than dropped.
  let value =
    raw.value === undefined || raw.value === null ? undefined : typeof raw.value === 'string' ? raw.value : JSON.stringify(raw.value);
  if (!type && value) {
    const m = TYPE_VALUE_RE.exec(value);
    if (m) {
      type = m[1];
      value = m[2].trim();
    }
  }
  if (type) ex.type = type;
  else unset(ex, 'type');
  // Relay's `max_chars = 8192, max_chars_allowance = 200`: grouping and the title read the value
  // as trimmed (parameterizing a 900 KB value took half a second).
  if (value !== undefined && value.length > MAX_CHARS.message + 200) {
    rec.add('value_too_long', `${path}.value`);
    value = truncate(value, MAX_CHARS.message);
  }
  if (value !== undefined) ex.value = value;
  else unset(ex, 'value');
  if (!type && !value) {
    rec.add('missing_attribute', path, 'type or value');
    return null;
  }
  const module = readString(raw.module, `${path}.module`, 256, rec);
  if (module) ex.module = module;
  else unset(ex, 'module');
  const mechanism = normalizeMechanism(raw.mechanism, `${path}.mechanism`, rec);
  if (mechanism) ex.mechanism = mechanism;
  else unset(ex, 'mechanism');
  const stacktrace = normalizeStacktrace(raw.stacktrace, `${path}.stacktrace`, rec);
  if (stacktrace) ex.stacktrace = stacktrace;
  else unset(ex, 'stacktrace');
  if (raw.raw_stacktrace !== undefined) {
    const rawStack = normalizeStacktrace(raw.raw_stacktrace, `${path}.raw_stacktrace`, rec);
    if (rawStack) ex.raw_stacktrace = rawStack;
    else delete ex.raw_stacktrace;
  }
  return ex;
}

/** Normalizes the `exception` interface; `null` when absent or empty. */
export function normalizeExceptions(raw: unknown, rec: ErrorRecorder): { values: ExceptionValue[] } | null {
  if (raw === undefined || raw === null) return null;
  const list = readValues(raw);
  if (!list) {
    rec.invalid('exception', raw);
    return null;
  }
  const values: ExceptionValue[] = [];
  list.forEach((v, i) => {
    if (!isObject(v)) return void (v === null || rec.invalid(`exception.values.${i}`, v));
    const ex = normalizeException(v, `exception.values.${i}`, rec);
    if (ex) values.push(ex);
  });
  // Old raven-js put `mechanism` beside `values` (fixture relay-legacy_js_exception.json). It
  // describes how the raised exception was captured, so it goes onto the last value.
  if (isObject(raw) && raw.mechanism !== undefined && values.length > 0) {
    const last = values[values.length - 1];
    const mechanism = normalizeMechanism(raw.mechanism, 'exception.mechanism', rec);
    if (mechanism && !last.mechanism) last.mechanism = mechanism;
  }
  return values.length > 0 ? { values } : null;
}

/** Normalizes the `threads` interface; `null` when absent or empty. */
export function normalizeThreads(raw: unknown, rec: ErrorRecorder): { values: Thread[] } | null {
  if (raw === undefined || raw === null) return null;
  const list = readValues(raw);
  if (!list) {
    rec.invalid('threads', raw);
    return null;
  }
  const values: Thread[] = [];
  list.forEach((t, i) => {
    if (!isObject(t)) return void (t === null || rec.invalid(`threads.values.${i}`, t));
    const thread: Thread = { ...t };
    const stacktrace = normalizeStacktrace(t.stacktrace, `threads.values.${i}.stacktrace`, rec);
    if (stacktrace) thread.stacktrace = stacktrace;
    else delete thread.stacktrace;
    for (const key of ['crashed', 'current', 'main'] as const) {
      if (t[key] !== undefined && typeof t[key] !== 'boolean') {
        rec.invalid(`threads.values.${i}.${key}`, t[key]);
        delete thread[key];
      }
    }
    values.push(thread);
  });
  return values.length > 0 ? { values } : null;
}

/**
 * Moves stacks where Sentry expects them: a legacy top-level `stacktrace` into the single
 * exception that has none (relay `normalize_exceptions`), else into a thread (so grouping and the
 * UI find it); then the crashed (or the exception's own) thread's stack into a lone exception
 * that still has no stack of its own.
 */
export function placeStacktraces(
  exception: { values: ExceptionValue[] } | null,
  threads: { values: Thread[] } | null,
  topLevel: Stacktrace | null,
): { threads: { values: Thread[] } | null } {
  const lone = exception?.values.length === 1 ? exception.values[0] : undefined;
  if (topLevel && topLevel.frames.length > 0) {
    if (lone && !lone.stacktrace) {
      lone.stacktrace = topLevel;
    } else {
      const bare = threads?.values.length === 1 && !threads.values[0].stacktrace ? threads.values[0] : undefined;
      if (bare) bare.stacktrace = topLevel;
      else threads = { values: [...(threads?.values ?? []), { current: true, crashed: !exception, stacktrace: topLevel }] };
    }
  }
  if (lone && !lone.stacktrace && threads) {
    const own = lone.thread_id != null ? threads.values.find((t) => t.id != null && String(t.id) === String(lone.thread_id)) : undefined;
    const source = own?.stacktrace ? own : threads.values.find((t) => t.crashed && t.stacktrace);
    if (source?.stacktrace) {
      lone.stacktrace = source.stacktrace;
      delete source.stacktrace;
    }
  }
  return { threads };
}
