/**
 * Step: server-side data scrubbing, before anything is stored (Sentry's "Data Scrubber", as Relay's
 * legacy datascrubbing config applies it: relay-pii `convert.rs`, `builtin.rs`).
 *
 * - A value whose KEY contains a sensitive word (Sentry's defaults, or the project's
 *   `sensitiveFields`) becomes `[Filtered]`, unless the key is one of the project's `safeFields`.
 * - Inside string VALUES: credit card numbers (Luhn-checked), `key=value` / `key: value` pairs
 *   with a sensitive key (query strings, cookies, log lines), `Bearer`/`Basic` credentials,
 *   passwords in URLs and PEM private keys are replaced by `[Filtered]`.
 * - With `scrubIPAddresses`, IP addresses are removed and the client IP is not stored.
 * Every change is recorded in `event._meta` at the path of the value, in Sentry's shape
 * (`{"": {"rem": [[rule, "s"|"x"]], "len": n}}`), so the UI can say what was removed and why.
 * Left out: Relay's advanced PII rules (custom regexes, hashing, masking) and scrubbing of
 * attachments; in source context lines only the value patterns apply (card numbers, keys, URL
 * passwords), since `password = ...` there is code.
 */
import { framesChanged, isUnparsed, type NormalizedEvent } from '../protocol/index.js';
import type { ProjectOptions } from '../db/models/project-options.js';

/** Sentry's current default sensitive words (Relay `DEFAULT_SCRUBBED_KEYS` via `@password`). */
export const DEFAULT_SENSITIVE_FIELDS = [
  'password', 'secret', 'passwd', 'api_key', 'apikey', 'auth', 'credentials', 'mysql_pwd', 'privatekey', 'private_key', 'token', 'bearer',
];

export const FILTERED = '[Filtered]';

/** Top-level fields that hold identifiers and structure, never user data. */
const SKIP_TOP = new Set([
  'event_id', 'timestamp', 'received', 'type', 'platform', 'level', 'release', 'dist', 'environment', 'sdk', 'fingerprint',
  'checksum', 'modules', 'debug_meta', 'errors', 'hashes', 'grouping_config', 'title', 'culprit', 'metadata', 'location',
  'logger', 'project', 'group_id', '_meta', 'transaction', 'server_name',
]);
/** Frame fields that locate code rather than carry data. */
const SKIP_FRAME = new Set([
  'filename', 'abs_path', 'function', 'raw_function', 'module', 'package', 'platform', 'lineno', 'colno', 'in_app',
  'instruction_addr', 'symbol_addr', 'image_addr', 'addr_mode', 'data',
]);
/** Source code around a frame: card numbers and keys are removed, `key = value` code is kept. */
const SOURCE_FRAME = new Set(['pre_context', 'context_line', 'post_context']);
const SKIP = 1;
const SOURCE = 2;
/** Both sets as one lookup (a frame has a dozen fields, and the two lookups per field added up). */
const FRAME_FIELD_KIND: Record<string, typeof SKIP | typeof SOURCE | undefined> = Object.assign(
  Object.create(null) as Record<string, typeof SKIP | typeof SOURCE>,
  Object.fromEntries([...[...SKIP_FRAME].map((k) => [k, SKIP]), ...[...SOURCE_FRAME].map((k) => [k, SOURCE])]),
);

type Meta = Record<string, any>;

interface Scrubber {
  /** `scrubConfigKey` of its options. */
  key: string;
  keyRule(key: string): string | null;
  scrubIp: boolean;
  values: boolean;
  /** `key=value` / `key: value` pairs with a sensitive key, compiled once per scrubber. */
  pairsRe: RegExp | null;
}

