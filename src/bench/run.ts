/**
 * One benchmark run of a layout: start the processes, create a project, send the corpus for a
 * bounded time, wait until the queue drains, and measure accepted/s, processed/s, accept latency,
 * peak memory, CPU per 1,000 events and bytes stored per event.
 */
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { yardstickMs } from './calibrate.js';
import { buildCorpus } from './corpus.js';
import { percentile, sendLoad } from './load.js';
import { commandCpu, isLocal, queueDepth, runCli, scaleOutEnv, startRole, stopAll, threadSchedule, usage, type Proc } from './processes.js';

export interface BenchOptions {
  layout: 'embedded' | 'postgres-redis';
  durationMs: number;
  concurrency: number;
  issues: number;
  corpusSize: number;
  gzipShare: number;
  largeShare: number;
  /** Worker processes in the postgres-redis layout. */
  workers?: number;
  /**
   * Give the project two alert rules (a new issue; more than 100 events of an issue in an hour),
   * each calling a webhook this process answers: every event is then post-processed, as in most
   * real projects, and "processed" waits for post-processing too.
   */
  alertRules?: boolean;
  /** Settings given to Faultline's processes as environment variables (the sweep's option rows). */
  env?: Record<string, string>;
  postgresUrl?: string;
  redisUrl?: string;
  log?: (msg: string) => void;
}

export interface BenchResult {
  layout: string;
  options: Omit<BenchOptions, 'log' | 'postgresUrl' | 'redisUrl'>;
  sent: number;
  accepted: number;
  rejected: Record<string, number>;
  acceptedPerSec: number;
  processedPerSec: number;
  latencyMs: { p50: number; p90: number; p99: number; max: number };
  peakRssMb: Record<string, number>;
  cpuSecondsPer1000: number;
  bytesStoredPerEvent: number | null;
  bytesSentPerEvent: number;
  drainMs: number;
  /** CPU the load generator itself spent per request (it shares the machine with the server). */
  generatorCpuMsPerRequest: number;
  /**
   * CPU per accepted event (ms) of PostgreSQL and Redis when they run on this machine (the
   * postgres-redis layout), which `cpuSecondsPer1000` (Faultline's processes) leaves out.
   */
  servicesCpuMsPerEvent?: { postgres: number; redis: number };
  /** CPU per accepted event (ms) of each of Faultline's processes, by role: what `cpuSecondsPer1000` adds up. */
  cpuMsPerEventByRole?: Record<string, number>;
  /** The machine's speed around the run: ms for a fixed piece of CPU work (calibrate.ts), before and after. */
  yardstickMs?: { before: number; after: number };
  /**
   * The most tasks waiting in the queue during the run (sampled every half second) and, in the
   * postgres-redis layout, the most memory Redis used above what it used before the load: the
   * backlog is held there, so this is what a backlog costs.
   */
  queuePeak?: { tasks: number; redisMb?: number };
  /**
   * Events processed per second while the load ran (accepted minus the backlog when it stopped,
   * over the load's duration), and the backlog drained per second after it: processed/s is
   * accepted/s / (1 + (accepted/s - the first) / the second), docs/benchmarks.md "Goals".
   */
  keptUpPerSec?: number;
  drainedPerSec?: number;
  /**
   * `faultline start`'s threads (the embedded layout), `ingest` (its main thread, also the API) and
   * `worker`: the share of the load's time, and of the drain's after it, that each ran on a core
   * and that it was ready but waited for one (the kernel's schedstat). The rest it slept.
   */
  threadTime?: Record<string, Record<'load' | 'drain', ThreadShare>>;
}

export interface ThreadShare {
  running: number;
  waiting: number;
}

/** `faultline start`'s main thread and, once its log names it (worker-thread.ts), its worker thread. */
function startThreads(p: Proc): Record<string, number> {
  const tid = /"tid":(\d+),"msg":"worker thread running"/.exec(p.output())?.[1];
  return { ingest: p.child.pid!, ...(tid ? { worker: Number(tid) } : {}) };
}

