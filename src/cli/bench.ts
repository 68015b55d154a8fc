/**
 * `faultline bench` (what `npm run bench` runs): benchmarks the embedded layout, and the
 * PostgreSQL + Redis layout when FAULTLINE_BENCH_POSTGRES_URL and FAULTLINE_BENCH_REDIS_URL are
 * set (separate ingest and worker processes), then writes bench/results/latest.json, the chart and
 * the table in docs/benchmarks.md. Run it from the repository after `npm run build`.
 */
import type { Command } from 'commander';

export function benchCommand(program: Command): void {
  program
    .command('bench')
    .description('measure ingest and processing speed, memory and storage; writes docs/benchmarks.md')
    .option('--duration <seconds>', 'how long to send events', '20')
    .option('--concurrency <n>', 'requests in flight', '32')
    .option('--issues <n>', 'distinct issues in the corpus', '1000')
    .option('--corpus <n>', 'distinct event templates', '2000')
    .option('--workers <n>', 'worker processes in the postgres-redis layout', '1')
    .option('--layout <name...>', 'embedded and/or postgres-redis (default: every layout that can run)')
    .option('--sweep', 'also measure the embedded layout at other concurrencies, issue counts and event sizes (scaling table)')
    .option('--profile-worker <events>', 'instead: fill a queue with this many events of the corpus (--issues, --corpus), drain it with one worker under --cpu-prof, print the top functions (with --layout postgres-redis: on PostgreSQL + Redis)')
    .option('--profile-out <dir>', 'with --profile-worker: keep the .cpuprofile files in this directory')
    .option('--heap', 'with --profile-worker: also sample where the worker allocates (collected objects included) and print it per event')
    .option('--heap-survivors', 'with --profile-worker: sample only what the worker allocated that outlived a young-generation collection (what scavenges copy and promote), and print it per event')
    .option('--sql', "with --profile-worker: also time each of the worker's statements and print them per event (SQLite's; with --layout postgres-redis, PostgreSQL's from pg_stat_statements, which the server must load)")
    .option('--stored <events>', 'with --profile-worker: first store this many events (not profiled), to measure a grown database', '0')
    .option('--alert-rules', "with --profile-worker: give the project the sweep's two alert rules, so that every event is post-processed too")
    .option('--compare <checkout...>', "instead: fill an embedded queue once with --events corpus events, then drain a copy of it with each built checkout's `faultline worker` in turn, --rounds times, and print each drain's CPU per event and speed with each checkout's medians (`dir::--node-flag` starts that worker with node flags)")
    .option('--events <n>', 'with --compare: events to fill the queue with', '20000')
    .option('--rounds <n>', 'with --compare: drains per checkout', '5')
    .option('--out <dir>', 'repository root to write the report into', process.cwd())
    .action(async (o) => {
      if (o.compare) {
        const { compareDrains, parseContender, summarize } = await import('../bench/compare.js');
        const contenders = (o.compare as string[]).map(parseContender);
        const drains = await compareDrains(contenders, { events: Number(o.events), rounds: Number(o.rounds), issues: Number(o.issues), corpusSize: Number(o.corpus) }, (m) => process.stderr.write(`${m}\n`));
        process.stdout.write(`${summarize(drains).join('\n')}\n`);
        return;
      }
      if (o.profileWorker) {
        const { profileWorker } = await import('../bench/profile.js');
        const layout = o.layout?.[0] ?? 'embedded';
        if (layout !== 'embedded' && layout !== 'postgres-redis') throw new Error(`unknown layout ${layout}`);
        const pgUrl = process.env.FAULTLINE_BENCH_POSTGRES_URL;
        const redisUrl = process.env.FAULTLINE_BENCH_REDIS_URL;
        if (layout === 'postgres-redis' && (!pgUrl || !redisUrl)) throw new Error('set FAULTLINE_BENCH_POSTGRES_URL and FAULTLINE_BENCH_REDIS_URL for the postgres-redis layout');
        const scaleOut = layout === 'postgres-redis' ? { postgresUrl: pgUrl!, redisUrl: redisUrl! } : undefined;
        return profileWorker(Number(o.profileWorker), (m) => process.stderr.write(`${m}\n`), {
          keepDir: o.profileOut,
          scaleOut,
          stored: Number(o.stored),
          alertRules: Boolean(o.alertRules),
          issues: Number(o.issues),
          corpusSize: Number(o.corpus),
          heap: Boolean(o.heap) || Boolean(o.heapSurvivors),
          heapSurvivors: Boolean(o.heapSurvivors),
          sql: Boolean(o.sql),
        });
      }
      const { runBench } = await import('../bench/run.js');
      const { writeReport } = await import('../bench/report.js');
      const pgUrl = process.env.FAULTLINE_BENCH_POSTGRES_URL;
      const redisUrl = process.env.FAULTLINE_BENCH_REDIS_URL;
      const layouts: ('embedded' | 'postgres-redis')[] = o.layout ?? (pgUrl && redisUrl ? ['embedded', 'postgres-redis'] : ['embedded']);
      const results = [];
      for (const layout of layouts) {
        if (layout === 'postgres-redis' && (!pgUrl || !redisUrl)) throw new Error('set FAULTLINE_BENCH_POSTGRES_URL and FAULTLINE_BENCH_REDIS_URL for the postgres-redis layout');
        const r = await runBench({
          layout,
          durationMs: Number(o.duration) * 1000,
          concurrency: Number(o.concurrency),
          issues: Number(o.issues),
          corpusSize: Number(o.corpus),
          gzipShare: 0.1,
          largeShare: 0.05,
          workers: Number(o.workers),
          postgresUrl: pgUrl,
          redisUrl,
          log: (m) => process.stderr.write(`${m}\n`),
        });
        process.stdout.write(JSON.stringify(r) + '\n');
        results.push(r);
      }
      const out = writeReport(o.out, results);
      process.stderr.write(`wrote ${out.json} and ${out.md}\n`);
      if (o.sweep) {
        const { SWEEP, writeScaling } = await import('../bench/report.js');
        const base = { layout: 'embedded' as const, durationMs: Number(o.duration) * 1000, concurrency: Number(o.concurrency), issues: Number(o.issues), corpusSize: Number(o.corpus), gzipShare: 0.1, largeShare: 0.05 };
        const rows = [];
        for (const variant of SWEEP) {
          const r = await runBench({ ...base, ...variant.options, log: (m) => process.stderr.write(`${variant.label}: ${m}\n`) });
          process.stdout.write(JSON.stringify(r) + '\n');
          rows.push({ label: variant.label, result: r });
        }
        const scaled = writeScaling(o.out, rows);
        process.stderr.write(`wrote ${scaled.json} and the scaling table in ${scaled.md}\n`);
      }
    });
}
