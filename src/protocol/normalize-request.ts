/**
 * Normalization of the `request` and `user` interfaces, including client-IP inference.
 *
 * Request follows relay-event-schema `protocol/request.rs` (`Headers`, `Cookies`, `Query` as
 * ordered pairs; header names Title-Cased; the `Cookie` header fills `cookies` when absent; a
 * query in `url` moves to `query_string`, a fragment is dropped) and relay-event-normalization
 * `request.rs` (method uppercased, `^[A-Z\-_]{3,32}$`). IP inference follows Relay's
 * `normalize_ip_addresses`: `{{auto}}` in `user.ip_address` or `request.env.REMOTE_ADDR` means the
 * connection IP; a valid `REMOTE_ADDR` fills a missing user IP; otherwise the connection IP is
 * used when `sdk.settings.infer_ip` is `auto`, or (no setting) for browser/Apple platforms.
 * Left out: GeoIP, PII scrubbing (pipeline), request body (`data`) parsing by content type.
 */
import { isIP } from 'node:net';
import type { Request, User } from './event.js';
import { capDepth, ErrorRecorder, isObject, MAX_CHARS, readString } from './normalize-values.js';

type Pairs = [string, string][];

function pairValue(v: unknown): string | undefined {
  if (v === null || v === undefined) return undefined;
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return JSON.stringify(v);
}

/** Reads pairs from an object, a list of `[k, v]` pairs, or (with `split`) a string. */
function readPairs(raw: unknown, name: string, rec: ErrorRecorder, split?: (s: string) => Pairs): Pairs | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (typeof raw === 'string' && split) return split(raw);
  const out: Pairs = [];
  if (isObject(raw)) {
    for (const [k, v] of Object.entries(raw)) {
      // Relay's PairList: a repeated key arrives as an array of values.
      for (const item of Array.isArray(v) ? v : [v]) {
        const s = pairValue(item);
        if (s !== undefined) out.push([k, s]);
      }
    }
    return out;
  }
  if (Array.isArray(raw)) {
    raw.forEach((p, i) => {
      if (Array.isArray(p) && p.length === 2 && typeof p[0] === 'string') {
        const s = pairValue(p[1]);
        if (s !== undefined) out.push([p[0], s]);
      } else rec.invalid(`${name}.${i}`, p);
    });
    return out;
  }
  rec.invalid(name, raw);
  return undefined;
}

function decode(s: string): string {
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '));
  } catch {
    return s;
  }
}

/** `a=1&b=2` → pairs (leading `?` ignored). */
export function parseQueryString(s: string): Pairs {
  return s
    .replace(/^\?/, '')
    .split('&')
    .filter((p) => p !== '')
    .map((p): [string, string] => {
      const eq = p.indexOf('=');
      return eq < 0 ? [decode(p), ''] : [decode(p.slice(0, eq)), decode(p.slice(eq + 1))];
    });
}

/** `a=1; b=2` → pairs. */
export function parseCookieString(s: string): Pairs {
  return s
    .split(';')
    .map((p) => p.trim())
    .filter((p) => p !== '')
    .map((p): [string, string] => {
      const eq = p.indexOf('=');
      return eq < 0 ? [p, ''] : [p.slice(0, eq).trim(), p.slice(eq + 1).trim()];
    });
}

/** Relay `HeaderName`: `x-forwarded-for` → `X-Forwarded-For`. */
function titleCase(name: string): string {
  return name.trim().replace(/[^-]+/g, (w) => w[0].toUpperCase() + w.slice(1).toLowerCase());
}

/** Case-insensitive header lookup in normalized pairs. */
export function findHeader(headers: Pairs | null | undefined, name: string): string | undefined {
  const lower = name.toLowerCase();
  return headers?.find(([k]) => k.toLowerCase() === lower)?.[1];
}

const METHOD_RE = /^[A-Z\-_]{3,32}$/;