/** Each thread's share of the time between `from` and `to` (schedstat samples `seconds` apart) spent running and waiting. */
function shares(threads: Record<string, number>, from: Map<string, ThreadShare | null>, to: Map<string, ThreadShare | null>, seconds: number): Record<string, ThreadShare> {
  const out: Record<string, ThreadShare> = {};
  for (const name of Object.keys(threads)) {
    const a = from.get(name);
    const b = to.get(name);
    if (!a || !b || seconds <= 0) continue;
    out[name] = { running: round3((b.running - a.running) / seconds), waiting: round3((b.waiting - a.waiting) / seconds) };
  }
  return out;
}

const round3 = (n: number) => Math.round(n * 1000) / 1000;

/** `threadTime` from schedstat samples at the load's start, its end and the drain's end (and when each was taken, ms). */
function threadTime(threads: Record<string, number>, samples: Map<string, ThreadShare | null>[], at: number[]): BenchResult['threadTime'] {
  const load = shares(threads, samples[0], samples[1], (at[1] - at[0]) / 1000);
  const drain = shares(threads, samples[1], samples[2], (at[2] - at[1]) / 1000);
  const out: NonNullable<BenchResult['threadTime']> = {};
  for (const name of Object.keys(load)) if (drain[name]) out[name] = { load: load[name], drain: drain[name] };
  return out;
}

function dirSize(dir: string, include: (name: string) => boolean = () => true): number {
  let n = 0;
  for (const f of readdirSync(dir)) {
    const p = path.join(dir, f);
    const s = statSync(p);
    n += s.isDirectory() ? dirSize(p, include) : include(f) ? s.size : 0;
  }
  return n;
}

/** Samples the queue's depth (and Redis's memory, for a queue on Redis) until `stop`, which gives the peaks. */
async function watchQueue(port: number, redisUrl: string | null): Promise<{ stop(): Promise<{ tasks: number; redisMb?: number }> }> {
  const { Redis } = await import('ioredis');
  const redis = redisUrl ? new Redis(redisUrl) : null;
  const usedMemory = async () => Number(/used_memory:(\d+)/.exec((await redis?.info('memory')) ?? '')?.[1] ?? 0);
  const base = await usedMemory();
  let tasks = 0;
  let memory = base;
  let busy = false;
  const tick = async () => {
    if (busy) return;
    busy = true;
    try {
      tasks = Math.max(tasks, await queueDepth(port));
      if (redis) memory = Math.max(memory, await usedMemory());
    } catch {
      // a missed sample
    } finally {
      busy = false;
    }
  };
  const timer = setInterval(() => void tick(), 500);
  return {
    async stop() {
      clearInterval(timer);
      redis?.disconnect();
      return { tasks, ...(redis ? { redisMb: Math.round(((memory - base) / 1048576) * 10) / 10 } : {}) };
    },
  };
}

