/**
 * Writes benchmark results: the JSON report, an SVG bar chart, and the results table between the
 * markers in docs/benchmarks.md (the prose around them is written by hand).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import path from 'node:path';
import type { BenchOptions, BenchResult } from './run.js';

const START = '<!-- results:start -->';
const END = '<!-- results:end -->';

export function machine(): string {
  const c = cpus();
  return `${c.length} × ${c[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
}

export function chartSvg(results: BenchResult[]): string {
  const w = 640;
  const rowH = 34;
  const metrics = results.flatMap((r) => [
    { label: `${r.layout} accepted/s`, value: r.acceptedPerSec },
    { label: `${r.layout} processed/s`, value: r.processedPerSec },
  ]);
  const max = Math.max(1, ...metrics.map((m) => m.value));
  const h = metrics.length * rowH + 40;
  const bars = metrics
    .map((m, i) => {
      const y = 30 + i * rowH;
      const bw = Math.round(((w - 260) * m.value) / max);
      return `<text x="10" y="${y + 17}" font-size="13">${m.label}</text><rect x="230" y="${y + 4}" width="${bw}" height="18" fill="${i % 2 ? '#c2410c' : '#fb923c'}"/><text x="${236 + bw}" y="${y + 17}" font-size="12">${Math.round(m.value)}</text>`;
    })
    .join('');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" font-family="sans-serif"><text x="10" y="18" font-size="14" font-weight="bold">Events per second (higher is better)</text>${bars}</svg>\n`;
}

/** How fast the machine was around each run (calibrate.ts): lower is faster. */
function yardstickLine(results: BenchResult[]): string {
  const runs = results.filter((r) => r.yardstickMs);
  if (!runs.length) return '';
  const each = runs.map((r) => `${r.yardstickMs!.before} / ${r.yardstickMs!.after} ms (${r.layout})`).join(' and ');
  return ` A fixed piece of CPU work (src/bench/calibrate.ts) took ${each} before / after the run: the machine's speed at the time, to compare runs of other days by.`;
}

/** How far processing fell behind during the load, and what the backlog cost Redis. */
function backlogLine(results: BenchResult[]): string {
  const runs = results.filter((r) => r.queuePeak);
  if (!runs.length) return '';
  const each = runs.map((r) => {
    const { tasks, redisMb } = r.queuePeak!;
    const redis = redisMb !== undefined ? `; Redis used up to ${redisMb} MB more than before the load${tasks ? `, ${Math.round((redisMb * 1048576) / tasks).toLocaleString('en-US')} bytes per queued task` : ''}` : '';
    return `${tasks.toLocaleString('en-US')} tasks (${r.layout}${redis})`;
  });
  const rates = results
    .filter((r) => r.keptUpPerSec !== undefined && r.drainedPerSec !== undefined)
    .map((r) => `${Math.round(r.keptUpPerSec!).toLocaleString('en-US')} events/s while the load ran and ${Math.round(r.drainedPerSec!).toLocaleString('en-US')}/s after it (${r.layout})`);
  const drain = rates.length ? ` Processing went at ${rates.join(' and ')}; processed/s = accepted/s / (1 + (accepted/s − the first) / the second), as "Goals" below explains.` : '';
  return ` The queue's backlog peaked at ${each.join(' and ')}.${drain}`;
}

export function resultsMarkdown(results: BenchResult[], when: Date): string {
  const rows = results.map(
    (r) =>
      `| ${r.layout} | ${r.accepted} | ${Math.round(r.acceptedPerSec)} | ${Math.round(r.processedPerSec)} | ${r.latencyMs.p50.toFixed(1)} / ${r.latencyMs.p90.toFixed(1)} / ${r.latencyMs.p99.toFixed(1)} | ${Object.entries(r.peakRssMb).map(([k, v]) => `${k} ${v}`).join(', ')} | ${r.cpuSecondsPer1000.toFixed(2)} | ${r.bytesStoredPerEvent ?? '–'} |`,
  );
  return [
    START,
    `Run ${when.toISOString()} on ${machine()}; ${results[0]?.options.durationMs / 1000} s of load at concurrency ${results[0]?.options.concurrency}, ${results[0]?.options.issues} distinct issues, ${Math.round((results[0]?.options.gzipShare ?? 0) * 100)} % gzip, ${Math.round((results[0]?.options.largeShare ?? 0) * 100)} % 50 KB events.`,
    '',
    '| layout | events | accepted/s | processed/s | accept latency p50 / p90 / p99 (ms) | peak RSS (MB) | CPU s per 1,000 events | bytes stored per event |',
    '|---|---|---|---|---|---|---|---|',
    ...rows,
    '',
    `The load generator, on the same cores, used ${results.map((r) => `${(r.generatorCpuMsPerRequest ?? 0).toFixed(2)} ms (${r.layout})`).join(' and ')} of CPU per request.` +
      results
        .filter((r) => r.servicesCpuMsPerEvent)
        .map((r) => ` In the ${r.layout} layout PostgreSQL used ${r.servicesCpuMsPerEvent!.postgres.toFixed(2)} ms and Redis ${r.servicesCpuMsPerEvent!.redis.toFixed(2)} ms of CPU per event on the same cores, beside Faultline's processes${roleCpu(r)}.`)
        .join('') +
      threadLine(results) +
      backlogLine(results) +
      yardstickLine(results),
    '',
    '![events per second](benchmarks.svg)',
    END,
  ].join('\n');
}

