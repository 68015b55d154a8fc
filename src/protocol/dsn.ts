/**
 * DSN parsing and formatting: `{PROTOCOL}://{PUBLIC_KEY}[:{SECRET_KEY}]@{HOST}[:{PORT}]{PATH}/{PROJECT_ID}`.
 *
 * Follows the SDK side (develop `overview.mdx` "Parsing the DSN"; @sentry/core `utils/dsn.js`,
 * regex `^(?:(\w+):)\/\/(?:(\w+)(?::(\w+)?)?@)((?:\[[:.%\w]+\]|[\w.-]+))(?::(\d+))?\/(.+)`):
 * only http/https, a `\w+` public key, the last path segment is the project id and everything
 * before it is a path prefix kept for the endpoint URL. Unlike the SDK (which keeps the leading
 * digits of the last segment) we require a fully numeric project id, because Relay's ingest
 * routes only match numeric ids (relay `endpoints/mod.rs`). The secret key is parsed but never
 * required (protocol.md §1.1). Left out: looking the key up, which is ingest's job.
 */
import { ProtocolError } from './errors.js';

/** A parsed DSN. */
export interface Dsn {
  protocol: 'http' | 'https';
  publicKey: string;
  /** Deprecated and optional; present only when non-empty in the DSN. */
  secretKey?: string;
  /** Lowercased host name; IPv6 addresses keep their brackets (`[::1]`). */
  host: string;
  /** Explicit port, absent when the DSN had none (or the scheme's default). */
  port?: number;
  /** Path prefix before the project id, without trailing slash; `''` if none (e.g. `/sentry`). */
  path: string;
  /** Numeric project id, as a string (Sentry calls every segment a string). */
  projectId: string;
}

const KEY_RE = /^\w+$/;
const PROJECT_ID_RE = /^\d+$/;

function invalid(dsn: string, why: string): ProtocolError {
  // Never echo a full DSN with its secret key; the public key alone is not a secret.
  const shown = dsn.length > 200 ? `${dsn.slice(0, 200)}...` : dsn.replace(/:([^@/:]*)@/, ':***@');
  return new ProtocolError('invalid_dsn', `invalid DSN ${JSON.stringify(shown)}: ${why}`, 400);
}

/**
 * Parses a DSN string.
 * @throws ProtocolError `invalid_dsn` when the string is not a valid http(s) DSN.
 */
export function parseDsn(dsn: string): Dsn {
  if (typeof dsn !== 'string' || dsn.trim() === '') throw invalid(String(dsn), 'empty');
  const text = dsn.trim();
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw invalid(text, 'not a URL');
  }
  const protocol = url.protocol.slice(0, -1);
  if (protocol !== 'http' && protocol !== 'https') throw invalid(text, `unsupported protocol ${protocol}`);
  const publicKey = decodeURIComponent(url.username);
  if (!publicKey) throw invalid(text, 'missing public key');
  if (!KEY_RE.test(publicKey)) throw invalid(text, 'public key must be letters, digits or underscore');
  const secretKey = decodeURIComponent(url.password);
  if (secretKey && !KEY_RE.test(secretKey)) throw invalid(text, 'secret key must be letters, digits or underscore');
  if (!url.hostname) throw invalid(text, 'missing host');
  if (url.search || url.hash) throw invalid(text, 'unexpected query or fragment');

  // Tolerate one trailing slash after the project id ("https://k@host/42/").
  const pathname = url.pathname.endsWith('/') ? url.pathname.slice(0, -1) : url.pathname;
  const cut = pathname.lastIndexOf('/');
  const projectId = pathname.slice(cut + 1);
  if (!projectId) throw invalid(text, 'missing project id');
  if (!PROJECT_ID_RE.test(projectId)) throw invalid(text, 'project id must be numeric');

  const result: Dsn = { protocol, publicKey, host: url.hostname, path: pathname.slice(0, cut), projectId };
  if (secretKey) result.secretKey = secretKey;
  if (url.port) result.port = Number(url.port);
  return result;
}

/**
 * Formats DSN parts back into a DSN string (without secret key, which SDKs no longer need).
 * `path` may be given with or without its leading slash.
 */
export function formatDsn(parts: {
  protocol: 'http' | 'https';
  publicKey: string;
  host: string;
  port?: number | null;
  path?: string | null;
  projectId: string | number;
}): string {
  let path = (parts.path ?? '').replace(/\/+$/, '');
  if (path && !path.startsWith('/')) path = `/${path}`;
  const port = parts.port ? `:${parts.port}` : '';
  return `${parts.protocol}://${parts.publicKey}@${parts.host}${port}${path}/${parts.projectId}`;
}
