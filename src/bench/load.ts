/**
 * The load generator: sends corpus events over loopback with bounded concurrency for a bounded
 * time, with keep-alive connections, each with a fresh event id and exception message number,
 * recording accept latency.
 */
import { Agent, request } from 'node:http';
import { randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';

export interface Template {
  /** Envelope text whose header starts `{"event_id":"` + 32 hex (patched per send). */
  text: Buffer;
  gzip: boolean;
  /** Where the exception message's number starts in `text`, and its width (patched per send). */
  messageOffset?: number;
  messageDigits?: number;
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

export async function sendLoad(opts: {
  targets: { port: number; path: string }[];
  templates: Template[];
  concurrency: number;
  durationMs: number;
  maxEvents: number;
}): Promise<LoadResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: opts.concurrency });
  const latencies = new Float64Array(opts.maxEvents);
  const rejected: Record<string, number> = {};
  let sent = 0;
  let accepted = 0;
  let bytesSent = 0;
  const started = performance.now();
  const deadline = started + opts.durationMs;
  const one = (i: number): Promise<void> => {
    const t = opts.templates[i % opts.templates.length];
    const body = Buffer.from(t.text);
    body.write(randomBytes(16).toString('hex'), ID_OFFSET, 'latin1');
    if (t.messageOffset !== undefined && t.messageDigits) {
      body.write(String(Math.floor(Math.random() * 10 ** t.messageDigits)).padStart(t.messageDigits, '0'), t.messageOffset, 'latin1');
    }
    const payload = t.gzip ? gzipSync(body, { level: 1 }) : body;
    bytesSent += payload.length;
    const target = opts.targets[i % opts.targets.length];
    const t0 = performance.now();
    return new Promise((resolve, reject) => {
      const req = request(
        { host: '127.0.0.1', port: target.port, method: 'POST', path: target.path, agent, headers: t.gzip ? { 'Content-Encoding': 'gzip' } : {} },
        (res) => {
          res.resume();
          res.on('end', () => {
            latencies[i] = performance.now() - t0;
            if (res.statusCode === 200) accepted++;
            else rejected[String(res.statusCode)] = (rejected[String(res.statusCode)] ?? 0) + 1;
            resolve();
          });
        },
      );
      req.on('error', reject);
      req.end(payload);
    });
  };
  const worker = async () => {
    while (performance.now() < deadline && sent < opts.maxEvents) await one(sent++);
  };
  await Promise.all(Array.from({ length: opts.concurrency }, worker));
  const durationMs = performance.now() - started;
  agent.destroy();
  return { sent, accepted, rejected, latenciesMs: latencies.slice(0, sent), durationMs, bytesSent };
}

export function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}