export function writeReport(root: string, results: BenchResult[]): { json: string; md: string } {
  const when = new Date();
  const dir = path.join(root, 'bench/results');
  mkdirSync(dir, { recursive: true });
  const json = path.join(dir, 'latest.json');
  writeFileSync(json, JSON.stringify({ machine: machine(), date: when.toISOString(), results }, null, 2) + '\n');
  writeFileSync(path.join(root, 'docs/benchmarks.svg'), chartSvg(results));
  const md = path.join(root, 'docs/benchmarks.md');
  const block = resultsMarkdown(results, when);
  const current = existsSync(md) ? readFileSync(md, 'utf8') : `# Benchmarks\n\n${START}\n${END}\n`;
  const next = current.includes(START) && current.includes(END)
    ? current.slice(0, current.indexOf(START)) + block + current.slice(current.indexOf(END) + END.length)
    : `${current.trimEnd()}\n\n${block}\n`;
  writeFileSync(md, next);
  return { json, md };
}

const SCALING_START = '<!-- scaling:start -->';
const SCALING_END = '<!-- scaling:end -->';

/** The `--sweep` variants: one setting changed at a time from the defaults. */
export const SWEEP: { label: string; options: Partial<BenchOptions> }[] = [
  { label: 'defaults', options: {} },
  { label: 'concurrency 8', options: { concurrency: 8 } },
  { label: 'concurrency 128', options: { concurrency: 128 } },
  { label: '100 issues', options: { issues: 100 } },
  { label: '10,000 issues', options: { issues: 10_000, corpusSize: 10_000 } },
  { label: 'no 50 KB events', options: { largeShare: 0 } },
  { label: '50 % 50 KB events', options: { largeShare: 0.5 } },
  { label: 'two alert rules', options: { alertRules: true } },
  { label: 'idle drain on (`FAULTLINE_IDLE_DRAIN`)', options: { env: { FAULTLINE_IDLE_DRAIN: 'true' } } },
];

/** Writes bench/results/scaling.json and the table between the scaling markers in docs/benchmarks.md. */
export function writeScaling(root: string, rows: { label: string; result: BenchResult }[]): { json: string; md: string } {
  const when = new Date();
  const json = path.join(root, 'bench/results/scaling.json');
  mkdirSync(path.dirname(json), { recursive: true });
  writeFileSync(json, JSON.stringify({ machine: machine(), date: when.toISOString(), rows }, null, 2) + '\n');
  const table = rows.map(
    ({ label, result: r }) =>
      `| ${label} | ${r.bytesSentPerEvent} | ${Math.round(r.acceptedPerSec)} | ${Math.round(r.processedPerSec)} | ${r.latencyMs.p50.toFixed(1)} / ${r.latencyMs.p99.toFixed(1)} | ${Object.values(r.peakRssMb).join(', ')} | ${r.cpuSecondsPer1000.toFixed(2)} | ${r.yardstickMs ? `${r.yardstickMs.before} / ${r.yardstickMs.after}` : '–'} |`,
  );
  const block = [
    SCALING_START,
    `Embedded layout, run ${when.toISOString()} on ${machine()}; ${rows[0]?.result.options.durationMs / 1000} s of load each, one setting changed at a time.`,
    '',
    '| variant | bytes sent per event | accepted/s | processed/s | latency p50 / p99 (ms) | peak RSS (MB) | CPU s per 1,000 events | yardstick before / after (ms) |',
    '|---|---|---|---|---|---|---|---|',
    ...table,
    SCALING_END,
  ].join('\n');
  const md = path.join(root, 'docs/benchmarks.md');
  const current = existsSync(md) ? readFileSync(md, 'utf8') : '# Benchmarks\n';
  const next = current.includes(SCALING_START) && current.includes(SCALING_END)
    ? current.slice(0, current.indexOf(SCALING_START)) + block + current.slice(current.indexOf(SCALING_END) + SCALING_END.length)
    : `${current.trimEnd()}\n\n${block}\n`;
  writeFileSync(md, next);
  return { json, md };
}

/** Faultline's processes' CPU per event, by role, where there is more than one (`cpuMsPerEventByRole`). */
function roleCpu(r: BenchResult): string {
  const roles = Object.entries(r.cpuMsPerEventByRole ?? {});
  return roles.length > 1 ? ` (${roles.map(([role, ms]) => `${role} ${ms.toFixed(2)} ms`).join(', ')})` : '';
}

/** How `faultline start`'s threads spent the load and the drain (`threadTime`): what holds processing back. */
function threadLine(results: BenchResult[]): string {
  const pct = (n: number) => `${Math.round(n * 100)} %`;
  return results
    .filter((r) => r.threadTime?.worker)
    .map((r) => {
      const { worker, ingest } = r.threadTime!;
      const ingestPart = ingest ? ` (ingest's thread ran ${pct(ingest.load.running)} and waited ${pct(ingest.load.waiting)})` : '';
      return ` In the ${r.layout} layout the worker thread ran ${pct(worker.load.running)} of the load's time and waited for a core ${pct(worker.load.waiting)}${ingestPart}; while the backlog drained after it, ${pct(worker.drain.running)} and ${pct(worker.drain.waiting)}.`;
    })
    .join('');
}
