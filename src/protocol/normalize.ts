/**
 * Event normalization: turns whatever an SDK sent as an event payload into a
 * {@link NormalizedEvent}, the shape the pipeline, grouping, storage and API read.
 *
 * This is Faultline's version of Relay's "light normalization" (relay-event-normalization
 * `event.rs` `normalize_event`, `validate_event`, `normalize_timestamps`) with the legacy
 * interface rules Sentry's Python side used to apply (protocol.md §4). It never throws for a bad
 * field: the field is dropped (or replaced by its default) and recorded in `errors` as Sentry's
 * `EventError` (`invalid_data`, `value_too_long`, `past_timestamp`, `future_timestamp`).
 * Clock-drift correction with `sent_at` is left out (needs the envelope header; the timestamp is
 * only clamped), and so are title/culprit/metadata (grouping), PII scrubbing, in-app rules,
 * symbolication and transaction/span normalization (pipeline steps).
 */
import { ProtocolError } from './errors.js';
import type { EventError, NormalizedEvent } from './event.js';
import { newEventId, normalizeUuid } from './ids.js';
import { normalizeBreadcrumbs, normalizeContexts, normalizeFingerprint, normalizeLogentry } from './normalize-parts.js';
import { findHeader, inferUserIp, normalizeRequest, normalizeUser } from './normalize-request.js';
import { splitFrames, type FramesPart } from './frames-text.js';
import { parseJson } from './json.js';
import { normalizeExceptions, normalizeStacktrace, normalizeThreads, placeStacktraces, withSplitFrames } from './normalize-stacktrace.js';
import { addDerivedTags, readTags } from './normalize-tags.js';
import { capDepth, ErrorRecorder, isObject, MAX_CHARS, parseLevel, parseTimestamp, readString, unset } from './normalize-values.js';

/** What the server knows about an event besides its payload. */
export interface NormalizeContext {
  /** Unix seconds (float) when the request arrived. */
  receivedAt: number;
  /** The client's IP (first `X-Forwarded-For` entry, else the peer), for `{{auto}}`. */
  clientIp?: string | null;
  /** The envelope header `event_id`; wins over the payload's (protocol.md §3.2). */
  eventId?: string | null;
  /** The request's `User-Agent`, used when the payload's request has none. */
  userAgent?: string | null;
  /**
   * Frames arrays split off the payload (frames-text.ts `splitFrames`), each put back where its
   * marker stands in a stack trace. A marker left elsewhere stays a string: `normalizePayload`
   * checks that every one was used.
   */
  splitFrames?: Map<string, FramesPart>;
}

/** Relay `max_secs_in_past`: 30 days. */
export const MAX_SECS_IN_PAST = 30 * 24 * 3600;
/** Relay `max_secs_in_future`: 1 minute. */
export const MAX_SECS_IN_FUTURE = 60;

/** Relay `VALID_PLATFORMS` (relay-event-schema `protocol/event.rs`); others become `other`. */
export const VALID_PLATFORMS: ReadonlySet<string> = new Set(
  'as3 c cfml cocoa csharp elixir haskell go groovy java javascript native node objc other perl php python ruby'.split(' '),
);

/** Pre-interface names old clients used (Relay `legacy_alias`); the canonical key wins. */
const LEGACY_ALIASES: [string, string][] = [
  ['sentry.interfaces.Exception', 'exception'],
  ['sentry.interfaces.Message', 'logentry'],
  ['message', 'logentry'],
  ['sentry.interfaces.Stacktrace', 'stacktrace'],
  ['sentry.interfaces.Http', 'request'],
  ['sentry.interfaces.User', 'user'],
  ['sentry.interfaces.Breadcrumbs', 'breadcrumbs'],
  ['sentry.interfaces.Threads', 'threads'],
];

/** Event types kept as sent; everything else is inferred (Relay `infer_event_type`). */
const EXPLICIT_TYPES = new Set(['transaction', 'feedback']);
const SECURITY_TYPES = ['csp', 'hpkp', 'expectct', 'expectstaple', 'nel'];

/** Sentry's release rules (sentry-release-parser `validate_release`). */
function validRelease(r: string): boolean {
  return !/[\r\n\t\f\x00/\\]/.test(r) && r !== '.' && r !== '..' && r.toLowerCase() !== 'latest';
}

/** Sentry's environment rule (`ENVIRONMENT_NAME_PATTERN = ^[^\n\r\f\/]*$`). */
function validEnvironment(e: string): boolean {
  return !/[\r\n\f/]/.test(e);
}