export async function runBench(opts: BenchOptions): Promise<BenchResult> {
  const log = opts.log ?? (() => {});
  const dataDir = mkdtempSync(path.join(tmpdir(), 'faultline-bench-'));
  const env: NodeJS.ProcessEnv = { ...process.env, ...opts.env, FAULTLINE_DATA_DIR: dataDir, FAULTLINE_ADMIN_PASSWORD: 'bench-password' };
  let benchDb: { url: string; drop(): Promise<void> } | null = null;
  if (opts.layout === 'postgres-redis') {
    if (!opts.postgresUrl || !opts.redisUrl) throw new Error('the postgres-redis layout needs a PostgreSQL and a Redis URL');
    // A database of its own, so stored bytes are this run's; the Redis database is emptied first.
    benchDb = await scaleOutEnv(env, opts.postgresUrl, opts.redisUrl);
  }
  const procs: Proc[] = [];
  let hooks: { url: string; close(): Promise<void> } | null = null;
  try {
    log(`${opts.layout}: starting`);
    if (opts.layout === 'embedded') procs.push(await startRole('start', env));
    else {
      procs.push(await startRole('web', env));
      procs.push(await startRole('ingest', env));
      for (let i = 0; i < (opts.workers ?? 1); i++) procs.push({ ...(await startRole('worker', env)), role: i ? `worker-${i + 1}` : 'worker' });
      procs.push(await startRole('scheduler', env));
    }
    const project = JSON.parse(runCli(['project', 'create', 'bench/app', '--json'], env)) as { id: string; dsn: string };
    const key = new URL(project.dsn).username;
    const ingest = procs.find((p) => p.role === 'start' || p.role === 'ingest')!;
    const health = procs.find((p) => p.port)!;
    if (opts.alertRules) {
      hooks = await webhookSink();
      await createAlertRules(env, health.port!, hooks.url);
    }
    log(`${opts.layout}: building corpus of ${opts.corpusSize}`);
    const templates = buildCorpus({ size: opts.corpusSize, issues: opts.issues, gzipShare: opts.gzipShare, largeShare: opts.largeShare });
    const yardstickBefore = yardstickMs();
    const before = new Map(procs.map((p) => [p.role, usage(p.child.pid!)]));
    // PostgreSQL and Redis on this machine share its cores; their CPU is counted apart.
    const services = opts.layout === 'postgres-redis' && isLocal(opts.postgresUrl!) && isLocal(opts.redisUrl!) ? ['postgres', 'redis-server'] : [];
    const servicesBefore = commandCpu(services);
    const peak: Record<string, number> = {};
    const sample = () => {
      for (const p of procs) peak[p.role] = Math.max(peak[p.role] ?? 0, usage(p.child.pid!).rss);
    };
    const sampler = setInterval(sample, 250);
    const queuePeak = await watchQueue(health.port!, opts.layout === 'postgres-redis' ? opts.redisUrl! : null);
    log(`${opts.layout}: sending for ${opts.durationMs} ms with concurrency ${opts.concurrency}`);
    const threads = opts.layout === 'embedded' ? startThreads(procs[0]) : {};
    const schedule = () => new Map(Object.entries(threads).map(([name, tid]) => [name, threadSchedule(procs[0].child.pid!, tid)]));
    const scheduleAtStart = schedule();
    const started = performance.now();
    const generatorCpu = process.cpuUsage();
    const load = await sendLoad({
      targets: [{ port: ingest.port!, path: `/api/${project.id}/envelope/?sentry_key=${key}` }],
      templates,
      concurrency: opts.concurrency,
      durationMs: opts.durationMs,
      maxEvents: 2_000_000,
    });
    // The load generator's own CPU (this process): on a small machine it competes with the server.
    const gen = process.cpuUsage(generatorCpu);
    const generatorMsPerRequest = load.sent ? (gen.user + gen.system) / 1000 / load.sent : 0;
    const backlog = await queueDepth(health.port!);
    const loadEnded = performance.now();
    const scheduleAtLoadEnd = schedule();
    log(`${opts.layout}: sent ${load.sent}, accepted ${load.accepted}; waiting for the queue to drain (${backlog} tasks)`);
    while ((await queueDepth(health.port!)) > 0) await new Promise((r) => setTimeout(r, 200));
    const drained = performance.now();
    const scheduleAtDrained = schedule();
    clearInterval(sampler);
    sample();
    const queue = await queuePeak.stop();
    let cpu = 0;
    const cpuByRole: Record<string, number> = {};
    for (const p of procs) {
      const used = usage(p.child.pid!).cpu - (before.get(p.role)?.cpu ?? 0);
      cpu += used;
      cpuByRole[p.role] = Math.round((used * 1e6) / Math.max(1, load.accepted)) / 1000;
    }
    const servicesAfter = commandCpu(services);
    const yardstickAfter = yardstickMs();
    const perEvent = (name: string) => Math.round(((servicesAfter[name] - servicesBefore[name]) * 1e6) / Math.max(1, load.accepted)) / 1000;
    const sorted = Float64Array.from(load.latenciesMs).sort();
    let stored: number | null = null;
    // The metadata database with its bodies; the queue file holds only work in flight.
    if (opts.layout === 'embedded') {
      // Pages still in the WAL (up to 40 MB) are also counted where they will go: fold them in first.
      const db = new BetterSqlite3(path.join(dataDir, 'faultline.db'));
      db.pragma('wal_checkpoint(TRUNCATE)');
      db.close();
      stored = dirSize(dataDir, (f) => f.startsWith('faultline.db'));
    } else {
      const pg = (await import('pg')).default;
      const c = new pg.Client({ connectionString: benchDb!.url });
      await c.connect();
      stored = Number((await c.query('SELECT pg_database_size(current_database()) AS n')).rows[0].n);
      await c.end();
    }
    return {
      layout: opts.layout,
      options: {
        layout: opts.layout,
        durationMs: opts.durationMs,
        concurrency: opts.concurrency,
        issues: opts.issues,
        corpusSize: opts.corpusSize,
        gzipShare: opts.gzipShare,
        largeShare: opts.largeShare,
        ...(opts.layout === 'postgres-redis' ? { workers: opts.workers ?? 1 } : {}),
        ...(opts.alertRules ? { alertRules: true } : {}),
        ...(opts.env ? { env: opts.env } : {}),
      },
      sent: load.sent,
      accepted: load.accepted,
      rejected: load.rejected,
      acceptedPerSec: load.accepted / (load.durationMs / 1000),
      processedPerSec: load.accepted / ((drained - started) / 1000),
      latencyMs: { p50: percentile(sorted, 50), p90: percentile(sorted, 90), p99: percentile(sorted, 99), max: sorted[sorted.length - 1] ?? 0 },
      peakRssMb: Object.fromEntries(Object.entries(peak).map(([k, v]) => [k, Math.round(v / 1048576)])),
      cpuSecondsPer1000: load.accepted ? (cpu / load.accepted) * 1000 : 0,
      cpuMsPerEventByRole: cpuByRole,
      bytesStoredPerEvent: stored !== null && load.accepted ? Math.round(stored / load.accepted) : null,
      bytesSentPerEvent: load.accepted ? Math.round(load.bytesSent / load.sent) : 0,
      drainMs: Math.round(drained - started - load.durationMs),
      generatorCpuMsPerRequest: Math.round(generatorMsPerRequest * 1000) / 1000,
      yardstickMs: { before: yardstickBefore, after: yardstickAfter },
      ...(services.length ? { servicesCpuMsPerEvent: { postgres: perEvent('postgres'), redis: perEvent('redis-server') } } : {}),
      queuePeak: queue,
      keptUpPerSec: Math.max(0, load.accepted - backlog) / (load.durationMs / 1000),
      drainedPerSec: backlog / Math.max(0.001, (drained - loadEnded) / 1000),
      ...(Object.keys(threads).length ? { threadTime: threadTime(threads, [scheduleAtStart, scheduleAtLoadEnd, scheduleAtDrained], [started, loadEnded, drained]) } : {}),
    };
  } finally {
    await stopAll(procs);
    await hooks?.close();
    await benchDb?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** A webhook receiver on loopback that answers every call at once. */
export async function webhookSink(): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(200).end());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/hook`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

/** The `alertRules` option's rules, created through the API as a user would (Sentry's rule shape). */
export async function createAlertRules(env: NodeJS.ProcessEnv, port: number, hookUrl: string): Promise<void> {
  const { token } = JSON.parse(runCli(['token', 'create', '--json', '--org', 'bench', '--scopes', 'project:read', 'project:write'], env)) as { token: string };
  const action = { id: 'sentry.rules.actions.notify_event_service.NotifyEventServiceAction', url: hookUrl };
  const rules = [
    { name: 'new issue', conditions: [{ id: 'sentry.rules.conditions.first_seen_event.FirstSeenEventCondition' }] },
    { name: 'busy issue', conditions: [{ id: 'sentry.rules.conditions.event_frequency.EventFrequencyCondition', value: 100, interval: '1h' }] },
  ];
  for (const rule of rules) {
    const r = await fetch(`http://127.0.0.1:${port}/api/0/projects/bench/app/rules/`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ ...rule, actionMatch: 'all', filterMatch: 'all', frequency: 30, actions: [action] }),
    });
    if (r.status !== 201) throw new Error(`creating alert rule "${rule.name}": ${r.status} ${await r.text()}`);
  }
}
