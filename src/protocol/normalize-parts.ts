/**
 * Normalization of the smaller event interfaces: `logentry` (and the legacy `message`),
 * `breadcrumbs`, `contexts` (with User-Agent derived `browser`/`os`), and `fingerprint`.
 *
 * Sources: relay-event-normalization `logentry.rs` (`normalize_logentry`, `format_message`),
 * `normalize/breadcrumbs` and relay-event-schema `protocol/breadcrumb.rs` (type default
 * `default`, level default `info`), `protocol/contexts/mod.rs` (`type` defaults to the key),
 * `normalize/user_agent.rs` (browser/os from the User-Agent header; for non-browser platforms the
 * os goes to `client_os` so a server SDK's own os context is kept), and `protocol/fingerprint.rs`
 * (numbers and booleans coerced, `True`/`False` like Python; other entries invalid).
 * Left out: Relay's per-context normalization (os raw_description parsing, device families),
 * Sentry's 100-breadcrumb trimming by byte size (we keep the last 100 by count).
 */
import type { Breadcrumb, LogEntry } from './event.js';
import { capDepth, ErrorRecorder, isObject, MAX_CHARS, parseLevel, parseTimestamp, readString, cleanString, truncate, withinDepth } from './normalize-values.js';
import { readValues } from './normalize-stacktrace.js';
import { parseUserAgent } from './user-agent.js';

/** How many breadcrumbs are kept (the newest ones); the SDKs' default `maxBreadcrumbs`. */
export const MAX_BREADCRUMBS = 100;

function paramString(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v === null || v === undefined) return 'None';
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (typeof v === 'number') return String(v);
  return JSON.stringify(v);
}

/** Python `%`-formatting as Relay's `format_message` does it: positional `%s`, named `%(x)s`, `%%`. */
export function formatParams(message: string, params: unknown): string | undefined {
  let index = 0;
  let ok = true;
  const out = message.replace(/%(?:\((\w+)\))?[#0\- +]*\d*(?:\.\d+)?[hlL]?([diouxXeEfFgGcrs%])/g, (all, name, conv) => {
    if (conv === '%') return '%';
    if (name !== undefined) {
      if (!isObject(params) || !(name in params)) return (ok = false), all;
      return paramString(params[name]);
    }
    if (!Array.isArray(params) || index >= params.length) return (ok = false), all;
    return paramString(params[index++]);
  });
  return ok ? out : undefined;
}

/** Normalizes `logentry` (or a legacy `message` string / object); `null` when there is no text. */
export function normalizeLogentry(raw: unknown, name: string, rec: ErrorRecorder): LogEntry | null {
  if (raw === undefined || raw === null) return null;
  if (typeof raw === 'string') raw = { formatted: raw };
  if (!isObject(raw)) {
    rec.invalid(name, raw);
    return null;
  }
  const entry: LogEntry = { ...raw };
  const text = (v: unknown) => (typeof v === 'string' ? v : v === undefined || v === null ? undefined : paramString(v));
  let formatted = text(raw.formatted);
  let message = text(raw.message);
  if (formatted === undefined && message === undefined) {
    if (Object.keys(raw).length > 0) rec.invalid(name, 'no message present');
    return null;
  }
  if (formatted === undefined && message !== undefined && raw.params != null) {
    formatted = formatParams(message, raw.params);
  }
  // Relay: only `message` given, or both equal → it is the formatted text, not a template.
  if (formatted === undefined || formatted === message) {
    formatted = message;
    message = undefined;
  }
  if (formatted !== undefined && formatted.length > MAX_CHARS.message) {
    rec.add('value_too_long', `${name}.formatted`);
    formatted = truncate(formatted, MAX_CHARS.message);
  }
  entry.formatted = formatted;
  if (message !== undefined) entry.message = truncate(message, MAX_CHARS.message);
  else delete entry.message;
  if (raw.params === null || raw.params === undefined) delete entry.params;
  else if (Array.isArray(raw.params)) entry.params = capDepth(raw.params, 3) as unknown[];
  return entry;
}

/**
 * Normalizes `breadcrumbs` (`{values}` or a list) in place; keeps the newest {@link MAX_BREADCRUMBS}.
 * Error paths are built only when an error is recorded.
 */
export function normalizeBreadcrumbs(raw: unknown, rec: ErrorRecorder): { values: Breadcrumb[] } | null {
  if (raw === undefined || raw === null) return null;
  const list = readValues(raw);
  if (!list) {
    rec.invalid('breadcrumbs', raw);
    return null;
  }
  const start = Math.max(0, list.length - MAX_BREADCRUMBS);
  const values: Breadcrumb[] = [];
  for (let i = start; i < list.length; i++) {
    const crumb: unknown = list[i];
    if (!isObject(crumb)) {
      if (crumb !== null) rec.invalid(`breadcrumbs.values.${i}`, crumb);
      continue;
    }
    values.push(normalizeBreadcrumb(crumb as Breadcrumb, i, rec));
  }
  return { values };
}

