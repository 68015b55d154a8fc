/**
 * `faultline bench --profile-worker N`: the measurement behind docs/benchmarks.md's breakdown.
 * Fills a fresh data directory's queue with N corpus events through `faultline ingest` alone,
 * then lets one `faultline worker` drain it, each under the built-in profiler (`--cpu-prof`), and
 * prints for each CPU per event and where the time went (self time, and time including callees).
 */
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import BetterSqlite3 from 'better-sqlite3';
import { buildCorpus } from './corpus.js';
import { sendLoad } from './load.js';
import { queueDepth, runCli, scaleOutEnv, startRole, stopAll, usage, type Proc } from './processes.js';
import { createAlertRules, webhookSink } from './run.js';
import type { SqlTiming } from './sql-timing.js';
import { formatPgStatements, readPgStatements, startPgStatements } from './pg-statements.js';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

type CpuProfile = { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] };

function frameName(f: ProfileNode['callFrame']): string {
  return `${f.functionName || '(anonymous)'} ${f.url.replace(/^.*\/(dist|node_modules)\//, '$1/')}:${f.lineNumber + 1}`;
}

/** Self time per function (ms), largest first, from a .cpuprofile. */
export function selfTimes(profile: CpuProfile): [string, number][] {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<string, number>();
  profile.samples.forEach((id, i) => {
    const name = frameName(byId.get(id)!.callFrame);
    self.set(name, (self.get(name) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000);
  });
  return [...self].sort((a, b) => b[1] - a[1]);
}

/**
 * Time spent in each of Faultline's own functions including what they call (ms), largest first:
 * shows what a whole pipeline step costs. A function on the stack twice (recursion) counts once.
 */
export function inclusiveTimes(profile: CpuProfile): [string, number][] {
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const total = new Map<string, number>();
  profile.samples.forEach((leaf, i) => {
    const names = new Set<string>();
    for (let id: number | undefined = leaf; id !== undefined; id = parent.get(id)) {
      const f = byId.get(id)!.callFrame;
      if (f.url.includes('/dist/')) names.add(frameName(f));
    }
    for (const name of names) total.set(name, (total.get(name) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000);
  });
  return [...total].sort((a, b) => b[1] - a[1]);
}

/** Prints the self-time and inclusive-time tables of the one profile in `dir`. */
export function printProfile(dir: string): void {
  const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
  if (!file) return;
  const profile = JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as CpuProfile;
  const times = selfTimes(profile);
  const total = times.reduce((n, [, t]) => n + t, 0);
  const print = (rows: [string, number][]) => {
    for (const [name, ms] of rows) process.stdout.write(`${ms.toFixed(0).padStart(7)} ms ${((100 * ms) / total).toFixed(1).padStart(5)} %  ${name}\n`);
  };
  process.stdout.write('  self time:\n');
  print(times.slice(0, 25));
  process.stdout.write("  Faultline's functions, including what they call:\n");
  print(inclusiveTimes(profile).slice(0, 25));
}

interface HeapNode {
  callFrame: ProfileNode['callFrame'];
  selfSize: number;
  children?: HeapNode[];
}

/** Bytes allocated per function (self), largest first, from a .heapprofile. */
export function allocations(root: HeapNode): [string, number][] {
  const bytes = new Map<string, number>();
  const stack = [root];
  while (stack.length) {
    const n = stack.pop()!;
    const name = frameName(n.callFrame);
    bytes.set(name, (bytes.get(name) ?? 0) + n.selfSize);
    for (const c of n.children ?? []) stack.push(c);
  }
  return [...bytes].sort((a, b) => b[1] - a[1]);
}

/** Prints where the worker allocated (`survivors`: what outlived a scavenge), in KB per event. */
export function printHeapProfile(file: string, events: number, survivors = false): void {
  const rows = allocations((JSON.parse(readFileSync(file, 'utf8')) as { head: HeapNode }).head);
  const total = rows.reduce((n, [, b]) => n + b, 0);
  const what = survivors ? 'outlived a young-generation collection' : 'allocated';
  process.stdout.write(`  ${what}: ${(total / 1024 / events).toFixed(1)} KB per event (sampled, collected objects included); by function:\n`);
  for (const [name, b] of rows.slice(0, 25)) {
    process.stdout.write(`${(b / 1024 / events).toFixed(1).padStart(7)} KB ${((100 * b) / total).toFixed(1).padStart(5)} %  ${name}\n`);
  }
}

/** Prints the worker's SQLite statements by total time, per event, and its slowest commits. */
export function printSqlTiming(file: string, events: number): void {
  const timing = JSON.parse(readFileSync(file, 'utf8')) as SqlTiming;
  const total = timing.statements.reduce((n, s) => n + s.ms, 0);
  process.stdout.write(`  SQLite statements: ${total.toFixed(0)} ms in all, ${((total * 1000) / events).toFixed(1)} µs per event\n`);
  for (const s of timing.statements.slice(0, 20)) {
    process.stdout.write(`${s.ms.toFixed(0).padStart(7)} ms ${((s.ms * 1000) / events).toFixed(1).padStart(6)} µs/event ${String(s.count).padStart(7)}×  ${s.sql}\n`);
  }
  const c = timing.commits;
  if (c.length) process.stdout.write(`  commits: ${c.length}, median ${c[c.length >> 1].toFixed(2)} ms, slowest ${c.slice(0, 8).map((ms) => ms.toFixed(1)).join(', ')} ms (checkpoints run on a thread of their own, db/checkpointer.ts; a commit runs one only past four times their target)\n`);
}

/** Where `profileWorker` runs: the embedded default, or PostgreSQL + Redis (admin URL, Redis URL). */
export interface ProfileLayout {
  postgresUrl: string;
  redisUrl: string;
}

/**
 * With `keepDir`, the two .cpuprofile files are copied there (Chrome DevTools and speedscope open
 * them). With `scaleOut`, ingest and worker run on a fresh PostgreSQL database and Redis (queue
 * included), and a `web` process outside the profile answers the queue's depth. With `stored`,
 * that many events are ingested and saved first, outside the profiles: a grown database's indexes
 * no longer fit the page cache, and random keys cost more there than in a fresh one.
 */
export interface ProfileOptions {
  /** Copy the .cpuprofile files here. */
  keepDir?: string;
  /** Run on PostgreSQL + Redis instead of the embedded layout. */
  scaleOut?: ProfileLayout;
  /** Events stored (and drained) before the profiled fill. */
  stored?: number;
  /** Distinct issues and event templates of the corpus (as `bench --issues/--corpus`). */
  issues?: number;
  corpusSize?: number;
  /** Also sample the worker's allocations (heap-sampling.ts) and print them. */
  heap?: boolean;
  /** With `heap`: only what outlived a young-generation collection. */
  heapSurvivors?: boolean;
  /**
   * Also time the worker's statements and print them: SQLite's in the worker (sql-timing.ts), or
   * PostgreSQL's from `pg_stat_statements` (pg-statements.ts), which the server must have loaded.
   */
  sql?: boolean;
  /** Give the project `bench --sweep`'s two alert rules, so every event is post-processed too. */
  alertRules?: boolean;
}

export async function profileWorker(events: number, log: (m: string) => void, opts: ProfileOptions = {}): Promise<void> {
  const { keepDir, scaleOut, stored = 0, issues = 1000, corpusSize = 2000, heap = false, heapSurvivors = false, sql = false, alertRules = false } = opts;
  const dataDir = mkdtempSync(path.join(tmpdir(), 'faultline-profile-'));
  const profDir = path.join(dataDir, 'profiles');
  const ingestProfDir = path.join(dataDir, 'ingest-profiles');
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    FAULTLINE_DATA_DIR: dataDir,
    FAULTLINE_ADMIN_PASSWORD: 'bench-password',
    FAULTLINE_MAX_QUEUE_BACKLOG: String(Math.max(200_000, stored, events) + 1),
  };
  const db = scaleOut ? await scaleOutEnv(env, scaleOut.postgresUrl, scaleOut.redisUrl) : null;
  const others: Proc[] = [];
  let hooks: Awaited<ReturnType<typeof webhookSink>> | undefined;
  try {
    // The web role migrates a fresh database; it also serves the queue depth.
    if (db) others.push(await startRole('web', env));
    const depth = db ? () => queueDepth(others[0].port!) : embeddedQueueDepth(dataDir, alertRules);
    const drained = async () => {
      while ((await depth()) > 0) await new Promise((r) => setTimeout(r, 100));
    };
    const templates = buildCorpus({ size: corpusSize, issues, gzipShare: 0.1, largeShare: 0.05 });
    let project: { id: string; dsn: string } | undefined;
    const send = (ingest: Proc, n: number) => {
      project ??= JSON.parse(runCli(['project', 'create', 'bench/app', '--json'], env)) as { id: string; dsn: string };
      const key = new URL(project.dsn).username;
      const target = { port: ingest.port!, path: `/api/${project.id}/envelope/?sentry_key=${key}` };
      return sendLoad({ targets: [target], templates, concurrency: 32, durationMs: 3_600_000, maxEvents: n });
    };
    if (alertRules) {
      // Rules are made through the API, as a user would; the web role serves it for that moment.
      hooks = await webhookSink();
      const web = db ? others[0] : await startRole('web', env);
      project = JSON.parse(runCli(['project', 'create', 'bench/app', '--json'], env)) as { id: string; dsn: string };
      await createAlertRules(env, web.port!, hooks.url);
      if (!db) await stopAll([web]);
    }
    if (stored > 0) {
      log(`storing ${stored} events first (not profiled)`);
      const ingest = await startRole('ingest', env);
      await send(ingest, stored);
      await stopAll([ingest]);
      const worker = await startRole('worker', env);
      await drained();
      await stopAll([worker]);
    }
    const ingest = await startRole('ingest', env, ['--cpu-prof', `--cpu-prof-dir=${ingestProfDir}`]);
    log(`filling the queue with ${events} events (ingest under --cpu-prof)`);
    const before = usage(ingest.child.pid!).cpu;
    const load = await send(ingest, events);
    const ingestCpu = usage(ingest.child.pid!).cpu - before;
    await stopAll([ingest]);
    log('draining with one worker under --cpu-prof');
    const started = performance.now();
    const heapFile = path.join(dataDir, 'worker.heapprofile');
    const sqlFile = path.join(dataDir, 'worker-sql.json');
    const preload = (name: string) => ['--import', fileURLToPath(new URL(name, import.meta.url))];
    const workerEnv = { ...env, ...(heap ? { FAULTLINE_HEAP_PROFILE: heapFile, ...(heapSurvivors ? { FAULTLINE_HEAP_SURVIVORS: '1' } : {}) } : {}), ...(sql && !db ? { FAULTLINE_SQL_TIMING: sqlFile } : {}) };
    // On two cores or fewer `faultline start` collects its worker thread's garbage on that thread
    // (bin/faultline.js); the embedded layout's profile does the same.
    const gc = !scaleOut && availableParallelism() <= 2 ? ['--single-threaded-gc'] : [];
    // On PostgreSQL the server counts the statements (pg-statements.ts); only the drain's are read.
    if (sql && db) await startPgStatements(db.url);
    const worker = await startRole('worker', workerEnv, ['--cpu-prof', `--cpu-prof-dir=${profDir}`, ...gc, ...(heap ? preload('./heap-sampling.js') : []), ...(sql && !db ? preload('./sql-timing.js') : [])]);
    await drained();
    const seconds = (performance.now() - started) / 1000;
    const cpu = usage(worker.child.pid!).cpu;
    await stopAll([worker]); // the profile is written on exit
    process.stdout.write(`ingest: ${load.accepted} events accepted, ${((ingestCpu * 1000) / Math.max(1, load.accepted)).toFixed(2)} ms of CPU per event\n`);
    printProfile(ingestProfDir);
    process.stdout.write(`worker: ${events} events in ${seconds.toFixed(1)} s: ${Math.round(events / seconds)} events/s, ${((cpu * 1000) / events).toFixed(2)} ms of CPU per event\n`);
    printProfile(profDir);
    if (heap) printHeapProfile(heapFile, events, heapSurvivors);
    if (sql && db) process.stdout.write(`${formatPgStatements(await readPgStatements(db.url), events).join('\n')}\n`);
    else if (sql) printSqlTiming(sqlFile, events);
    if (keepDir) {
      cpSync(ingestProfDir, path.join(keepDir, 'ingest'), { recursive: true });
      cpSync(profDir, path.join(keepDir, 'worker'), { recursive: true });
      if (heap) cpSync(heapFile, path.join(keepDir, 'worker', 'worker.heapprofile'));
      log(`profiles kept in ${keepDir}/ingest and ${keepDir}/worker`);
    }
  } finally {
    await stopAll(others);
    await hooks?.close();
    await db?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/**
 * Tasks left in the embedded queue, read from queue.db directly (no server is running): the ingest
 * queue's, and with `postProcess` the post-process queue's too.
 */
export function embeddedQueueDepth(dataDir: string, postProcess = false): () => Promise<number> {
  let queue: BetterSqlite3.Database | null = null;
  const queues = postProcess ? "('ingest', 'post-process')" : "('ingest')";
  return async () => {
    queue ??= new BetterSqlite3(path.join(dataDir, 'queue.db'), { readonly: true });
    const n = (queue.prepare(`SELECT COUNT(*) AS n FROM tasks WHERE queue IN ${queues}`).get() as { n: number }).n;
    if (n === 0) {
      queue.close();
      queue = null; // opened again for a later fill (--stored)
    }
    return n;
  };
}
