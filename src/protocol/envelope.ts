/**
 * The envelope codec: splitting `/envelope/` bodies into items and writing them back.
 *
 * Grammar per develop `envelopes.mdx` and relay `relay-server/src/envelope/mod.rs`
 * (`Envelope::parse_bytes`, `parse_item`, `require_termination`), protocol.md §3.1:
 * `Envelope = Headers { "\n" Item } [ "\n" ]`, newline is `\n` only; with `length` the payload is
 * exactly that many bytes followed by `\n` or EOF, without it the payload runs to the next `\n`
 * or EOF. The header line is required (may be `{}`); an item without a string `type` is invalid;
 * unknown item types are kept (skipping them is the caller's choice). Trailing empty lines are
 * tolerated. Also the data category and "creates an issue" tables (protocol.md §3.4).
 * Left out: item payload validation (JSON, item_count), per-item size limits and the
 * one-event-per-envelope rule (sentry-cli's own fixture breaks it); those are ingest policy.
 */
import { ProtocolError } from './errors.js';
import { normalizeUuid } from './ids.js';

/** Envelope header line. Unknown attributes are kept. */
export interface EnvelopeHeaders {
  /** Normalized to 32 lowercase hex when present. */
  event_id?: string;
  dsn?: string;
  sdk?: { name?: string; version?: string; [k: string]: unknown };
  sent_at?: string;
  trace?: Record<string, unknown>;
  [k: string]: unknown;
}

/** Item header line. Unknown attributes are kept. */
export type ItemHeaders = {
  type: string;
  length?: number;
  content_type?: string;
  filename?: string;
  attachment_type?: string;
  item_count?: number;
  [k: string]: unknown;
};

/** One envelope item: its header line and raw payload bytes. */
export interface EnvelopeItem {
  headers: ItemHeaders;
  payload: Buffer;
}

/** A parsed envelope. */
export interface Envelope {
  headers: EnvelopeHeaders;
  items: EnvelopeItem[];
}

const NL = 0x0a;

function invalid(message: string): ProtocolError {
  return new ProtocolError('invalid_envelope', message, 400);
}

function parseHeaderLine(line: Buffer, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(line.toString('utf8'));
  } catch (err) {
    throw invalid(`${what} is not valid JSON: ${(err as Error).message}`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw invalid(`${what} must be a JSON object`);
  }
  return value as Record<string, unknown>;
}

function lineEnd(body: Buffer, from: number): number {
  const i = body.indexOf(NL, from);
  return i < 0 ? body.length : i;
}

function envelopeHeaders(raw: Record<string, unknown>): EnvelopeHeaders {
  const headers = raw as EnvelopeHeaders;
  if (headers.event_id !== undefined && headers.event_id !== null) {
    const id = normalizeUuid(headers.event_id);
    if (id === null) throw invalid(`envelope header event_id is not a UUID`);
    headers.event_id = id;
  } else if (headers.event_id === null) {
    delete headers.event_id;
  }
  return headers;
}

/**
 * Parses only the envelope header line, e.g. to read `dsn` before deciding to read the rest.
 * @throws ProtocolError `invalid_envelope` when the first line is not a JSON object.
 */
export function parseEnvelopeHeaders(body: Buffer): EnvelopeHeaders {
  return envelopeHeaders(parseHeaderLine(body.subarray(0, lineEnd(body, 0)), 'envelope header'));
}

function itemHeaders(raw: Record<string, unknown>, index: number): ItemHeaders {
  if (typeof raw.type !== 'string' || raw.type === '') throw invalid(`item ${index} has no type`);
  if (raw.length !== undefined && raw.length !== null) {
    const len = raw.length;
    // Relay reads `length` as u32.
    if (typeof len !== 'number' || !Number.isInteger(len) || len < 0 || len > 0xffffffff) {
      throw invalid(`item ${index} has an invalid length`);
    }
  } else {
    delete raw.length;
  }
  return raw as ItemHeaders;
}

/**
 * Parses an envelope body byte for byte.
 * The envelope `event_id` header is normalized to 32 lowercase hex.
 * @throws ProtocolError `invalid_envelope` with the reason in the message.
 */
