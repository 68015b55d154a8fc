/**
 * The benchmark's event corpus: payloads shaped like what @sentry/node and sentry-python send
 * (test/fixtures/captures): an exception with 10–50 frames with source context, breadcrumbs,
 * contexts, tags and a user; spread over a chosen number of distinct issues; some gzipped; some
 * about 50 KB. Deterministic (seeded) so runs compare; the load generator then gives every send
 * its own event id, its own number in the exception message, as real messages carry ids, and the
 * current time as its timestamp, as an SDK stamps an error when it happens.
 */
import type { Template } from './load.js';

export interface CorpusOptions {
  size: number;
  issues: number;
  gzipShare: number;
  largeShare: number;
  seed?: number;
}


function prng(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The number in each exception message ("cart 004711 failed"), rewritten per send like an id would be. */
const MESSAGE_DIGITS = 6;

const WORDS = ['order', 'cart', 'user', 'invoice', 'payment', 'session', 'report', 'search', 'upload', 'profile', 'queue', 'cache'];

function frame(rand: () => number, issue: number, depth: number, inApp: boolean) {
  const mod = inApp ? `src/${WORDS[(issue + depth) % WORDS.length]}/handler${issue % 97}` : `node_modules/lib${depth % 13}/index`;
  const fn = inApp ? `${WORDS[issue % WORDS.length]}Step${depth}_${issue}` : `internal${depth}`;
  const line = 10 + Math.floor(rand() * 400);
  return {
    filename: `/app/${mod}.js`,
    abs_path: `/app/${mod}.js`,
    module: mod.replace(/\//g, '.'),
    function: fn,
    lineno: line,
    colno: 1 + Math.floor(rand() * 80),
    in_app: inApp,
    pre_context: [`  const a${depth} = load(${depth});`, `  if (!a${depth}) {`, '    log("missing");', '  }', `  // step ${depth}`],
    context_line: `  return ${fn}(a${depth}.value);`,
    post_context: ['}', '', `export function next${depth}() {`, '  return 1;', '}'],
  };
}

export function buildEvent(rand: () => number, issue: number, large: boolean, release: string) {
  const frames = 10 + (issue % 41);
  const stack = Array.from({ length: frames }, (_, d) => frame(rand, issue, d, d >= frames - 4));
  const user = `user-${Math.floor(rand() * 500)}`;
  return {
    event_id: [...Array(32)].map(() => Math.floor(rand() * 16).toString(16)).join(''),
    platform: 'node',
    level: 'error',
    timestamp: Number((Date.now() / 1000).toFixed(3)),
    release,
    environment: 'production',
    server_name: `web-${issue % 7}`,
    exception: {
      values: [{ type: `BenchError${issue}`, value: `${WORDS[issue % WORDS.length]} ${String(Math.floor(rand() * 100000)).padStart(MESSAGE_DIGITS, '0')} failed`, stacktrace: { frames: stack }, mechanism: { type: 'generic', handled: true } }],
    },
    breadcrumbs: Array.from({ length: 12 }, (_, i) => ({ timestamp: Date.now() / 1000 - 12 + i, category: i % 2 ? 'http' : 'console', message: `GET /api/${WORDS[i % WORDS.length]}/${i} 200`, level: 'info' })),
    contexts: {
      os: { name: 'Linux', version: '6.1.0' },
      runtime: { name: 'node', version: 'v20.20.2' },
      trace: { trace_id: 'a'.repeat(32), span_id: 'b'.repeat(16) },
    },
    tags: { shard: `s${issue % 5}`, region: ['eu', 'us', 'ap'][issue % 3] },
    user: { id: user, email: `${user}@example.com` },
    extra: large ? { payload: 'x'.repeat(48_000) } : { attempt: Math.floor(rand() * 5) },
    sdk: { name: 'sentry.javascript.node', version: '11.12.0' },
  };
}

/** Envelope templates; the load generator gives each send a fresh event id and gzips if marked. */
export function buildCorpus(opts: CorpusOptions): Template[] {
  const rand = prng(opts.seed ?? 42);
  const out: Template[] = [];
  for (let i = 0; i < opts.size; i++) {
    const issue = Math.floor(rand() * opts.issues);
    const large = rand() < opts.largeShare;
    const ev = buildEvent(rand, issue, large, `bench@${1 + (i % 3)}.0.0`);
    let text = `{"event_id":"${ev.event_id}","sent_at":"${new Date().toISOString()}"}\n{"type":"event"}\n${JSON.stringify(ev)}\n`;
    // The timestamp at a fixed width (seconds with 3 decimals; JSON drops trailing zeros).
    const stamp = `"timestamp":${JSON.stringify(ev.timestamp)},"release"`;
    const fixed = `"timestamp":${ev.timestamp.toFixed(3)},"release"`;
    if (!text.includes(stamp)) throw new Error('corpus: event timestamp not found');
    text = text.replace(stamp, fixed);
    const timestampOffset = text.indexOf(fixed) + '"timestamp":'.length;
    const value = ev.exception.values[0].value;
    const messageOffset = text.indexOf(`"value":"${value}"`) + `"value":"${value.split(' ')[0]} `.length;
    out.push({ text: Buffer.from(text), gzip: rand() < opts.gzipShare, messageOffset, messageDigits: MESSAGE_DIGITS, timestampOffset });
  }
  return out;
}
