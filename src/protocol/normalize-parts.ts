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
import { capDepth, ErrorRecorder, isObject, MAX_CHARS, parseLevel, parseTimestamp, readString, truncate } from './normalize-values.js';
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

/** Normalizes `breadcrumbs` (`{values}` or a list); keeps the newest {@link MAX_BREADCRUMBS}. */
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
    const b = list[i];
    const path = `breadcrumbs.values.${i}`;
    if (!isObject(b)) {
      if (b !== null) rec.invalid(path, b);
      continue;
    }
    const crumb: Breadcrumb = { ...b };
    if (b.timestamp !== undefined && b.timestamp !== null) {
      const ts = parseTimestamp(b.timestamp);
      if (ts === undefined) rec.invalid(`${path}.timestamp`, b.timestamp);
      if (ts === undefined) delete crumb.timestamp;
      else crumb.timestamp = ts;
    } else delete crumb.timestamp;
    crumb.type = readString(b.type, `${path}.type`, MAX_CHARS.enumLike, rec) ?? 'default';
    const level = b.level === undefined || b.level === null ? undefined : parseLevel(b.level);
    if (b.level != null && level === undefined) rec.invalid(`${path}.level`, b.level);
    crumb.level = level ?? 'info';
    for (const key of ['category', 'message'] as const) {
      const v = readString(b[key], `${path}.${key}`, key === 'message' ? MAX_CHARS.message : MAX_CHARS.enumLike, rec);
      if (v === undefined) delete crumb[key];
      else crumb[key] = v;
    }
    if (b.data !== undefined && b.data !== null) {
      if (isObject(b.data)) crumb.data = capDepth(b.data) as Record<string, unknown>;
      else {
        rec.invalid(`${path}.data`, b.data);
        delete crumb.data;
      }
    }
    values.push(crumb);
  }
  return { values };
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
    for (const [key, value] of Object.entries(raw)) {
      if (value === null || value === undefined) continue;
      if (!isObject(value)) {
        rec.invalid(`contexts.${key}`, value);
        continue;
      }
      const ctx = capDepth(value) as Record<string, unknown>;
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
