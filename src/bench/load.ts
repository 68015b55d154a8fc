/**
 * The load generator: sends corpus events over loopback with bounded concurrency for a bounded
 * time, with keep-alive connections, each with a fresh event id, exception message number and
 * timestamp, recording accept latency.
 */
import { gzipSync } from 'node:zlib';
import { KeepAliveConnection } from './http-client.js';

export interface Template {
  /** Envelope text whose header starts `{"event_id":"` + 32 hex (patched per send). */
  text: Buffer;
  gzip: boolean;
  /** Where the exception message's number starts in `text`, and its width (patched per send). */
  messageOffset?: number;
  messageDigits?: number;
  /** Where the event's timestamp (seconds with 3 decimals) is in `text` (set to now per send). */
  timestampOffset?: number;
  /** Where the trace id (32 hex) stands in `text`, in the envelope header and in the trace context: one fresh id per send for all. */
  traceIdOffsets?: number[];
  /** Where the trace context's span id (16 hex) stands in `text` (fresh per send). */
  spanIdOffset?: number;
}

export interface LoadResult {
  sent: number;
  accepted: number;
  rejected: Record<string, number>;
  latenciesMs: Float64Array;
  durationMs: number;
  bytesSent: number;
}

const ID_OFFSET = '{"event_id":"'.length;
const HEX = Buffer.from('0123456789abcdef');

/** One send's envelope: the template with a fresh event id, trace and span ids, message number and timestamp. */
export function envelopeFor(t: Template, now = Date.now()): Buffer {
  const body = Buffer.from(t.text);
  // Math.random, not crypto: ids need only be unique, and randomBytes cost 6 µs per call here.
  for (let k = 0; k < 32; k++) body[ID_OFFSET + k] = HEX[(Math.random() * 16) | 0];
  // As a server SDK starts a trace per request: every event carries ids no other event has.
  if (t.traceIdOffsets?.length) {
    const [first, ...rest] = t.traceIdOffsets;
    for (let k = 0; k < 32; k++) body[first + k] = HEX[(Math.random() * 16) | 0];
    for (const at of rest) body.copy(body, at, first, first + 32);
  }
  if (t.spanIdOffset !== undefined) for (let k = 0; k < 16; k++) body[t.spanIdOffset + k] = HEX[(Math.random() * 16) | 0];
  if (t.messageOffset !== undefined && t.messageDigits) {
    for (let k = 0; k < t.messageDigits; k++) body[t.messageOffset + k] = 0x30 + ((Math.random() * 10) | 0);
  }
  // As an SDK stamps an error when it happens: event index entries then arrive in time order.
  if (t.timestampOffset !== undefined) body.write((now / 1000).toFixed(3), t.timestampOffset, 'latin1');
  return body;
}

export async function sendLoad(opts: {
  targets: { port: number; path: string }[];
  templates: Template[];
  concurrency: number;
  durationMs: number;
  maxEvents: number;
}): Promise<LoadResult> {
  // One connection per request in flight, each on its target in turn: the generator shares the
  // machine with the server, and undici cost it 1.5 to 2 times the CPU per request (http-client.ts).
  const connections = Array.from({ length: opts.concurrency }, (_, i) => {
    const target = opts.targets[i % opts.targets.length];
    return { conn: new KeepAliveConnection(target.port), path: target.path };
  });
  const latencies = new Float64Array(opts.maxEvents);
  const rejected: Record<string, number> = {};
  let sent = 0;
  let accepted = 0;
  let bytesSent = 0;
  const started = performance.now();
  const deadline = started + opts.durationMs;
  // As @sentry/node sends them (test/fixtures/captures/node-exception.jsonl): no content type.
  const plain = 'user-agent: sentry.javascript.node/11.12.0\r\n';
  const gzipped = `${plain}content-encoding: gzip\r\n`;
  const one = async (i: number, c: (typeof connections)[number]): Promise<void> => {
    const t = opts.templates[i % opts.templates.length];
    const body = envelopeFor(t);
    const payload = t.gzip ? gzipSync(body, { level: 1 }) : body;
    bytesSent += payload.length;
    const t0 = performance.now();
    let status: number | string;
    try {
      status = await c.conn.post(c.path, t.gzip ? gzipped : plain, payload);
    } catch {
      status = 'error';
    }
    latencies[i] = performance.now() - t0;
    if (status === 200) accepted++;
    else rejected[String(status)] = (rejected[String(status)] ?? 0) + 1;
  };
  const worker = async (c: (typeof connections)[number]) => {
    while (performance.now() < deadline && sent < opts.maxEvents) await one(sent++, c);
  };
  await Promise.all(connections.map(worker));
  const durationMs = performance.now() - started;
  for (const c of connections) c.conn.close();
  return { sent, accepted, rejected, latenciesMs: latencies.slice(0, sent), durationMs, bytesSent };
}

export function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}
