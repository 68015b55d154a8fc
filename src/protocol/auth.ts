/**
 * Client authentication: which project key a request claims, from whichever carrier it used.
 *
 * Follows Relay's `auth_from_request` (relay `relay-server/src/extractors/request_meta.rs`) and
 * protocol.md §1.2: the `X-Sentry-Auth` header (also `Authorization: Sentry …`), the
 * `?sentry_key=` query (the only carrier of @sentry/node and @sentry/browser), and the envelope
 * header `dsn` (tunnel mode). Relay rejects protocol versions newer than it speaks (7) and, in
 * older versions, any second carrier; we accept several carriers as long as their keys agree.
 * `sentry_timestamp` (sent by sentry-cli) is deprecated and ignored.
 * Left out: checking that the key exists or is enabled, origin filtering, client IP; ingest does those.
 */
import { parseDsn } from './dsn.js';
import { ProtocolError } from './errors.js';

/** The newest protocol version we speak (`sentry_version`); Relay's `PROTOCOL_VERSION`. */
export const SENTRY_PROTOCOL_VERSION = 7;

/** What a request claims about its credentials, after the carriers were reconciled. */
export interface ClientAuth {
  publicKey: string;
  secretKey?: string;
  version?: number;
  /** `sentry_client`, e.g. `sentry.javascript.node/11.12.0`; absent → use `User-Agent`. */
  client?: string;
  /** The highest-priority carrier present: header, then query, then envelope. */
  source: 'header' | 'query' | 'envelope';
  /** Project id from the envelope `dsn` header, to check against the URL's project. */
  dsnProjectId?: string;
}

type Carrier = Omit<ClientAuth, 'source' | 'dsnProjectId'> & { source: ClientAuth['source'] };
type HeaderMap = Record<string, string | string[] | undefined>;

const KEY_RE = /^\w{1,128}$/;

/** Case-insensitive header lookup; the first value of a repeated header. */
function header(headers: HeaderMap, name: string): string | undefined {
  for (const [k, v] of Object.entries(headers)) {
    if (k.toLowerCase() !== name) continue;
    const value = Array.isArray(v) ? v[0] : v;
    if (typeof value === 'string') return value;
  }
  return undefined;
}

function firstString(v: unknown): string | undefined {
  if (Array.isArray(v)) return firstString(v[0]);
  return typeof v === 'string' ? v : undefined;
}

function invalid(message: string): ProtocolError {
  return new ProtocolError('invalid_auth', message, 401);
}

function parseVersion(raw: string | undefined): number | undefined {
  if (raw === undefined || raw.trim() === '') return undefined;
  const v = Number(raw.trim());
  if (!Number.isInteger(v) || v < 0) throw invalid(`invalid sentry_version ${JSON.stringify(raw)}`);
  if (v > SENTRY_PROTOCOL_VERSION) throw invalid(`unsupported sentry_version ${v} (newest is ${SENTRY_PROTOCOL_VERSION})`);
  return v;
}

function carrier(source: Carrier['source'], fields: Record<string, string | undefined>): Carrier {
  const key = fields.sentry_key?.trim();
  if (!key) throw invalid(`missing sentry_key in ${source} authentication`);
  if (!KEY_RE.test(key)) throw invalid(`malformed sentry_key in ${source} authentication`);
  const out: Carrier = { publicKey: key, source };
  const secret = fields.sentry_secret?.trim();
  if (secret) out.secretKey = secret;
  const version = parseVersion(fields.sentry_version);
  if (version !== undefined) out.version = version;
  const client = fields.sentry_client?.trim();
  if (client) out.client = client;
  return out;
}

/**
 * Parses a `Sentry k=v, k=v` auth header value (Relay's `FromStr for Auth`): the `Sentry`
 * prefix is case-insensitive, pairs are comma-separated and trimmed, unknown keys are ignored.
 */
export function parseAuthHeader(value: string): Record<string, string> {
  const trimmed = value.trim();
  const space = trimmed.search(/\s/);
  const prefix = space < 0 ? trimmed : trimmed.slice(0, space);
  if (prefix.toLowerCase() !== 'sentry') throw invalid('auth header must start with "Sentry "');
  const fields: Record<string, string> = {};
  for (const pair of trimmed.slice(prefix.length).split(',')) {
    const eq = pair.indexOf('=');
    if (eq < 0) continue;
    fields[pair.slice(0, eq).trim()] = pair.slice(eq + 1).trim();
  }
  return fields;
}

/**
 * Extracts and reconciles the client's credentials from every carrier present.
 * Header names are matched case-insensitively.
 * @throws ProtocolError `missing_auth` when no carrier is present, `invalid_auth` for a carrier
 *   without a usable key or with an unsupported version, `conflicting_auth` when carriers name
 *   different keys, `invalid_dsn` when the envelope `dsn` header is not a DSN.
 */
export function extractAuth(input: {
  headers: HeaderMap;
  query: Record<string, unknown>;
  envelopeDsn?: string | null;
}): ClientAuth {
  const found: Carrier[] = [];
  const xSentryAuth = header(input.headers, 'x-sentry-auth');
  if (xSentryAuth !== undefined) found.push(carrier('header', parseAuthHeader(xSentryAuth)));
  const authorization = header(input.headers, 'authorization');
  // `Authorization: Bearer …` is API auth, not ingest auth; only the `Sentry` scheme counts.
  if (authorization !== undefined && /^sentry\s/i.test(authorization.trim())) {
    found.push(carrier('header', parseAuthHeader(authorization)));
  }
  const q = input.query ?? {};
  if (q.sentry_key !== undefined) {
    found.push(
      carrier('query', {
        sentry_key: firstString(q.sentry_key),
        sentry_secret: firstString(q.sentry_secret),
        sentry_version: firstString(q.sentry_version),
        sentry_client: firstString(q.sentry_client),
      }),
    );
  }
  let dsnProjectId: string | undefined;
  if (input.envelopeDsn) {
    const dsn = parseDsn(input.envelopeDsn);
    dsnProjectId = dsn.projectId;
    found.push({ publicKey: dsn.publicKey, source: 'envelope', ...(dsn.secretKey ? { secretKey: dsn.secretKey } : {}) });
  }
  if (found.length === 0) throw new ProtocolError('missing_auth', 'missing authorization information', 401);

  const [first, ...rest] = found;
  const result: ClientAuth = { ...first };
  for (const other of rest) {
    if (other.publicKey !== first.publicKey) {
      throw new ProtocolError(
        'conflicting_auth',
        `conflicting authentication: ${first.source} and ${other.source} name different keys`,
        400,
      );
    }
    result.secretKey ??= other.secretKey;
    result.version ??= other.version;
    result.client ??= other.client;
  }
  if (dsnProjectId !== undefined) result.dsnProjectId = dsnProjectId;
  return result;
}
