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
 * - WHERE the rules apply follows Relay's event schema (`metastructure(pii = ...)` in
 *   relay-event-schema): only fields it marks `pii = "true"` (user, request data, headers, cookies,
 *   query strings and env, extra, breadcrumb messages and data, frame variables, mechanism data,
 *   log parameters, `server_name`, unknown context types, unknown top-level keys). Ids, names,
 *   versions, types, categories, levels, tags, source context and the os/runtime/device/trace
 *   contexts are never scrubbed (a random span id can pass the card check); exception values and
 *   `logentry.formatted` are left out of the main rules as Relay's `DATASCRUBBER_IGNORE` leaves
 *   them, the latter getting Relay's replace-only rules instead (emails, card numbers, IBANs, US
 *   social security numbers, bearer tokens). Session and CSRF cookies are filtered by name
 *   (Relay's `SENSITIVE_COOKIES`).
 * Every change is recorded in `event._meta` at the path of the value, in Sentry's shape
 * (`{"": {"rem": [[rule, "s"|"x"]], "len": n}}`), so the UI can say what was removed and why.
 * Left out: Relay's advanced PII rules (custom regexes, hashing, masking), safe fields given as
 * selectors rather than key names, and scrubbing of attachments.
 */
import { framesChanged, isUnparsed, type NormalizedEvent } from '../protocol/index.js';
import type { ProjectOptions } from '../db/models/project-options.js';

/**
 * Sentry's default sensitive words, found anywhere in a key (Relay `PASSWORD_KEY_REGEX` and
 * `TOKEN_KEY_REGEX` of relay-pii `regexes.rs`, through `@password`).
 */
export const DEFAULT_SENSITIVE_FIELDS = [
  'password', 'secret', 'passwd', 'api_key', 'api-key', 'apikey', 'auth', 'credentials', 'mysql_pwd', 'privatekey', 'private_key', 'private-key',
  'token', 'bearer',
];
/** Default sensitive keys only as a whole key (the same regex's `^otp$`, `^two[-_]factor$`). */
const DEFAULT_SENSITIVE_KEYS = /^(?:otp|two[-_]factor)$/i;

export const FILTERED = '[Filtered]';

type Meta = Record<string, any>;

interface Scrubber {
  /** `scrubConfigKey` of its options. */
  key: string;
  keyRule(key: string): string | null;
  /** A key among the project's `safeFields`: its value is left alone (Relay's `exclude_fields`). */
  isSafe(key: string): boolean;
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
/**
 * IPv6 addresses in full or compressed (`::`) form, the forms Relay's `IPV6_REGEX` knows. Groups of
 * hex digits joined by single colons are not enough, or a time of day (`10:32:07`) or a MAC address
 * would be an address too.
 */
const IPV6 = (() => {
  const h = '[0-9a-f]{1,4}';
  const v4 = '(?:25[0-5]|2[0-4]\\d|1?\\d?\\d)(?:\\.(?:25[0-5]|2[0-4]\\d|1?\\d?\\d)){3}';
  const forms = [
    `(?:${h}:){7}${h}`, `(?:${h}:){1,7}:`, `(?:${h}:){1,6}:${h}`, `(?:${h}:){1,5}(?::${h}){1,2}`, `(?:${h}:){1,4}(?::${h}){1,3}`,
    `(?:${h}:){1,3}(?::${h}){1,4}`, `(?:${h}:){1,2}(?::${h}){1,5}`, `${h}:(?::${h}){1,6}`, `:(?:(?::${h}){1,7}|:)`,
    `fe80:(?::${h}){0,4}%[0-9a-z]+`, `::(?:ffff(?::0{1,4})?:)?${v4}`, `(?:${h}:){1,4}:${v4}`,
  ];
  // Not inside a longer token: no letter, digit or colon before it, and after it no letter, digit or
  // zone id, nor a colon that goes on (or a shorter form would match the start of a longer address).
  return new RegExp(`(?<![0-9a-z:])(?:${forms.join('|')})(?![0-9a-z%]|:[0-9a-z:])`, 'gi');
})();

/** Rules that fired in the last `scrubString` call (one scratch array: scrubbing is synchronous). */
const fired: string[] = [];

function fire(rule: string): void {
  if (!fired.includes(rule)) fired.push(rule);
}

/**
 * Scrubs inside a string; returns the new string (the same one when nothing matched) and leaves
 * the rules that fired in `fired`.
 */
function scrubString(s: string, sc: Scrubber): string {
  fired.length = 0;
  let out = s;
  if (sc.values) {
    // Cheap checks first: most strings hold none of these, and the regexes are the cost.
    if (/\d{4}/.test(out)) out = out.replace(CARD, (m) => (isCard(m) ? (fire('@creditcard:filter'), FILTERED) : m));
    if (out.includes('PRIVATE KEY')) out = out.replace(PEM, () => (fire('@pemkey:filter'), FILTERED));
    if (out.includes('://') && out.includes('@')) out = out.replace(URL_AUTH, (_m, pre, _pw, at) => (fire('@urlauth:legacy'), `${pre}${FILTERED}${at}`));
    if (AUTH_HINT.test(out)) out = out.replace(AUTH_SCHEME, (_m, scheme) => (fire('@password:filter'), `${scheme} ${FILTERED}`));
    if (sc.pairsRe && (out.includes('=') || out.includes(':'))) {
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

function isCard(m: string): boolean {
  const digits = m.replace(/[ -]/g, '');
  return digits.length >= 13 && digits.length <= 19 && luhn(digits);
}

// Relay's patterns (relay-pii `regexes.rs`), with the email's parts bounded (64 characters before
// the `@`, 63 per domain label, as RFC 5321 and 1035 bound them) so a long string without a match
// is scanned in linear time.
const BEARER = /\bBearer\s+[A-Za-z0-9\-._~+/]+=*/gi;
const EMAIL = /\b[a-zA-Z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[a-zA-Z0-9-]{1,63}(?:\.[a-zA-Z0-9-]{1,63}){0,8}\.[a-zA-Z]{2,63}\b/g;
const IBAN =
  /\b(?:AT|AD|AE|AL|AZ|BA|BE|BG|BH|BR|BY|CH|CR|CY|CZ|DE|DK|DO|EE|EG|ES|FI|FO|FR|GB|GE|GI|GL|GR|GT|HR|HU|IE|IL|IQ|IS|IT|JO|KW|KZ|LB|LC|LI|LT|LU|LV|LY|MC|MD|ME|MK|MR|MT|MU|NL|NO|PK|PL|PS|PT|QA|RO|RU|RS|SA|SC|SE|SI|SK|SM|ST|SV|TL|TN|TR|UA|VA|VG|XK|DZ|AO|BJ|BF|BI|CV|CM|CF|TD|KM|CG|CI|DJ|GQ|GA|GW|HN|IR|MG|ML|MA|MZ|NI|NE|SN|TG)\d{2}[a-zA-Z0-9]{11,29}\b/g;
const US_SSN = /\b[0-9]{3}-[0-9]{2}-[0-9]{4}\b/g;

/**
 * `logentry.formatted`, which Relay keeps out of the legacy rules and gives replace-only ones
 * instead (convert.rs `REPLACE_ONLY_SELECTOR`): emails, card numbers, IBANs, US social security
 * numbers and bearer tokens, each replaced by its own placeholder (builtin.rs).
 */
function scrubFormatted(s: string, path: (string | number)[], sc: Scrubber, meta: Meta): string {
  if (!sc.values) return s;
  let out = s;
  const replace = (re: RegExp, rule: string, text: string, accept: (m: string) => boolean = () => true) => {
    out = out.replace(re, (m) => (accept(m) ? (note(meta, path, rule, s, false), text) : m));
  };
  if (out.includes('@')) replace(EMAIL, '@email:replace', '[email]');
  if (/\d{4}/.test(out)) replace(CARD, '@creditcard:replace', '[creditcard]', isCard);
  if (/[A-Z]{2}\d{2}/.test(out)) replace(IBAN, '@iban:replace', '[iban]');
  if (out.includes('-')) replace(US_SSN, '@usssn:replace', '[us-ssn]');
  if (AUTH_HINT.test(out)) replace(BEARER, '@bearer:replace', 'Bearer [token]');
  return out;
}

/** Scrubs a string and notes the rules that fired at `path`. */
function scrubAt(value: string, path: (string | number)[], sc: Scrubber, meta: Meta): string {
  if (value.length <= SHORT_VALUE) return scrubRemembering(value, path, sc, meta);
  const out = scrubString(value, sc);
  for (const rule of fired) note(meta, path, rule, value, false);
  return out;
}

/** Values this short are looked up among those seen before: breadcrumbs, user fields and headers repeat them. */
const SHORT_VALUE = 200;
/** Per scrubber, strings no rule changed. */
const cleanValues = new WeakMap<Scrubber, Set<string>>();

/**
 * `scrubAt` for strings that come back in event after event: a string no rule changed is
 * remembered and skipped next time. One a rule changed is scrubbed every time and never kept, so
 * no secret outlives its event in memory. `fired` holds the rules that fired, as after `scrubString`.
 */
function scrubRemembering(value: string, path: (string | number)[], sc: Scrubber, meta: Meta): string {
  let clean = cleanValues.get(sc);
  if (!clean) cleanValues.set(sc, (clean = new Set()));
  if (clean.has(value)) {
    fired.length = 0;
    return value;
  }
  const out = scrubString(value, sc);
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
    // A safe field's own value is left alone; what it holds is scrubbed under its own keys.
    if (typeof value === 'string' && sc.isSafe(key)) return value;
    const rule = sc.keyRule(key);
    if (rule) {
      note(meta, path, rule, value, false);
      return FILTERED;
    }
  }
  if (typeof value === 'string') return scrubAt(value, path, sc, meta);
  if (Array.isArray(value)) {
    // [key, value] pairs (query strings, such lists in data) carry their key in slot 0, as Relay reads them.
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
          if (rule === null && opts.dataScrubberDefaults && DEFAULT_SENSITIVE_KEYS.test(k)) rule = '@password:filter';
        }
        if (keyRules.size >= 10_000) keyRules.clear();
        keyRules.set(key, rule);
      }
      return rule;
    },
    isSafe: (key) => safe.size > 0 && safe.has(key.toLowerCase()),
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

/**
 * Where the rules apply, after Relay's event schema (relay-event-schema `protocol/`, the
 * `pii` of each field; the legacy scrubber's selectors match only `pii = "true"`, relay-pii
 * `selector.rs`):
 * - `true`: the value and everything inside it (Relay passes `pii = "true"` down through objects
 *   and arrays);
 * - `false`: never scrubbed (`pii = "false"`, the default, or `"maybe"`, which only specific
 *   selectors reach);
 * - a struct: its own fields decide (Relay's struct fields never inherit their parent's pii),
 *   `other` for keys it does not declare;
 * - a list of such structs (`values` arrays);
 * - a function for the few fields with rules of their own.
 */
type Shape = boolean | StructShape | ListShape | SpecialShape;
interface StructShape {
  kind: 'struct';
  fields: Record<string, Shape>;
  other: Shape;
}
interface ListShape {
  kind: 'list';
  of: Shape;
}
type SpecialShape = (value: unknown, path: (string | number)[], sc: Scrubber, meta: Meta) => unknown;

function struct(fields: Record<string, Shape>, other: Shape = false): StructShape {
  return { kind: 'struct', fields: Object.assign(Object.create(null) as Record<string, Shape>, fields), other };
}
const list = (of: Shape): ListShape => ({ kind: 'list', of });

/**
 * Session and CSRF cookies, filtered by name whatever their value (Relay convert.rs
 * `SENSITIVE_COOKIES`, matched case-insensitively as its key selectors are).
 */
export const SENSITIVE_COOKIES = new Set([
  'sentrysid', 'sudo', 'su', 'session', '__session', 'sessionid', 'user_session', 'symfony', 'phpsessid', 'fasthttpsessionid',
  'mysession', 'irissessionid', '_vercel_jwt', 'csrf', 'xsrf', '_xsrf', '_csrf', 'csrf-token', 'csrf_token', 'xsrf-token',
  'xsrf_token', 'fastcsrf', '_iris_csrf',
]);

/**
 * Named values (headers, cookies: `[name, value]` pairs as normalization writes the request's, or an
 * object as a context may hold them): only values are scrubbed, never names.
 */
function pairValues(skip: (name: string, sc: Scrubber) => 'keep' | 'filter' | null): SpecialShape {
  const one = (name: string, v: unknown, path: (string | number)[], sc: Scrubber, meta: Meta): unknown => {
    const verdict = skip(name, sc);
    if (verdict === 'keep' || v === null || v === undefined || v === '') return v;
    if (verdict === 'filter') {
      note(meta, path, '@anything:filter', v, false);
      return FILTERED;
    }
    return walk(v, name, path, sc, meta, 1);
  };
  return (value, path, sc, meta) => {
    if (!value || typeof value !== 'object') return walk(value, null, path, sc, meta, 0);
    if (!Array.isArray(value)) {
      const named = value as Record<string, unknown>;
      for (const name in named) {
        if (!Object.hasOwn(named, name)) continue;
        path.push(name);
        const v = one(name, named[name], path, sc, meta);
        if (v !== named[name]) named[name] = v;
        path.pop();
      }
      return named;
    }
    for (let i = 0; i < value.length; i++) {
      const pair = value[i];
      if (!Array.isArray(pair) || pair.length !== 2 || typeof pair[0] !== 'string') continue;
      path.push(i, 1);
      pair[1] = one(pair[0], pair[1], path, sc, meta);
      path.pop();
      path.pop();
    }
    return value;
  };
}

const COOKIES = pairValues((name, sc) => (sc.values && SENSITIVE_COOKIES.has(name.toLowerCase()) ? 'filter' : null));
// Relay leaves the user agent out of the legacy rules (`$http.headers.user-agent`).
const HEADERS = pairValues((name) => (name.toLowerCase() === 'user-agent' ? 'keep' : null));

/**
 * A stack trace: of a frame only its local variables are data (`vars`, `pii = "true"`); code
 * locations and source context are `pii = "false"`.
 */
const STACK: SpecialShape = (value, path, sc, meta) => {
  const st = value as { frames?: unknown } | null;
  // A stack text this configuration left unchanged before: nothing to scrub, and not parsed. (A
  // known text never says `"vars"`, but one that spells the key with escapes can hold variables
  // another configuration would scrub, so clean-under-which still counts.)
  if (isUnparsed(st) && st.knownStack.scrubClean.includes(sc.key)) return st;
  if (!st || !Array.isArray(st.frames)) return st;
  const frames = st.frames;
  const notesBefore = notesWritten;
  path.push('frames');
  for (let j = 0; j < frames.length; j++) {
    const frame = frames[j] as Record<string, unknown> | null;
    if (!frame || typeof frame !== 'object' || frame.vars === undefined || frame.vars === null) continue;
    path.push(j, 'vars');
    const v = walk(frame.vars, 'vars', path, sc, meta, 0);
    if (v !== frame.vars) frame.vars = v;
    path.pop();
    path.pop();
  }
  path.pop();
  // The client's text of these frames no longer stands for them (frames-text.ts).
  if (notesWritten !== notesBefore) framesChanged(frames);
  return st;
};

const FORMATTED: SpecialShape = (value, path, sc, meta) => (typeof value === 'string' ? scrubFormatted(value, path, sc, meta) : value);

const T = true;
const F = false;

/** Context types Relay knows (protocol/contexts), by the fields of theirs that are `pii = "true"`; any other type is data throughout. */
const CONTEXTS: Record<string, Shape> = Object.assign(Object.create(null) as Record<string, Shape>, {
  // `trace.data` keys other than the span data conventions Relay declares are `pii = "true"`.
  trace: struct({ data: T }),
  device: struct({ device_unique_identifier: T }),
  response: struct({ cookies: COOKIES, headers: HEADERS, data: T }),
  nel: struct({ server_ip: T }),
  ...Object.fromEntries(
    ['os', 'runtime', 'app', 'browser', 'gpu', 'culture', 'cloud_resource', 'otel', 'profile', 'replay', 'flags', 'memory_info', 'threadpool_info',
      'unity', 'spring', 'monitor', 'reprocessing', 'performance_score', 'feedback', 'ota_updates', 'chromium_stability_report'].map((t) => [t, F]),
  ),
});

const CONTEXTS_SHAPE: SpecialShape = (value, path, sc, meta) => {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return value;
  const contexts = value as Record<string, unknown>;
  for (const name in contexts) {
    const ctx = contexts[name] as Record<string, unknown> | null;
    if (!Object.hasOwn(contexts, name) || !ctx || typeof ctx !== 'object') continue;
    const type = typeof ctx.type === 'string' ? ctx.type : name;
    const shape = Object.hasOwn(CONTEXTS, type) ? CONTEXTS[type] : T;
    if (shape === F) continue;
    path.push(name);
    const v = shaped(ctx, shape, name, path, sc, meta);
    if (v !== ctx) contexts[name] = v;
    path.pop();
  }
  return contexts;
};

const EXCEPTION = struct({ stacktrace: STACK, raw_stacktrace: STACK, mechanism: struct({ description: T, data: T }) });
const THREAD = struct({ stacktrace: STACK, raw_stacktrace: STACK });

/** The event (relay-event-schema `protocol/event.rs`); keys it does not declare are `pii = "true"`. */
const EVENT = struct(
  {
    server_name: T,
    extra: T,
    user: struct({ id: T, username: T, name: T, email: T, ip_address: T, sentry_user: T, data: T, segment: F,
      geo: struct({ country_code: T, city: T, subdivision: T, region: T }) }, T),
    request: struct({ data: T, query_string: T, fragment: T, cookies: COOKIES, headers: HEADERS, env: T,
      url: F, method: F, protocol: F, body_size: F, inferred_content_type: F, api_target: F }, T),
    breadcrumbs: struct({ values: list(struct({ message: T, data: T })) }),
    exception: struct({ values: list(EXCEPTION) }),
    threads: struct({ values: list(THREAD) }),
    stacktrace: STACK,
    logentry: struct({ message: F, formatted: FORMATTED, params: T }, T),
    template: struct({ filename: T, abs_path: T }),
    contexts: CONTEXTS_SHAPE,
    // Tags are `pii = "maybe"`; the rest identify, locate or describe (and Faultline's own
    // grouping results: title, culprit, metadata, location, hashes).
    ...Object.fromEntries(
      ['event_id', 'timestamp', 'start_timestamp', 'received', 'type', 'platform', 'level', 'release', 'dist', 'environment', 'site', 'sdk',
        'fingerprint', 'checksum', 'modules', 'debug_meta', 'errors', 'hashes', 'grouping_config', 'title', 'culprit', 'metadata', 'location',
        'logger', 'project', 'group_id', '_meta', 'transaction', 'transaction_info', 'tags', 'version', 'time_spent', 'spans', 'measurements',
        'breakdowns', '_dsc', 'key_id', 'ingest_path', 'scraping_attempts'].map((k) => [k, F]),
    ),
  },
  T,
);

/** Scrubs `value`, which sits under `key` at `path`, as its shape says; returns the new value. */
function shaped(value: unknown, shape: Shape, key: string | null, path: (string | number)[], sc: Scrubber, meta: Meta): unknown {
  if (shape === false || value === null || value === undefined) return value;
  if (shape === true) return walk(value, key, path, sc, meta, 0);
  if (typeof shape === 'function') return shape(value, path, sc, meta);
  if (shape.kind === 'list') {
    if (!Array.isArray(value)) return value;
    for (let i = 0; i < value.length; i++) {
      path.push(i);
      const v = shaped(value[i], shape.of, null, path, sc, meta);
      if (v !== value[i]) value[i] = v;
      path.pop();
    }
    return value;
  }
  // Not the object the schema expects (normalization keeps what it cannot read as data): scrub it whole.
  if (typeof value !== 'object' || Array.isArray(value)) return walk(value, key, path, sc, meta, 0);
  const obj = value as Record<string, unknown>;
  for (const k in obj) {
    if (!Object.hasOwn(obj, k)) continue;
    const s = k in shape.fields ? shape.fields[k] : shape.other;
    if (s === false) continue;
    path.push(k);
    const v = shaped(obj[k], s, k, path, sc, meta);
    if (v !== obj[k]) obj[k] = v;
    path.pop();
  }
  return obj;
}

/** Scrubs the event in place and records what was removed in `event._meta`. */
export function scrubEvent(event: NormalizedEvent, opts: ProjectOptions): void {
  if (!opts.dataScrubber && !opts.scrubIPAddresses) return;
  const sc = makeScrubber(opts);
  const meta: Meta = (event._meta as Meta | undefined) ?? {};
  if (opts.scrubIPAddresses) {
    // Fields known to hold an IP are removed whatever they hold (Relay `KNOWN_IP_FIELDS`).
    if (event.user?.ip_address) {
      note(meta, ['user', 'ip_address'], '@ip:remove', event.user.ip_address, true);
      delete event.user.ip_address;
    }
    const env = event.request?.env as Record<string, unknown> | null | undefined;
    if (env && env.REMOTE_ADDR) {
      note(meta, ['request', 'env', 'REMOTE_ADDR'], '@ip:remove', env.REMOTE_ADDR, true);
      delete env.REMOTE_ADDR;
    }
    if (event.sdk && event.sdk.client_ip) {
      note(meta, ['sdk', 'client_ip'], '@ip:remove', event.sdk.client_ip, true);
      delete event.sdk.client_ip;
    }
    // A user known only by IP is no longer known.
    event.tags = event.tags.filter(([k, v]) => !(k === 'user' && v.startsWith('ip:')));
  }
  shaped(event, EVENT, null, [], sc, meta);
  if (Object.keys(meta).length) event._meta = meta;
}