function readTimestamp(raw: unknown, received: number, rec: ErrorRecorder): number {
  if (raw === undefined || raw === null) return received;
  const ts = parseTimestamp(raw);
  if (ts === undefined) {
    rec.invalid('timestamp', raw);
    return received;
  }
  if (received - ts > MAX_SECS_IN_PAST) {
    rec.add('past_timestamp', 'timestamp', raw);
    return received;
  }
  if (ts - received > MAX_SECS_IN_FUTURE) {
    rec.add('future_timestamp', 'timestamp', raw);
    return received;
  }
  return ts;
}

function readStringField(
  out: NormalizedEvent,
  key: 'logger' | 'transaction' | 'server_name' | 'release' | 'dist' | 'environment',
  max: number,
  rec: ErrorRecorder,
  valid: (s: string) => boolean = () => true,
): void {
  // Identifiers that group data (release, dist, environment) are dropped when too long, as Relay's
  // `normalize_dist` does, rather than truncated into a different identifier.
  const drop = key === 'release' || key === 'dist' || key === 'environment';
  const v = readString(out[key], key, drop ? Number.MAX_SAFE_INTEGER : max, rec);
  if (v !== undefined && drop && v.length > max) {
    rec.add('value_too_long', key);
    delete out[key];
  } else if (v !== undefined && !valid(v)) {
    rec.invalid(key, v);
    delete out[key];
  } else if (v === undefined) delete out[key];
  else out[key] = v;
}

/**
 * Normalizes an event payload in place and returns it: `raw` must be the caller's own (fresh from
 * parsing).
 * @param raw the parsed JSON payload (an object).
 * @throws ProtocolError `invalid_json` when `raw` is not a JSON object; nothing else throws.
 */
export function normalizeEvent(raw: unknown, ctx: NormalizeContext): NormalizedEvent {
  return withSplitFrames(ctx.splitFrames ?? null, () => normalizeParsed(raw, ctx));
}

/**
 * Parses and normalizes a payload (valid JSON, as ingest checked it), its stacks' frames parsed
 * apart so the stored body can reuse their text, or not parsed at all when the same text went
 * through every step unchanged before (frames-text.ts). A frames array found outside a stack
 * trace, or a payload the split cannot take, is parsed whole as before.
 * @throws ProtocolError as `parseJson` and `normalizeEvent` do.
 */
export function normalizePayload(payload: string, ctx: NormalizeContext): NormalizedEvent {
  const split = splitFrames(payload);
  if (split) {
    let event: NormalizedEvent | null = null;
    try {
      event = normalizeEvent(JSON.parse(split.text), { ...ctx, splitFrames: split.parts });
    } catch {
      // Parsed whole below, where the error names positions in what the client sent.
    }
    if (event && split.parts.size === 0) return event;
  }
  return normalizeEvent(parseJson(payload, { allowNonFinite: true }), ctx);
}

