/**
 * Value-level helpers for event normalization: strings with Sentry's length limits, timestamps,
 * levels, bounded nesting, and the recorder for processing errors (`event.errors[]`).
 *
 * Limits are Relay's `MaxChars` (relay-event-schema `processor/attrs.rs`) as applied to the
 * event fields in `protocol/event.rs`; error types are Sentry's `EventError` names
 * (sentry `models/eventerror.py`, mirrored by relay `EventErrorType`).
 * Left out: Relay's byte-budget trimming of whole databags (we only cap depth and long strings).
 */
import type { EventError, Level } from './event.js';

/** Relay's `MaxChars` values used by the event schema. */
export const MAX_CHARS = {
  tagKey: 200,
  tagValue: 200,
  release: 200,
  environment: 64,
  dist: 64,
  logger: 64,
  transaction: 200,
  culprit: 200,
  serverName: 256,
  message: 8192,
  enumLike: 128,
  email: 75,
  /** Strings inside `extra` and other databags (brief: hostile inputs stay bounded). */
  databagString: 16 * 1024,
} as const;

/** Maximum nesting kept inside databags (`extra`, `contexts`, frame `vars`). */
export const MAX_DATABAG_DEPTH = 10;

/** Collects processing errors; a field that fails validation is dropped and recorded here. */
export class ErrorRecorder {
  readonly errors: EventError[] = [];

  /** Records an error of Sentry type `type` for field path `name`. */
  add(type: string, name: string, value?: unknown): void {
    const error: EventError = { type, name };
    if (value !== undefined) error.value = boundValue(value);
    this.errors.push(error);
  }

  /** Records `invalid_data` (Sentry: "Discarded invalid value"). */
  invalid(name: string, value: unknown): void {
    this.add('invalid_data', name, value);
  }
}

function boundValue(value: unknown): unknown {
  if (typeof value === 'string' && value.length > 200) return `${value.slice(0, 197)}...`;
  return capDepth(value, 3);
}

/**
 * Drops a field the client sent (null, or invalid) by setting it to undefined, which JSON leaves
 * out: deleting a field other than an object's last turns the object into a slow dictionary in
 * V8, and an event's objects are read field by field in every later step. An absent field stays
 * absent. Not for objects whose emptiness is counted by their keys.
 */
export function unset<T extends object>(obj: T, key: keyof T): void {
  if (obj[key] !== undefined) obj[key] = undefined as T[keyof T];
}