/** Normalizes the `request` interface; `null` when absent or invalid. */
export function normalizeRequest(raw: unknown, rec: ErrorRecorder): Request | null {
  if (raw === undefined || raw === null) return null;
  if (!isObject(raw)) {
    rec.invalid('request', raw);
    return null;
  }
  const req: Request = { ...raw };
  let url = readString(raw.url, 'request.url', 2048, rec);
  let queryFromUrl: string | undefined;
  if (url) {
    const hash = url.indexOf('#');
    if (hash >= 0) url = url.slice(0, hash);
    const q = url.indexOf('?');
    if (q >= 0) {
      queryFromUrl = url.slice(q + 1);
      url = url.slice(0, q);
    }
    req.url = url;
  } else delete req.url;

  const query = readPairs(raw.query_string ?? queryFromUrl, 'request.query_string', rec, parseQueryString);
  if (query && query.length > 0) req.query_string = query;
  else delete req.query_string;

  const headers = readPairs(raw.headers, 'request.headers', rec)?.map(([k, v]): [string, string] => [titleCase(k), v]);
  if (headers && headers.length > 0) req.headers = headers;
  else delete req.headers;

  const cookies = readPairs(raw.cookies ?? findHeader(headers, 'cookie'), 'request.cookies', rec, parseCookieString);
  if (cookies && cookies.length > 0) req.cookies = cookies;
  else delete req.cookies;

  if (raw.method !== undefined && raw.method !== null) {
    const method = typeof raw.method === 'string' ? raw.method.trim().toUpperCase() : '';
    if (METHOD_RE.test(method)) req.method = method;
    else {
      rec.invalid('request.method', raw.method);
      delete req.method;
    }
  }
  if (raw.env !== undefined && raw.env !== null) {
    if (isObject(raw.env)) req.env = capDepth(raw.env) as Record<string, unknown>;
    else {
      rec.invalid('request.env', raw.env);
      delete req.env;
    }
  }
  if (raw.data !== undefined) req.data = capDepth(raw.data);
  return Object.keys(req).length > 0 ? req : null;
}

/** Normalizes the `user` interface; `null` when absent, invalid or empty. */
export function normalizeUser(raw: unknown, rec: ErrorRecorder): User | null {
  if (raw === undefined || raw === null) return null;
  if (!isObject(raw)) {
    rec.invalid('user', raw);
    return null;
  }
  const user: User = { ...raw };
  const limits: Record<string, number> = { id: 128, email: MAX_CHARS.email, username: 128, name: 128, ip_address: 64 };
  for (const [key, max] of Object.entries(limits)) {
    const v = readString(raw[key], `user.${key}`, max, rec);
    if (v !== undefined) user[key] = v;
    else delete user[key];
  }
  if (user.ip_address && user.ip_address !== '{{auto}}' && isIP(user.ip_address) === 0) {
    rec.invalid('user.ip_address', user.ip_address);
    delete user.ip_address;
  }
  if (raw.data !== undefined) user.data = capDepth(raw.data) as Record<string, unknown>;
  return Object.keys(user).length > 0 ? user : null;
}

/**
 * Resolves the user's IP address in place (Relay `normalize_ip_addresses`). Returns the user,
 * possibly newly created to hold an inferred IP.
 */
export function inferUserIp(
  user: User | null,
  request: Request | null,
  ctx: { clientIp?: string | null; platform: string; inferIp?: unknown },
): User | null {
  const clientIp = ctx.clientIp && isIP(ctx.clientIp) ? ctx.clientIp : undefined;
  const never = ctx.inferIp === 'never';
  const env = request?.env;
  if (env && env.REMOTE_ADDR === '{{auto}}') {
    if (clientIp && !never) env.REMOTE_ADDR = clientIp;
    else delete env.REMOTE_ADDR;
  }
  if (user?.ip_address === '{{auto}}') {
    if (clientIp && !never) user.ip_address = clientIp;
    else delete user.ip_address;
  }
  if (user?.ip_address) return user;
  const remoteAddr = typeof env?.REMOTE_ADDR === 'string' && isIP(env.REMOTE_ADDR) ? env.REMOTE_ADDR : undefined;
  let inferred: string | undefined;
  if (remoteAddr) inferred = remoteAddr;
  else if (clientIp && !never) {
    // No setting: Relay's legacy rule, only SDKs that run on the user's device.
    const legacy = ctx.inferIp === undefined || ctx.inferIp === null || ctx.inferIp === 'legacy';
    if (ctx.inferIp === 'auto' || (legacy && ['javascript', 'cocoa', 'objc'].includes(ctx.platform))) inferred = clientIp;
  }
  if (!inferred) return user && Object.keys(user).length > 0 ? user : null;
  if (!user) return { ip_address: inferred };
  user.ip_address = inferred; // normalizeUser's own copy
  return user;
}
