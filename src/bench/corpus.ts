/**
 * The benchmark's event corpus: payloads shaped like what @sentry/node sends
 * (test/fixtures/captures): an exception with 10–50 frames (Node's own without source context,
 * the rest with it, none with `abs_path`), breadcrumbs, the SDK's contexts, integrations and the
 * application's modules, tags and a user; spread over a chosen number of distinct issues; some
 * gzipped; some about 50 KB. Deterministic (seeded) so runs compare; the load generator then gives every send
 * its own event id, its own trace and span ids (in the envelope header's trace context and the
 * event's), as a server SDK starts a trace per request, its own number in the exception message, as
 * real messages carry ids, and the current time as its timestamp, as an SDK stamps an error when it
 * happens.
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

/** Placeholders for the trace context's ids, which the load generator replaces per send. */
const TRACE_ID = '7d8852f414de4deaa6315de040443340';
const SPAN_ID = '8c2783244d0cdefe';

/** The number in each exception message ("cart 004711 failed"), rewritten per send like an id would be. */
const MESSAGE_DIGITS = 6;

const WORDS = ['order', 'cart', 'user', 'invoice', 'payment', 'session', 'report', 'search', 'upload', 'profile', 'queue', 'cache'];

/** Node's own outermost frames, as @sentry/node sends them: no source context, never in-app. */
const NODE_FRAMES = [
  { filename: 'node:internal/process/task_queues', module: 'task_queues', function: 'process.processTicksAndRejections', lineno: 95, colno: 5 },
  { filename: 'node:internal/timers', module: 'timers', function: 'listOnTimeout', lineno: 581, colno: 17 },
  { filename: 'node:internal/modules/run_main', module: 'run_main', function: 'runEntryPointWithESMLoader', lineno: 98, colno: 12 },
];

/** Packages an application reports (the SDK's Modules integration), with versions. */
const MODULES = Object.fromEntries(
  ['express', 'pg', 'ioredis', 'zod', 'pino', 'undici', 'jsonwebtoken', 'dayjs', 'lodash', 'uuid', 'dotenv', 'ajv', 'bullmq', 'sharp', 'cors', 'helmet', 'cookie-parser', 'multer', 'nodemailer', 'stripe',
    '@sentry/node', '@sentry/core', '@sentry/opentelemetry', '@opentelemetry/api', 'semver', 'debug', 'ms', 'qs', 'body-parser', 'mime-types'].map((m, i) => [m, `${1 + (i % 9)}.${(i * 7) % 23}.${i % 5}`]),
);

const INTEGRATIONS = ['EventFilters', 'FunctionToString', 'LinkedErrors', 'Dedupe', 'RequestData', 'NodeSystemError', 'Console', 'Http', 'NodeFetch', 'OnUncaughtException', 'OnUnhandledRejection', 'ContextLines', 'LocalVariablesAsync', 'Context', 'ChildProcess', 'WorkerThreads', 'ProcessSession', 'Modules', 'Express'];

/** A frame as @sentry/node 10–11 sends it: `filename` but no `abs_path`, source context from the file. */
function frame(rand: () => number, issue: number, depth: number, inApp: boolean) {
  const mod = inApp ? `src/${WORDS[(issue + depth) % WORDS.length]}/handler${issue % 97}` : `node_modules/lib${depth % 13}/index`;
  const fn = inApp ? `${WORDS[issue % WORDS.length]}Step${depth}_${issue}` : `internal${depth}`;
  const line = 10 + Math.floor(rand() * 400);
  return {
    filename: `/app/${mod}.js`,
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

/**
 * One event as @sentry/node sends it (test/fixtures/captures/node-exception.jsonl): the stack
 * starts in Node's own frames, runs through packages and ends in the application; the SDK's
 * contexts, integrations and the application's modules come with it.
 */
export function buildEvent(rand: () => number, issue: number, large: boolean, release: string) {
  const frames = 10 + (issue % 41);
  const own = NODE_FRAMES.slice(0, 1 + (issue % NODE_FRAMES.length)).map((f) => ({ ...f, in_app: false }));
  const stack = [...own, ...Array.from({ length: frames - own.length }, (_, d) => frame(rand, issue, d, d >= frames - own.length - 4))];
  const user = `user-${Math.floor(rand() * 500)}`;
  const memory = 100_000_000 + Math.floor(rand() * 50_000_000);
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
      // Patched per send (load.ts): a server SDK starts a trace per request.
      trace: { trace_id: TRACE_ID, span_id: SPAN_ID },
      runtime: { name: 'node', version: 'v20.20.2' },
      app: { app_start_time: '2026-12-01T08:00:00.000Z', app_memory: memory, free_memory: 24_000_000_000 - memory },
      os: { kernel_version: '6.1.0-18-amd64', name: 'Debian', version: '12.11' },
      device: { boot_time: '2026-11-30T21:48:48.555Z', arch: 'x64', memory_size: 25_276_502_016, free_memory: 24_000_000_000 - memory, processor_count: 2, cpu_description: 'AMD EPYC', processor_frequency: 0 },
      culture: { locale: 'en-US', timezone: 'UTC' },
      cloud_resource: {},
    },
    tags: { shard: `s${issue % 5}`, region: ['eu', 'us', 'ap'][issue % 3] },
    user: { id: user, email: `${user}@example.com` },
    extra: large ? { payload: 'x'.repeat(48_000) } : { attempt: Math.floor(rand() * 5) },
    sdk: { integrations: INTEGRATIONS, name: 'sentry.javascript.node', version: '11.12.0', packages: [{ name: 'npm:@sentry/node', version: '11.12.0' }] },
    modules: MODULES,
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
    // The envelope header carries the trace's dynamic sampling context, as @sentry/node sends it.
    const trace = { environment: ev.environment, release: ev.release, trace_id: TRACE_ID };
    let text = `{"event_id":"${ev.event_id}","sent_at":"${new Date().toISOString()}","sdk":{"name":"sentry.javascript.node","version":"11.12.0"},"trace":${JSON.stringify(trace)}}\n{"type":"event"}\n${JSON.stringify(ev)}\n`;
    // The timestamp at a fixed width (seconds with 3 decimals; JSON drops trailing zeros).
    const stamp = `"timestamp":${JSON.stringify(ev.timestamp)},"release"`;
    const fixed = `"timestamp":${ev.timestamp.toFixed(3)},"release"`;
    if (!text.includes(stamp)) throw new Error('corpus: event timestamp not found');
    text = text.replace(stamp, fixed);
    const timestampOffset = text.indexOf(fixed) + '"timestamp":'.length;
    const value = ev.exception.values[0].value;
    const messageOffset = text.indexOf(`"value":"${value}"`) + `"value":"${value.split(' ')[0]} `.length;
    const traceIdOffsets = [...text.matchAll(new RegExp(TRACE_ID, 'g'))].map((m) => m.index);
    const spanIdOffset = text.indexOf(SPAN_ID);
    if (traceIdOffsets.length !== 2 || spanIdOffset < 0) throw new Error('corpus: trace ids not found');
    out.push({ text: Buffer.from(text), gzip: rand() < opts.gzipShare, messageOffset, messageDigits: MESSAGE_DIGITS, timestampOffset, traceIdOffsets, spanIdOffset });
  }
  return out;
}