function luhn(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

const CARD = /\b(?:\d[ -]?){12,18}\d\b/g;
const URL_AUTH = /\b([a-z][a-z0-9+.-]*:\/\/[^:/?#\s@]+:)([^@/\s]+)(@)/gi;
const PEM = /-----BEGIN[A-Z ]*PRIVATE KEY-----[\s\S]+?-----END[A-Z ]*PRIVATE KEY-----/g;
const AUTH_SCHEME = /\b(Bearer|Basic|Token)\s+[A-Za-z0-9\-._~+/]+=*/gi;
// A non-global twin for the cheap "could it match at all" check.
const AUTH_HINT = /(?:bearer|basic|token)\s/i;
const IPV4 = /\b(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)\b/g;
const IPV6 = /\b(?:[0-9a-f]{1,4}:){2,7}[0-9a-f]{1,4}\b/gi;

/** Rules that fired in the last `scrubString` call (one scratch array: scrubbing is synchronous). */
const fired: string[] = [];

function fire(rule: string): void {
  if (!fired.includes(rule)) fired.push(rule);
}

/**
 * Scrubs inside a string; returns the new string (the same one when nothing matched) and leaves
 * the rules that fired in `fired`. `pairs` is false for source code, where `password = ...` is
 * code, not a credential.
 */
function scrubString(s: string, sc: Scrubber, pairs = true): string {
  fired.length = 0;
  let out = s;
  if (sc.values) {
    // Cheap checks first: most strings hold none of these, and the regexes are the cost.
    if (/\d{4}/.test(out)) out = out.replace(CARD, (m) => {
      const digits = m.replace(/[ -]/g, '');
      if (digits.length < 13 || digits.length > 19 || !luhn(digits)) return m;
      fire('@creditcard:filter');
      return FILTERED;
    });
    if (out.includes('PRIVATE KEY')) out = out.replace(PEM, () => (fire('@pemkey:filter'), FILTERED));
    if (out.includes('://') && out.includes('@')) out = out.replace(URL_AUTH, (_m, pre, _pw, at) => (fire('@urlauth:legacy'), `${pre}${FILTERED}${at}`));
    if (AUTH_HINT.test(out)) out = out.replace(AUTH_SCHEME, (_m, scheme) => (fire('@password:filter'), `${scheme} ${FILTERED}`));
    if (pairs && sc.pairsRe && (out.includes('=') || out.includes(':'))) {
      out = out.replace(sc.pairsRe, (m, key: string, sep: string, value: string) => {
        if (value === FILTERED || !sc.keyRule(key)) return m;
        fire(sc.keyRule(key)!);
        return `${key}${sep}${FILTERED}`;
      });
    }
  }
  if (sc.scrubIp) {
    out = out.replace(IPV4, () => (fire('@ip:replace'), '[ip]')).replace(IPV6, () => (fire('@ip:replace'), '[ip]'));
  }
  return out;
}

/** Scrubs a string and notes the rules that fired at `path`. */
function scrubAt(value: string, path: (string | number)[], sc: Scrubber, meta: Meta, pairs = true): string {
  if (pairs && value.length <= SHORT_VALUE) return scrubRemembering(value, path, sc, meta, true);
  const out = scrubString(value, sc, pairs);
  for (const rule of fired) note(meta, path, rule, value, false);
  return out;
}

/** Values this short are looked up among those seen before: breadcrumbs, tags and contexts repeat them. */
const SHORT_VALUE = 200;
/** Per scrubber, strings no rule changed, for values (`pairs`) and for source lines. */
const cleanValues = new WeakMap<Scrubber, Set<string>>();
const cleanSourceLines = new WeakMap<Scrubber, Set<string>>();

/**
 * `scrubAt` for strings that come back in event after event: a string no rule changed is
 * remembered and skipped next time. One a rule changed is scrubbed every time and never kept, so
 * no secret outlives its event in memory. `fired` holds the rules that fired, as after `scrubString`.
 */
function scrubRemembering(value: string, path: (string | number)[], sc: Scrubber, meta: Meta, pairs: boolean): string {
  const memos = pairs ? cleanValues : cleanSourceLines;
  let clean = memos.get(sc);
  if (!clean) memos.set(sc, (clean = new Set()));
  if (clean.has(value)) {
    fired.length = 0;
    return value;
  }
  const out = scrubString(value, sc, pairs);
  if (fired.length === 0) {
    if (clean.size >= 20_000) clean.clear();
    clean.add(value);
  }
  for (const rule of fired) note(meta, path, rule, value, false);
  return out;
}

/** Notes written so far: every change the scrubber makes is noted, so a stack can tell whether it had any. */
let notesWritten = 0;

function note(meta: Meta, path: readonly (string | number)[], rule: string, original: unknown, removed: boolean): void {
  notesWritten++;
  let node = meta;
  for (const seg of path) node = node[String(seg)] ??= {};
  const entry = (node[''] ??= {});
  (entry.rem ??= []).push([rule, removed ? 'x' : 's']);
  if (typeof original === 'string') entry.len = original.length;
}

/**
 * Walks a value; `key` is the name it sits under (for key-based rules). Returns the new value;
 * arrays and objects are changed in place (the event is the worker's own, fresh from parsing), so
 * an event with nothing to scrub allocates nothing. `path` is one array pushed and popped on the
 * way (copied only when a note is written).
 */
function walk(value: unknown, key: string | null, path: (string | number)[], sc: Scrubber, meta: Meta, depth: number): unknown {
  if (depth > 20) return value;
  if (key !== null && value !== null && value !== undefined && value !== '') {
    const rule = sc.keyRule(key);
    if (rule) {
      note(meta, path, rule, value, false);
      return FILTERED;
    }
  }
  if (typeof value === 'string') return scrubAt(value, path, sc, meta);
  if (Array.isArray(value)) {
    // [key, value] pairs (headers, cookies, query strings, tags) carry their key in slot 0.
    const isPair = value.length === 2 && typeof value[0] === 'string';
    if (isPair) {
      path.push(1);
      value[1] = walk(value[1], value[0], path, sc, meta, depth + 1);
      path.pop();
      return value;
    }
    for (let i = 0; i < value.length; i++) {
      path.push(i);
      const v = walk(value[i], null, path, sc, meta, depth + 1);
      if (v !== value[i]) value[i] = v;
      path.pop();
    }
    return value;
  }
  if (value && typeof value === 'object') {
    const obj = value as Record<string, unknown>;
    for (const k in obj) {
      if (!Object.hasOwn(obj, k)) continue;
      path.push(k);
      const v = walk(obj[k], k, path, sc, meta, depth + 1);
      if (v !== obj[k]) obj[k] = v;
      path.pop();
    }
    return obj;
  }
  return value;
}

// Bounded key length and a token-start lookbehind keep this linear on long strings.
function pairsRegExp(alternation: string): RegExp {
  return new RegExp(`(?<![\\w.-])([\\w.-]{0,40}?(?:${alternation})[\\w.-]{0,40})(\\s*[=:]\\s*)("[^"]*"|'[^']*'|[^\\s&;,]+)`, 'gi');
}

const scrubbers = new WeakMap<ProjectOptions, Scrubber>();

function makeScrubber(opts: ProjectOptions): Scrubber {
  const cached = scrubbers.get(opts);
  if (cached) return cached;
  const sc = buildScrubber(opts);
  scrubbers.set(opts, sc);
  return sc;
}

function buildScrubber(opts: ProjectOptions): Scrubber {
  const words = [...(opts.dataScrubberDefaults ? DEFAULT_SENSITIVE_FIELDS : []), ...opts.sensitiveFields]
    .map((w) => w.trim().toLowerCase())
    .filter(Boolean);
  const safe = new Set(opts.safeFields.map((f) => f.trim().toLowerCase()));
  const custom = new Set(opts.sensitiveFields.map((f) => f.trim().toLowerCase()));
  const enabled = opts.dataScrubber;
  const keyRules = new Map<string, string | null>();
  return {
    key: scrubConfigKey(opts),
    keyRule(key) {
      if (!enabled) return null;
      // Keys repeat from event to event (message, filename, category, ...): decide each once.
      let rule = keyRules.get(key);
      if (rule === undefined) {
        rule = null;
        const k = key.toLowerCase();
        if (!safe.has(k)) {
          for (const w of words) {
            if (k.includes(w)) {
              rule = custom.has(w) ? 'strip-fields' : '@password:filter';
              break;
            }
          }
        }
        if (keyRules.size >= 10_000) keyRules.clear();
        keyRules.set(key, rule);
      }
      return rule;
    },
    scrubIp: opts.scrubIPAddresses,
    values: enabled && opts.dataScrubberDefaults,
    pairsRe: enabled && words.length ? pairsRegExp(words.map((w) => w.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|')) : null,
  };
}

const configKeys = new WeakMap<ProjectOptions, string>();

/**
 * What scrubbing does under these options, as a string: a stack known to be clean under one key
 * (protocol/frames-text.ts) is clean under any options with the same key.
 */
export function scrubConfigKey(opts: ProjectOptions): string {
  let key = configKeys.get(opts);
  if (key === undefined) {
    key = !opts.dataScrubber && !opts.scrubIPAddresses ? 'off' : JSON.stringify([opts.dataScrubber, opts.dataScrubberDefaults, opts.sensitiveFields, opts.safeFields, opts.scrubIPAddresses]);
    configKeys.set(opts, key);
  }
  return key;
}

/** Scrubs the event in place and records what was removed in `event._meta`. */
export function scrubEvent(event: NormalizedEvent, opts: ProjectOptions): void {
  if (!opts.dataScrubber && !opts.scrubIPAddresses) return;
  const sc = makeScrubber(opts);
  const meta: Meta = (event._meta as Meta | undefined) ?? {};
  if (opts.scrubIPAddresses) {
    if (event.user?.ip_address) {
      note(meta, ['user', 'ip_address'], '@ip:remove', event.user.ip_address, true);
      delete event.user.ip_address;
    }
    const env = event.request?.env as Record<string, unknown> | null | undefined;
    if (env && env.REMOTE_ADDR) {
      note(meta, ['request', 'env', 'REMOTE_ADDR'], '@ip:remove', env.REMOTE_ADDR, true);
      delete env.REMOTE_ADDR;
    }
    // A user known only by IP is no longer known.
    event.tags = event.tags.filter(([k, v]) => !(k === 'user' && v.startsWith('ip:')));
  }
  const record = event as Record<string, unknown>;
  for (const k in record) {
    if (!Object.hasOwn(record, k)) continue;
    const v = record[k];
    if (SKIP_TOP.has(k) || v === null || v === undefined) continue;
    if (k === 'exception' || k === 'threads') {
      record[k] = scrubStackContainer(v, k, sc, meta);
      continue;
    }
    if (k === 'tags') {
      event.tags = event.tags.map(([tk, tv], i) => {
        if (tk === 'user') return [tk, tv];
        return [tk, walk(tv, tk, ['tags', i, 1], sc, meta, 0) as string];
      });
      continue;
    }
    record[k] = walk(v, null, [k], sc, meta, 0);
  }
  if (Object.keys(meta).length) event._meta = meta;
}

function scrubSourceLine(line: string, path: (string | number)[], sc: Scrubber, meta: Meta): string {
  const out = scrubRemembering(line, path, sc, meta, false);
  if (fired.length) sourceLinesScrubbed++;
  return out;
}

/** Source lines of a scrubber's frames, by context line, seen with nothing in them to scrub. */
const cleanSources = new WeakMap<Scrubber, Map<string, { pre: unknown[] | undefined; post: unknown[] | undefined }>>();
/** Counts the source lines `scrubSourceLine` changed, so a frame can tell whether it had any. */
let sourceLinesScrubbed = 0;

function sameLines(lines: unknown, seen: unknown[] | undefined): boolean {
  if (lines === undefined || seen === undefined) return lines === seen;
  if (!Array.isArray(lines) || lines.length !== seen.length) return false;
  for (let i = 0; i < lines.length; i++) if (lines[i] !== seen[i]) return false;
  return true;
}

/**
 * Whether the frame's source context is exactly one seen before with nothing to scrub. Looking
 * each of a frame's ~11 lines up in the line memo hashes every line; this hashes only the context
 * line and compares the others to the lines seen with it.
 */
function sourceKnownClean(frame: Record<string, unknown>, sc: Scrubber): boolean {
  const line = frame.context_line;
  if (typeof line !== 'string') return false;
  const seen = cleanSources.get(sc)?.get(line);
  return seen !== undefined && sameLines(frame.pre_context, seen.pre) && sameLines(frame.post_context, seen.post);
}

/** Remembers a frame's source context as clean (after its lines were scrubbed and none changed). */
function rememberCleanSource(frame: Record<string, unknown>, sc: Scrubber): void {
  const { context_line: line, pre_context: pre, post_context: post } = frame;
  if (typeof line !== 'string') return;
  if ((pre !== undefined && !Array.isArray(pre)) || (post !== undefined && !Array.isArray(post))) return;
  let memo = cleanSources.get(sc);
  if (!memo) cleanSources.set(sc, (memo = new Map()));
  if (memo.size >= 20_000) memo.clear();
  // Copies: later steps (source maps) may change the event's arrays.
  memo.set(line, { pre: pre?.slice(), post: post?.slice() });
}

function scrubSource(value: unknown, path: (string | number)[], sc: Scrubber, meta: Meta): unknown {
  if (typeof value === 'string') return scrubSourceLine(value, path, sc, meta);
  if (!Array.isArray(value)) return value;
  for (let i = 0; i < value.length; i++) {
    const line = value[i];
    if (typeof line !== 'string') continue;
    path.push(i);
    value[i] = scrubSourceLine(line, path, sc, meta);
    path.pop();
  }
  return value;
}

/** Exceptions and threads: scrub values, frame vars and source context, never the code location fields. */
function scrubStackContainer(container: unknown, name: string, sc: Scrubber, meta: Meta): unknown {
  const c = container as { values?: Record<string, any>[] };
  if (!c || !Array.isArray(c.values)) return container;
  const path: (string | number)[] = [name, 'values'];
  for (let i = 0; i < c.values.length; i++) {
    const v = c.values[i];
    if (!v || typeof v !== 'object') continue;
    path.push(i);
    if (typeof v.value === 'string') {
      path.push('value');
      v.value = walk(v.value, null, path, sc, meta, 0);
      path.pop();
    }
    for (const stKey of ['stacktrace', 'raw_stacktrace']) {
      const st = v[stKey];
      // A stack text this configuration left unchanged before: nothing to scrub, and not parsed.
      if (isUnparsed(st) && st.knownStack.scrubClean.includes(sc.key)) continue;
      if (!st || !Array.isArray(st.frames)) continue;
      path.push(stKey, 'frames');
      const notesBefore = notesWritten;
      for (let j = 0; j < st.frames.length; j++) {
        const frame = st.frames[j] as Record<string, any>;
        if (!frame || typeof frame !== 'object') continue;
        path.push(j);
        const clean = sourceKnownClean(frame, sc);
        const scrubbedBefore = sourceLinesScrubbed;
        for (const fk in frame) {
          const kind = FRAME_FIELD_KIND[fk];
          if (kind === SKIP || !Object.hasOwn(frame, fk)) continue;
          const source = kind === SOURCE;
          if (source && clean) continue;
          path.push(fk);
          const fv = frame[fk];
          const nv = source ? scrubSource(fv, path, sc, meta) : walk(fv, fk === 'vars' ? null : fk, path, sc, meta, 0);
          if (nv !== fv) frame[fk] = nv;
          path.pop();
        }
        if (!clean && sourceLinesScrubbed === scrubbedBefore) rememberCleanSource(frame, sc);
        path.pop();
      }
      // The client's text of these frames no longer stands for them (frames-text.ts).
      if (notesWritten !== notesBefore) framesChanged(st.frames);
      path.pop();
      path.pop();
    }
    path.pop();
  }
  return c;
}
