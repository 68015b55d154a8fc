/**
 * The load generator: sends corpus events over loopback with bounded concurrency for a bounded
 * time, with keep-alive connections, each with a fresh event id, exception message number and
 * timestamp, recording accept latency.
 */
import { gzipSync } from 'node:zlib';
import { Pool } from 'undici';

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
  // undici rather than node:http: the load generator shares the machine with the server, and
  // node:http's client cost about 0.17 ms of CPU per request here, half a core at 3,000 requests/s.
  const pools = opts.targets.map((t) => new Pool(`http://127.0.0.1:${t.port}`, { connections: Math.ceil(opts.concurrency / opts.targets.length) }));
  const latencies = new Float64Array(opts.maxEvents);
  const rejected: Record<string, number> = {};
  let sent = 0;
  let accepted = 0;
  let bytesSent = 0;
  const started = performance.now();
  const deadline = started + opts.durationMs;
  const plain = {};
  const gzipped = { 'content-encoding': 'gzip' };
  const one = async (i: number): Promise<void> => {
    const t = opts.templates[i % opts.templates.length];
    const body = envelopeFor(t);
    const payload = t.gzip ? gzipSync(body, { level: 1 }) : body;
    bytesSent += payload.length;
    const target = i % opts.targets.length;
    const t0 = performance.now();
    const res = await pools[target].request({ path: opts.targets[target].path, method: 'POST', headers: t.gzip ? gzipped : plain, body: payload });
    await res.body.dump();
    latencies[i] = performance.now() - t0;
    if (res.statusCode === 200) accepted++;
    else rejected[String(res.statusCode)] = (rejected[String(res.statusCode)] ?? 0) + 1;
  };
  const worker = async () => {
    while (performance.now() < deadline && sent < opts.maxEvents) await one(sent++);
  };
  await Promise.all(Array.from({ length: opts.concurrency }, worker));
  const durationMs = performance.now() - started;
  await Promise.all(pools.map((p) => p.close()));
  return { sent, accepted, rejected, latenciesMs: latencies.slice(0, sent), durationMs, bytesSent };
}

export function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}