/** Plain object test (not null, not an array). */
export function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Truncates to `max` characters the way Relay's trimmer does: the end becomes `...`. */
export function truncate(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, Math.max(0, max - 3))}...`;
}

/**
 * Reads a string field: strings are trimmed of surrounding whitespace, numbers are coerced
 * (Relay's `LenientString` for `release`; harmless elsewhere), null/absent mean absent, anything
 * else is recorded as `invalid_data`. Over-long values are truncated and recorded as `value_too_long`.
 * @returns the string, or `undefined` when absent or invalid.
 */
export function readString(value: unknown, name: string, max: number, rec: ErrorRecorder): string | undefined {
  if (value === undefined || value === null) return undefined;
  let s: string;
  if (typeof value === 'string') s = value.trim();
  else if (typeof value === 'number' && Number.isFinite(value)) s = String(value);
  else {
    rec.invalid(name, value);
    return undefined;
  }
  if (s === '') return undefined;
  if (s.length > max) {
    rec.add('value_too_long', name);
    s = truncate(s, max);
  }
  return s;
}

/**
 * `value` itself when it is a string that `readString` would return unchanged (not empty, within
 * `max`, no surrounding whitespace), else `undefined`: a check that allocates nothing, for the
 * many strings of an event that need no work. Only printable ASCII counts as not whitespace at the
 * ends; anything else goes the long way.
 */
export function cleanString(value: unknown, max: number): string | undefined {
  if (typeof value !== 'string' || value.length === 0 || value.length > max) return undefined;
  const first = value.charCodeAt(0);
  const last = value.charCodeAt(value.length - 1);
  return first > 32 && first < 127 && last > 32 && last < 127 ? value : undefined;
}

const RFC3339 =
  /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?)?\s*(Z|z|[+-]\d{2}(?::?\d{2})?)?$/;

/**
 * Parses a Sentry timestamp to Unix seconds (float): a number of seconds, a numeric string, or an
 * RFC 3339 string; a string without zone is UTC (relay `protocol/types.rs` `Timestamp`; fixture
 * `relay-legacy_node_promise.json` sends `"2018-07-24T14:53:50"`). Sub-millisecond digits are kept.
 * @returns seconds, or `undefined` when the value is not a timestamp.
 */
export function parseTimestamp(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? value : undefined;
  if (typeof value !== 'string') return undefined;
  const s = value.trim();
  if (/^\d+(\.\d+)?$/.test(s)) return Number(s);
  const m = RFC3339.exec(s);
  if (!m) return undefined;
  const [, y, mo, d, h = '0', mi = '0', sec = '0', frac, zone] = m;
  const ms = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(sec));
  if (Number.isNaN(ms) || Number(mo) > 12 || Number(d) > 31 || Number(h) > 23 || Number(mi) > 59 || Number(sec) > 60) {
    return undefined;
  }
  let seconds = ms / 1000 + (frac ? Number(frac) : 0);
  if (zone && zone !== 'Z' && zone !== 'z') {
    const sign = zone[0] === '-' ? -1 : 1;
    const digits = zone.slice(1).replace(':', '');
    const offset = Number(digits.slice(0, 2)) * 3600 + Number(digits.slice(2) || '0') * 60;
    seconds -= sign * offset;
  }
  return seconds < 0 ? undefined : seconds;
}

const LEVEL_NAMES: Record<string, Level> = {
  fatal: 'fatal',
  critical: 'fatal',
  error: 'error',
  warning: 'warning',
  warn: 'warning',
  info: 'info',
  log: 'info',
  debug: 'debug',
  trace: 'debug',
};

/** Python `logging` levels, which old raven clients sent as numbers (relay `Level::from_python_level`). */
const PYTHON_LEVELS: Record<number, Level> = { 0: 'debug', 10: 'debug', 20: 'info', 30: 'warning', 40: 'error', 50: 'fatal' };

/**
 * Maps a level as sent (relay `protocol/types.rs` `Level`: `warn`→warning, `critical`→fatal,
 * `log`→info, numeric Python levels) to Sentry's five levels.
 * @returns the level, or `undefined` when unrecognized.
 */
export function parseLevel(value: unknown): Level | undefined {
  if (typeof value === 'number') return PYTHON_LEVELS[value];
  if (typeof value !== 'string') return undefined;
  const s = value.trim().toLowerCase();
  if (/^\d+$/.test(s)) return PYTHON_LEVELS[Number(s)];
  return LEVEL_NAMES[s];
}

/** Whether `capDepth(value, depth)` would leave a value as it is, so that it need not be copied. */
export function withinDepth(value: unknown, depth: number = MAX_DATABAG_DEPTH): boolean {
  if (typeof value === 'string') return value.length <= MAX_CHARS.databagString;
  if (value === null || typeof value !== 'object') return true;
  if (depth <= 0) return false;
  if (Array.isArray(value)) return value.every((v) => withinDepth(v, depth - 1));
  // A member named `__proto__` (JSON.parse makes it an own one) would become the copy's prototype.
  for (const k in value) if (Object.hasOwn(value, k) && (k === '__proto__' || !withinDepth((value as Record<string, unknown>)[k], depth - 1))) return false;
  return true;
}

/**
 * Bounds a databag: nesting below `depth` levels is replaced by a short string, strings longer
 * than 16 KiB are truncated with `...`. Returns a new value; the input is not modified.
 */
export function capDepth(value: unknown, depth: number = MAX_DATABAG_DEPTH): unknown {
  if (typeof value === 'string') return truncate(value, MAX_CHARS.databagString);
  if (value === null || typeof value !== 'object') return value;
  if (depth <= 0) return Array.isArray(value) ? '[...]' : '{...}';
  if (Array.isArray(value)) return value.map((v) => capDepth(v, depth - 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = capDepth(v, depth - 1);
  return out;
}
