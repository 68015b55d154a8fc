/**
 * `faultline bench --compare <checkout...>`: fills an embedded queue once with corpus events, then
 * lets each checkout's `faultline worker` drain a copy of it, one after another, round after
 * round, and prints each drain's CPU per event and speed, and each checkout's medians.
 *
 * This machine's speed swings by the hour (docs/benchmarks.md), so two builds are told apart by
 * alternating drains of the very same queued events rather than by runs of different moments,
 * each of which also sends a corpus of its own.
 */
import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { buildCorpus } from './corpus.js';
import { sendLoad } from './load.js';
import { embeddedQueueDepth } from './profile.js';
import { runCli, startRole, stopAll, usage } from './processes.js';

/** A checkout to drain with, and node flags to start its worker with (`dir::--flag::--flag`). */
export interface Contender {
  label: string;
  bin: string;
  nodeFlags: string[];
}

export function parseContender(spec: string): Contender {
  const [dir, ...nodeFlags] = spec.split('::');
  const bin = path.resolve(dir, 'bin/faultline.js');
  if (!existsSync(bin) || !existsSync(path.resolve(dir, 'dist/cli/index.js'))) throw new Error(`${dir}: not a built Faultline checkout (no bin/faultline.js or dist/; run npm run build there)`);
  return { label: spec, bin, nodeFlags };
}

export interface Drain {
  label: string;
  round: number;
  cpuMsPerEvent: number;
  eventsPerSec: number;
}

export interface CompareOptions {
  events: number;
  rounds: number;
  issues?: number;
  corpusSize?: number;
}

export async function compareDrains(contenders: Contender[], opts: CompareOptions, log: (m: string) => void): Promise<Drain[]> {
  const root = mkdtempSync(path.join(tmpdir(), 'faultline-compare-'));
  const filled = path.join(root, 'filled');
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    FAULTLINE_ADMIN_PASSWORD: 'bench-password',
    FAULTLINE_MAX_QUEUE_BACKLOG: String(opts.events + 1),
  };
  const drains: Drain[] = [];
  try {
    log(`filling a queue with ${opts.events} events (this checkout's ingest)`);
    const fillEnv = { ...env, FAULTLINE_DATA_DIR: filled };
    const project = JSON.parse(runCli(['project', 'create', 'bench/app', '--json'], fillEnv)) as { id: string; dsn: string };
    const ingest = await startRole('ingest', fillEnv);
    try {
      const templates = buildCorpus({ size: opts.corpusSize ?? 2000, issues: opts.issues ?? 1000, gzipShare: 0.1, largeShare: 0.05 });
      const target = { port: ingest.port!, path: `/api/${project.id}/envelope/?sentry_key=${new URL(project.dsn).username}` };
      const load = await sendLoad({ targets: [target], templates, concurrency: 32, durationMs: 3_600_000, maxEvents: opts.events });
      if (load.accepted !== opts.events) throw new Error(`only ${load.accepted} of ${opts.events} events were accepted`);
    } finally {
      await stopAll([ingest]);
    }
    // As `bench --profile-worker`: the worker thread of `faultline start` collects its garbage on
    // its own thread on two cores or fewer.
    const gc = availableParallelism() <= 2 ? ['--single-threaded-gc'] : [];
    for (let round = 1; round <= opts.rounds; round++) {
      for (const c of contenders) {
        const dir = path.join(root, 'draining');
        rmSync(dir, { recursive: true, force: true });
        cpSync(filled, dir, { recursive: true });
        const started = performance.now();
        const worker = await startRole('worker', { ...env, FAULTLINE_DATA_DIR: dir }, [...gc, ...c.nodeFlags], c.bin);
        try {
          const depth = embeddedQueueDepth(dir);
          while ((await depth()) > 0) await new Promise((r) => setTimeout(r, 50));
          const seconds = (performance.now() - started) / 1000;
          const cpu = usage(worker.child.pid!).cpu;
          await stopAll([worker]);
          // A build that lost events would look fast: every one must be stored.
          const db = new BetterSqlite3(path.join(dir, 'faultline.db'), { readonly: true });
          const saved = (db.prepare('SELECT COUNT(*) AS n FROM events').get() as { n: number }).n;
          db.close();
          if (saved !== opts.events) throw new Error(`${c.label} stored ${saved} of ${opts.events} events`);
          const drain = { label: c.label, round, cpuMsPerEvent: (cpu * 1000) / opts.events, eventsPerSec: opts.events / seconds };
          drains.push(drain);
          log(`${c.label} round ${round}: ${drain.cpuMsPerEvent.toFixed(3)} ms of CPU per event, ${Math.round(drain.eventsPerSec)} events/s`);
        } finally {
          await stopAll([worker]);
        }
      }
    }
    return drains;
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** Each contender's median, lowest and highest CPU per event, and median speed. */
export function summarize(drains: Drain[]): string[] {
  const labels = [...new Set(drains.map((d) => d.label))];
  return labels.map((label) => {
    const mine = drains.filter((d) => d.label === label);
    const cpu = mine.map((d) => d.cpuMsPerEvent);
    return `${label}: ${median(cpu).toFixed(3)} ms of CPU per event (median of ${mine.length}; ${Math.min(...cpu).toFixed(3)}–${Math.max(...cpu).toFixed(3)}), ${Math.round(median(mine.map((d) => d.eventsPerSec)))} events/s`;
  });
}