function normalizeParsed(raw: unknown, ctx: NormalizeContext): NormalizedEvent {
  if (!isObject(raw)) throw new ProtocolError('invalid_json', 'event payload must be a JSON object', 400);
  const rec = new ErrorRecorder();
  // Normalized in place: every field is read before it is written. A copy made with `{...raw}`
  // and then given new fields got a map of its own in V8 (Node 20) once the spread's inline cache
  // settled, and every field added after that went through the runtime: a few µs per field, for
  // every event, here and in every later step that adds one.
  const src = raw;
  for (const [alias, key] of LEGACY_ALIASES) {
    if (!(alias in src)) continue;
    if (src[key] === undefined || src[key] === null) src[key] = src[alias];
    unset(src, alias);
  }
  const out = src as NormalizedEvent;
  const rawStacktrace = src.stacktrace;
  if (rawStacktrace !== undefined) delete out.stacktrace;

  // Identity and time.
  const fromEnvelope = normalizeUuid(ctx.eventId);
  const fromPayload = normalizeUuid(src.event_id);
  if (!fromEnvelope && src.event_id !== undefined && src.event_id !== null && !fromPayload) rec.invalid('event_id', src.event_id);
  out.event_id = fromEnvelope ?? fromPayload ?? newEventId();
  out.received = ctx.receivedAt;
  out.timestamp = readTimestamp(src.timestamp, ctx.receivedAt, rec);
  if (src.start_timestamp !== undefined) {
    const start = parseTimestamp(src.start_timestamp);
    if (start === undefined) {
      rec.invalid('start_timestamp', src.start_timestamp);
      delete out.start_timestamp;
    } else out.start_timestamp = start;
  }

  // Scalars.
  const explicitType = typeof src.type === 'string' ? src.type : undefined;
  const level = src.level === undefined || src.level === null ? undefined : parseLevel(src.level);
  if (src.level != null && level === undefined) rec.invalid('level', src.level);
  out.level = level ?? (explicitType === 'transaction' ? 'info' : 'error');
  if (src.platform !== undefined && src.platform !== null && typeof src.platform !== 'string') rec.invalid('platform', src.platform);
  out.platform = typeof src.platform === 'string' && VALID_PLATFORMS.has(src.platform) ? src.platform : 'other';
  readStringField(out, 'logger', MAX_CHARS.logger, rec);
  readStringField(out, 'transaction', MAX_CHARS.transaction, rec);
  readStringField(out, 'server_name', MAX_CHARS.serverName, rec);
  readStringField(out, 'release', MAX_CHARS.release, rec, validRelease);
  readStringField(out, 'dist', MAX_CHARS.dist, rec);
  readStringField(out, 'environment', MAX_CHARS.environment, rec, validEnvironment);

  const logentry = normalizeLogentry(src.logentry, 'logentry', rec);
  if (logentry) out.logentry = logentry;
  else delete out.logentry;

  // Stack-bearing interfaces.
  const exception = normalizeExceptions(src.exception, rec);
  const topLevel = normalizeStacktrace(rawStacktrace, 'stacktrace', rec);
  const { threads } = placeStacktraces(exception, normalizeThreads(src.threads, rec), topLevel);
  if (exception) out.exception = exception;
  else delete out.exception;
  if (threads) out.threads = threads;
  else delete out.threads;

  const breadcrumbs = normalizeBreadcrumbs(src.breadcrumbs, rec);
  if (breadcrumbs) out.breadcrumbs = breadcrumbs;
  else delete out.breadcrumbs;

  // Request, user, contexts.
  const request = normalizeRequest(src.request, rec);
  if (request) out.request = request;
  else delete out.request;
  const sdk = isObject(src.sdk) ? src.sdk : null;
  if (src.sdk !== undefined && src.sdk !== null && !sdk) rec.invalid('sdk', src.sdk);
  if (!sdk) delete out.sdk;
  const settings = isObject(sdk?.settings) ? sdk.settings : undefined;
  const user = inferUserIp(normalizeUser(src.user, rec), request, {
    clientIp: ctx.clientIp,
    platform: out.platform,
    inferIp: settings?.infer_ip,
  });
  if (user) out.user = user;
  else delete out.user;
  const contexts = normalizeContexts(src.contexts, rec, {
    userAgent: findHeader(request?.headers, 'user-agent') ?? ctx.userAgent,
    platform: out.platform,
  });
  if (contexts) out.contexts = contexts;
  else delete out.contexts;

  // Tags: a legacy `environment` tag fills the field (Relay normalize_event_tags), then derived tags.
  const { tags, environment } = readTags(src.tags, rec);
  out.tags = tags;
  if (environment && !out.environment && validEnvironment(environment) && environment.length <= MAX_CHARS.environment) {
    out.environment = environment;
  }

  // Type (after exception and security interfaces are known).
  if (explicitType && EXPLICIT_TYPES.has(explicitType)) out.type = explicitType;
  else if (exception) out.type = 'error';
  else out.type = SECURITY_TYPES.find((t) => isObject(src[t])) ?? (explicitType && SECURITY_TYPES.includes(explicitType) ? explicitType : 'default');

  const fingerprint = normalizeFingerprint(src.fingerprint, rec);
  if (fingerprint) out.fingerprint = fingerprint;
  else delete out.fingerprint;
  const checksum = readString(src.checksum, 'checksum', MAX_CHARS.enumLike, rec);
  if (checksum) out.checksum = checksum;
  else delete out.checksum;

  // Databags: kept, but bounded.
  if (src.extra !== undefined) {
    if (isObject(src.extra)) out.extra = capDepth(src.extra) as Record<string, unknown>;
    else {
      if (src.extra !== null) rec.invalid('extra', src.extra);
      delete out.extra;
    }
  }
  if (src.modules !== undefined && !isObject(src.modules)) {
    if (src.modules !== null) rec.invalid('modules', src.modules);
    delete out.modules;
  }

  addDerivedTags(out);
  const clientErrors = Array.isArray(src.errors)
    ? (src.errors.filter((e) => isObject(e) && typeof e.type === 'string').map((e) => capDepth(e, 3)) as EventError[])
    : [];
  out.errors = clientErrors.length > 0 ? [...clientErrors, ...rec.errors] : rec.errors;
  return out;
}