function normalizeBreadcrumb(crumb: Breadcrumb, i: number, rec: ErrorRecorder): Breadcrumb {
  const ts: unknown = crumb.timestamp;
  if (ts !== undefined && ts !== null) {
    const seconds = typeof ts === 'number' && Number.isFinite(ts) && ts >= 0 ? ts : parseTimestamp(ts);
    if (seconds === undefined) {
      rec.invalid(`breadcrumbs.values.${i}.timestamp`, ts);
      delete crumb.timestamp;
    } else if (seconds !== ts) crumb.timestamp = seconds;
  } else if (ts === null) delete crumb.timestamp;
  const type: unknown = crumb.type;
  crumb.type = cleanString(type, MAX_CHARS.enumLike) ?? readString(type, `breadcrumbs.values.${i}.type`, MAX_CHARS.enumLike, rec) ?? 'default';
  const rawLevel: unknown = crumb.level;
  const level = rawLevel === undefined || rawLevel === null ? undefined : parseLevel(rawLevel);
  if (rawLevel != null && level === undefined) rec.invalid(`breadcrumbs.values.${i}.level`, rawLevel);
  crumb.level = level ?? 'info';
  for (const key of ['category', 'message'] as const) {
    const v: unknown = crumb[key];
    if (v === undefined) continue;
    const max = key === 'message' ? MAX_CHARS.message : MAX_CHARS.enumLike;
    const s = cleanString(v, max) ?? readString(v, `breadcrumbs.values.${i}.${key}`, max, rec);
    if (s === undefined) delete crumb[key];
    else if (s !== v) crumb[key] = s;
  }
  const data: unknown = crumb.data;
  if (data !== undefined && data !== null) {
    if (isObject(data)) crumb.data = capDepth(data) as Record<string, unknown>;
    else {
      rec.invalid(`breadcrumbs.values.${i}.data`, data);
      delete crumb.data;
    }
  }
  return crumb;
}

/**
 * Normalizes `contexts` and, when `browser` / `os` are missing, derives them from a browser
 * User-Agent. Returns `undefined` when there are no contexts at all.
 */
export function normalizeContexts(
  raw: unknown,
  rec: ErrorRecorder,
  ua: { userAgent?: string | null; platform: string },
): Record<string, Record<string, unknown>> | undefined {
  const contexts: Record<string, Record<string, unknown>> = {};
  if (isObject(raw)) {
    for (const key in raw) {
      if (!Object.hasOwn(raw, key)) continue;
      const value = raw[key];
      if (value === null || value === undefined) continue;
      if (!isObject(value)) {
        rec.invalid(`contexts.${key}`, value);
        continue;
      }
      // Most contexts are within bounds: kept as parsed (the event is the worker's own) instead of copied.
      const ctx = (withinDepth(value) ? value : capDepth(value)) as Record<string, unknown>;
      if (typeof ctx.type !== 'string' || ctx.type === '') ctx.type = key;
      contexts[key] = ctx;
    }
  } else if (raw !== undefined && raw !== null) {
    rec.invalid('contexts', raw);
  }
  const parsed = parseUserAgent(ua.userAgent);
  if (parsed.browser && !contexts.browser) contexts.browser = { ...parsed.browser, type: 'browser' };
  const osKey = ua.platform === 'javascript' ? 'os' : 'client_os';
  if (parsed.os && !contexts[osKey]) contexts[osKey] = { ...parsed.os, type: 'os' };
  return Object.keys(contexts).length > 0 ? contexts : undefined;
}

/** Normalizes `fingerprint` to strings; `null` when absent or not a list. */
export function normalizeFingerprint(raw: unknown, rec: ErrorRecorder): string[] | null {
  if (raw === undefined || raw === null) return null;
  if (!Array.isArray(raw)) {
    rec.invalid('fingerprint', raw);
    return null;
  }
  const out: string[] = [];
  raw.forEach((v, i) => {
    if (typeof v === 'string') out.push(v);
    else if (typeof v === 'number' && Number.isFinite(v)) out.push(String(Math.trunc(v)));
    else if (typeof v === 'boolean') out.push(v ? 'True' : 'False');
    else if (v !== null) rec.invalid(`fingerprint.${i}`, v);
  });
  return out;
}
