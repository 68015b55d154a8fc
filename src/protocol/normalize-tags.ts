/**
 * Event tags: reading what the SDK sent, then adding the tags Sentry derives from the event.
 *
 * Reading follows relay-event-schema `protocol/tags.rs` (object or `[k, v]` pairs, values
 * coerced to strings, keys and values at most 200 chars and without newlines; invalid tags are
 * dropped) and relay-event-normalization `normalize_event_tags` (empty tags dropped, a legacy
 * `environment` tag fills the missing top-level field). Derived tags are the ones Sentry's UI
 * shows, from sentry `event_manager.py` (`level`, `logger`, `transaction`, `sentry:release` shown
 * as `release`, `dist`, `environment`, `server_name`, `sentry:user` shown as `user`) and the
 * interfaces' `iter_tags` (`url` from Http; `os`, `browser`, `runtime`, `device` from
 * `interfaces/contexts.py`; `handled`/`mechanism` from the exception mechanism).
 * Left out: tag key character rules beyond newlines, and the `sentry:` prefixed storage names.
 */
import type { NormalizedEvent } from './event.js';
import { ErrorRecorder, isObject, MAX_CHARS } from './normalize-values.js';

type Tags = [string, string][];

function tagString(v: unknown): string | undefined {
  if (typeof v === 'string') return v.trim();
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  return undefined;
}

function validTag(key: string, value: string, path: string, original: unknown, rec: ErrorRecorder): boolean {
  if (key === '' || value === '') return false;
  if (key.length > MAX_CHARS.tagKey || value.length > MAX_CHARS.tagValue) {
    rec.add('value_too_long', path, key.length > MAX_CHARS.tagKey ? key.slice(0, 200) : value.slice(0, 200));
    return false;
  }
  if (/[\n\r]/.test(key) || /[\n\r]/.test(value)) {
    rec.invalid(path, original);
    return false;
  }
  return true;
}

/**
 * Tags a client may not set (Relay `normalize_event_tags`): Sentry derives them when saving, so
 * client values would be ambiguous. `environment` is taken out and returned separately.
 */
const RESERVED_TAGS = new Set(['release', 'dist', 'user', 'filename', 'function']);

/**
 * Reads `tags` as sent (object or pairs) into valid, de-duplicated (first wins) `[key, value]`
 * pairs, without the reserved keys; a legacy `environment` tag is returned as `environment`.
 */
export function readTags(raw: unknown, rec: ErrorRecorder): { tags: Tags; environment?: string } {
  const out: Tags = [];
  const seen = new Set<string>();
  let environment: string | undefined;
  const push = (k: unknown, v: unknown, path: string) => {
    if (v === null || v === undefined) return; // Relay drops empty tags silently
    const key = typeof k === 'string' ? k.trim() : undefined;
    const value = tagString(v);
    if (key === undefined || value === undefined) return void rec.invalid(path, [k, v]);
    if (key === 'environment') return void (environment ??= value || undefined);
    if (RESERVED_TAGS.has(key) || seen.has(key)) return;
    if (validTag(key, value, path, [k, v], rec)) {
      out.push([key, value]);
      seen.add(key);
    }
  };
  if (raw === undefined || raw === null) return { tags: out };
  if (isObject(raw)) {
    for (const [k, v] of Object.entries(raw)) push(k, v, `tags.${k}`);
  } else if (Array.isArray(raw)) {
    raw.forEach((pair, i) => {
      if (Array.isArray(pair) && pair.length === 2) push(pair[0], pair[1], `tags.${i}`);
      else rec.invalid(`tags.${i}`, pair);
    });
  } else {
    rec.invalid('tags', raw);
  }
  return environment === undefined ? { tags: out } : { tags: out, environment };
}

/** The non-empty strings among `a` and `b`, trimmed and joined by a space. */
function join(a: unknown, b?: unknown): string | undefined {
  const x = typeof a === 'string' ? a.trim() : '';
  const y = typeof b === 'string' ? b.trim() : '';
  return x && y ? `${x} ${y}` : x || y || undefined;
}

/**
 * Tags from contexts, after sentry `interfaces/contexts.py`: the context's `type` picks the
 * mapping, its key (alias) names the tag (`contexts.rust` of type runtime gives `rust`,
 * `rust.name`). os/runtime/browser tag "name version"; device tags its model and family.
 */
function addContextTags(contexts: NormalizedEvent['contexts'], add: (key: string, value: string | undefined) => void): void {
  if (!contexts) return;
  for (const alias in contexts) {
    if (!Object.hasOwn(contexts, alias)) continue;
    const ctx = contexts[alias];
    const type = typeof ctx.type === 'string' ? ctx.type : alias;
    if (type === 'os' || type === 'runtime' || type === 'browser') {
      add(alias, join(ctx.name, ctx.version));
      add(`${alias}.name`, join(ctx.name));
    } else if (type === 'device') {
      add(alias, join(ctx.model));
      add(`${alias}.family`, join(ctx.family));
    }
  }
}

/** Sentry `EventUser.tag_value`: the first of id, email, username, ip, with its kind as prefix. */
export function userTagValue(user: NormalizedEvent['user']): string | undefined {
  if (!user) return undefined;
  if (user.id) return `id:${user.id}`;
  if (user.email) return `email:${user.email}`;
  if (user.username) return `username:${user.username}`;
  if (user.ip_address) return `ip:${user.ip_address}`;
  return undefined;
}

/**
 * Adds the derived tags to `event.tags` (in place) unless a tag with the same key already exists.
 * Derived values that would be invalid tags (too long, newlines) are skipped silently: they are
 * still on the event itself.
 */
export function addDerivedTags(event: NormalizedEvent): void {
  const mechanism = event.exception?.values[event.exception.values.length - 1]?.mechanism;
  const tags = event.tags;
  const add = (key: string, value: string | undefined) => {
    if (value === undefined) return;
    for (let i = 0; i < tags.length; i++) if (tags[i][0] === key) return;
    const v = value.trim();
    if (v === '' || v.length > MAX_CHARS.tagValue || /[\n\r]/.test(v)) return;
    tags.push([key, v]);
  };
  add('level', event.level);
  add('logger', event.logger ?? undefined);
  add('transaction', event.transaction ?? undefined);
  add('release', event.release ?? undefined);
  add('dist', event.dist ?? undefined);
  add('environment', event.environment ?? undefined);
  add('server_name', event.server_name ?? undefined);
  add('url', event.request?.url ?? undefined);
  addContextTags(event.contexts, add);
  add('handled', typeof mechanism?.handled === 'boolean' ? (mechanism.handled ? 'yes' : 'no') : undefined);
  add('mechanism', mechanism?.type);
  add('user', userTagValue(event.user));
}