export function parseEnvelope(body: Buffer): Envelope {
  if (body.length === 0) throw invalid('empty envelope');
  let pos = lineEnd(body, 0);
  const headers = envelopeHeaders(parseHeaderLine(body.subarray(0, pos), 'envelope header'));
  pos += 1; // past the header's newline (or past EOF, which ends the loop)
  const items: EnvelopeItem[] = [];
  while (pos < body.length) {
    const headerEnd = lineEnd(body, pos);
    const line = body.subarray(pos, headerEnd);
    if (line.length === 0) {
      // An empty line where an item header belongs: tolerated only if nothing but newlines follows.
      let rest = headerEnd;
      while (rest < body.length && body[rest] === NL) rest += 1;
      if (rest === body.length) break;
      throw invalid(`empty line before item ${items.length}`);
    }
    const itemHead = itemHeaders(parseHeaderLine(line, `item ${items.length} header`), items.length);
    if (headerEnd >= body.length) {
      // A header at EOF: only an empty implicit-length or zero-length payload fits.
      if (itemHead.length) throw invalid(`item ${items.length} is truncated`);
      items.push({ headers: itemHead, payload: Buffer.alloc(0) });
      break;
    }
    const start = headerEnd + 1;
    let end: number;
    if (itemHead.length !== undefined) {
      end = start + itemHead.length;
      if (end > body.length) throw invalid(`item ${items.length} is truncated: expected ${itemHead.length} bytes`);
      if (end < body.length && body[end] !== NL) {
        throw invalid(`item ${items.length} payload is not followed by a newline`);
      }
    } else {
      end = lineEnd(body, start);
    }
    items.push({ headers: itemHead, payload: body.subarray(start, end) });
    pos = end + 1;
  }
  return { headers, items };
}

/**
 * Serializes an envelope. Every item gets an explicit `length` (the payload's byte length), so
 * binary payloads and payloads containing newlines round-trip.
 */
export function serializeEnvelope(env: Envelope): Buffer {
  const parts: Buffer[] = [Buffer.from(JSON.stringify(env.headers) + '\n', 'utf8')];
  for (const item of env.items) {
    const headers = { ...item.headers, length: item.payload.length };
    parts.push(Buffer.from(JSON.stringify(headers) + '\n', 'utf8'), item.payload, Buffer.from('\n'));
  }
  return Buffer.concat(parts);
}

/**
 * The rate-limit data category of an item type, as the SDK computes it when it backs off
 * (@sentry/core `utils/envelope.js` `envelopeItemTypeToDataCategory`: an override table, else
 * the type itself) plus the Relay-only types of protocol.md §3.4. Categories must match what
 * SDKs use, because `X-Sentry-Rate-Limits` is matched against them (§5.2).
 */
export function itemCategory(type: string): string {
  return CATEGORY_OVERRIDES[type] ?? type;
}

const CATEGORY_OVERRIDES: Record<string, string> = {
  // @sentry/core 11.12 DATA_CATEGORY_OVERRIDES, verbatim.
  sessions: 'session',
  event: 'error',
  client_report: 'internal',
  user_report: 'default',
  profile_chunk: 'profile',
  replay_event: 'replay',
  replay_recording: 'replay',
  check_in: 'monitor',
  raw_security: 'security',
  log: 'log_item',
  metric: 'trace_metric',
  // Relay item types the JS SDK never sends (protocol.md §3.4, §5.1).
  replay_video: 'replay',
  security: 'security',
  nel: 'security',
  statsd: 'metric_bucket',
  metric_buckets: 'metric_bucket',
  metric_meta: 'metric_bucket',
  otel_log: 'log_item',
};

/**
 * Whether an item of this type becomes an issue event (an error/default event that is grouped
 * into an issue). Only `event` does. Relay's `creates_event()` is also true for `transaction`
 * and `feedback` and for minidump/crash-report attachments, but transactions are performance
 * data (no issue), user feedback is shown apart from error issues, and Faultline does not
 * process native crash reports yet, so none of them create an *issue* event here.
 */
export function itemCreatesIssueEvent(type: string): boolean {
  return type === 'event';
}
