/** Starts Faultline roles as child processes for the benchmark, and reads their CPU and memory from /proc. */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../bin/faultline.js');

export interface Proc {
  role: string;
  child: ChildProcess;
  port: number | null;
  /** The last 20,000 characters it wrote (its log). */
  output(): string;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const a = srv.address();
      srv.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
    });
  });
}

export function runCli(args: string[], env: NodeJS.ProcessEnv): string {
  const r = spawnSync(process.execPath, [BIN, ...args], { env, encoding: 'utf8', timeout: 120_000 });
  if (r.status !== 0) throw new Error(`faultline ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/**
 * The node flags bin/faultline.js starts node with (the `exec node ...` of its second line, less
 * the ones it adds only for `start`), for a role started with node flags of its own.
 */
export function binNodeFlags(bin = BIN): string[] {
  const line = readFileSync(bin, 'utf8').split('\n')[1] ?? '';
  const m = /exec node ((?:--[\w-]+(?:=\S+)?\s+)+)/.exec(line);
  return m ? m[1].trim().split(/\s+/) : [];
}

/** `bin`: another checkout's bin/faultline.js (`bench --compare`); this one's by default. */
export async function startRole(role: string, env: NodeJS.ProcessEnv, nodeArgs: string[] = [], bin = BIN): Promise<Proc> {
  const port = role === 'worker' || role === 'scheduler' ? null : await freePort();
  // Run as a user runs it: the executable, with the node flags its first lines give
  // (bin/faultline.js). Extra node flags (the profiler's are not allowed in NODE_OPTIONS) need node
  // itself on the command line, and then the executable's own flags and malloc setting too.
  const args = [role, ...(port ? ['--port', String(port)] : [])];
  const viaNode = nodeArgs.length > 0;
  const child = spawn(viaNode ? process.execPath : bin, viaNode ? [...binNodeFlags(bin), ...nodeArgs, bin, ...args] : args, {
    env: { ...(viaNode ? { MALLOC_ARENA_MAX: '2' } : {}), ...env, FAULTLINE_HOST: '127.0.0.1', FAULTLINE_LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out = (out + d).slice(-20_000)));
  child.stderr!.on('data', (d) => (out = (out + d).slice(-20_000)));
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`faultline ${role} exited: ${out}`);
    if (port) {
      try {
        if ((await fetch(`http://127.0.0.1:${port}/_health/`)).ok) break;
      } catch {
        /* not yet */
      }
    } else if (out.includes('faultline running')) break;
    if (Date.now() > deadline) throw new Error(`faultline ${role} did not start: ${out}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return { role, child, port, output: () => out };
}

export async function stopAll(procs: Proc[]): Promise<void> {
  await Promise.all(
    procs.map(
      (p) =>
        new Promise<void>((resolve) => {
          if (p.child.exitCode !== null) return resolve();
          p.child.once('exit', () => resolve());
          p.child.kill('SIGTERM');
          setTimeout(() => p.child.kill('SIGKILL'), 30_000).unref();
        }),
    ),
  );
}

/** Resident memory (bytes) and CPU time (seconds, user + system) of a process. */
export function usage(pid: number): { rss: number; cpu: number } {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const rss = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) * 1024;
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    return { rss, cpu: ticks / 100 };
  } catch {
    return { rss: 0, cpu: 0 };
  }
}

/**
 * How long one thread of a process has run on a core and waited for one (seconds, since it
 * started), from the kernel's schedstat; null when it is gone or the kernel does not say. The
 * rest of its life it slept: on I/O, a lock, or for work.
 */
export function threadSchedule(pid: number, tid: number): { running: number; waiting: number } | null {
  try {
    const [running, waiting] = readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').trim().split(' ').map(Number);
    return Number.isFinite(running) && Number.isFinite(waiting) ? { running: running / 1e9, waiting: waiting / 1e9 } : null;
  } catch {
    return null;
  }
}

/**
 * Points `env` at a fresh PostgreSQL database of its own (created here; `drop` removes it) and at
 * the Redis database of `redisUrl`, emptied first, for the queue and the shared services.
 */
export async function scaleOutEnv(env: NodeJS.ProcessEnv, adminUrl: string, redisUrl: string): Promise<{ url: string; drop(): Promise<void> }> {
  const pg = (await import('pg')).default;
  const name = `faultline_bench_${Date.now().toString(36)}`;
  const run = async (sql: string) => {
    const c = new pg.Client({ connectionString: adminUrl });
    await c.connect();
    try {
      await c.query(sql);
    } finally {
      await c.end();
    }
  };
  await run(`CREATE DATABASE ${name}`);
  const u = new URL(adminUrl);
  u.pathname = `/${name}`;
  const { Redis } = await import('ioredis');
  const flushRedis = async () => {
    const redis = new Redis(redisUrl);
    await redis.flushdb();
    redis.disconnect();
  };
  await flushRedis();
  Object.assign(env, { FAULTLINE_DATABASE_URL: u.toString(), FAULTLINE_REDIS_URL: redisUrl, FAULTLINE_QUEUE_URL: redisUrl });
  // The run's keys go with its database (a profile's drain leaves its counters in the buffer).
  const drop = async () => {
    await run(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await flushRedis();
  };
  return { url: u.toString(), drop };
}

/** Tasks ready or leased in the ingest and post-process queues, as a role's health endpoint reports them. */
export async function queueDepth(port: number): Promise<number> {
  type Stats = { ready: number; leased: number } | undefined;
  const r = (await (await fetch(`http://127.0.0.1:${port}/_health/?queue=1`)).json()) as { queue?: Stats; postProcessQueue?: Stats };
  return [r.queue, r.postProcessQueue].reduce((n, q) => n + (q?.ready ?? 0) + (q?.leased ?? 0), 0);
}

/**
 * CPU seconds used so far by every process with one of these command names (`postgres`,
 * `redis-server`), including children that exited (PostgreSQL's backends): for servers on this
 * machine, whose CPU the benchmark's processes share. 0 when none runs here.
 */
export function commandCpu(names: string[]): Record<string, number> {
  const out: Record<string, number> = Object.fromEntries(names.map((n) => [n, 0]));
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      if (!(name in out)) continue;
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // utime, stime, cutime, cstime (fields 14-17), in clock ticks of 1/100 s.
      out[name] += (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) / 100;
    } catch {
      // The process ended while we looked.
    }
  }
  return out;
}

/** Whether a service URL points at this machine (its CPU is then on the benchmark's cores). */
export function isLocal(url: string): boolean {
  return ['127.0.0.1', 'localhost', '[::1]'].includes(new URL(url).hostname);
}
