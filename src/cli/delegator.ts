/**
 * Storage-migration commands: `faultline nodestore migrate --from A --to B` (copy event bodies in
 * resumable chunks with a progress bar on stderr, then verify; exit 1 when differences remain)
 * and `faultline delegator report` (what the Service Delegator recorded, as a table or JSON).
 * Both open only the metadata database, never the queue or the server's roles, so they run beside
 * a live server. Left out: a `delegator switch` command (use the admin API, which every process
 * follows within seconds, or change FAULTLINE_NODESTORE at the next restart).
 */
import type { Command } from 'commander';
import type { Config } from '../config/index.js';
import { migrate, openDatabase } from '../db/index.js';
import { buildReport, formatReport, parseDuration } from '../services/delegator/index.js';
import { NODESTORE_KINDS, nodestoreBackend, nodestoreDir, type NodestoreKind } from '../services/nodestore/create.js';
import { migrateNodestore } from '../tasks/nodestore-migration.js';

type ConfigFrom = (o: { dataDir?: string }) => Config;

/** A progress bar on stderr: redrawn in place on a terminal, one line per 10% otherwise (logs, CI). */
function progressBar() {
  const tty = process.stderr.isTTY;
  let lastTenth = -1;
  let lastPhase = '';
  return {
    update(phase: string, done: number, total: number) {
      const ratio = total === 0 ? 1 : Math.min(1, done / total);
      const pct = Math.floor(ratio * 100);
      if (tty) {
        if (phase !== lastPhase && lastPhase) process.stderr.write('\n');
        const width = 30;
        const filled = Math.round(ratio * width);
        process.stderr.write(`\r${phase.padEnd(6)} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${String(pct).padStart(3)}% ${done}/${total}`);
      } else if (phase !== lastPhase || Math.floor(pct / 10) !== lastTenth) {
        process.stderr.write(`${phase} ${pct}% ${done}/${total}\n`);
      }
      lastPhase = phase;
      lastTenth = Math.floor(pct / 10);
    },
    end() {
      if (tty) process.stderr.write('\n');
    },
  };
}

export function delegatorCommands(program: Command, configFrom: ConfigFrom): void {
  const nodestore = program.command('nodestore').description('manage the event body store');
  nodestore
    .command('migrate')
    .description('copy event bodies between nodestore backends (resumable), then verify the copy')
    .requiredOption('--from <backend>', `source backend (${NODESTORE_KINDS.join(' or ')})`)
    .requiredOption('--to <backend>', `destination backend (${NODESTORE_KINDS.join(' or ')})`)
    .option('--dir <path>', 'directory of the filesystem backend (FAULTLINE_NODESTORE_DIR, default <data dir>/nodestore)')
    .option('--chunk <n>', 'bodies per chunk', '100')
    .option('--restart', 'ignore the checkpoint and copy everything again')
    .option('--no-verify', 'skip the verification pass')
    .option('-d, --data-dir <dir>', 'data directory')
    .action(async (o) => {
      for (const k of [o.from, o.to]) if (!NODESTORE_KINDS.includes(k)) throw new Error(`unknown nodestore backend "${k}": use ${NODESTORE_KINDS.join(' or ')}`);
      if (o.from === o.to) throw new Error('--from and --to must differ');
      const chunkSize = Number(o.chunk);
      if (!Number.isInteger(chunkSize) || chunkSize < 1 || chunkSize > 10_000) throw new Error('--chunk needs a whole number between 1 and 10000');
      const config = configFrom(o);
      const database = await openDatabase(config);
      try {
        await migrate(database);
        const dir = o.dir ?? nodestoreDir(config);
        const bar = progressBar();
        const result = await migrateNodestore({
          from: nodestoreBackend(o.from as NodestoreKind, config, database, dir),
          to: nodestoreBackend(o.to as NodestoreKind, config, database, dir),
          name: `${o.from}->${o.to}`,
          database,
          chunkSize,
          restart: Boolean(o.restart),
          verify: o.verify !== false,
          onProgress: (phase, done, total) => bar.update(phase, done, total),
        });
        bar.end();
        const diff = result.missing + result.different;
        process.stdout.write(
          `copied ${result.copied} bodies from ${o.from} to ${o.to}` +
            (o.verify === false ? '\n' : `; verified ${result.verified}: ${result.missing} missing, ${result.different} different\n`),
        );
        if (diff > 0) {
          process.stderr.write(`faultline: ${diff} bodies differ between ${o.from} and ${o.to}; run again with --restart once dual-writes are on\n`);
          process.exitCode = 1;
        }
      } finally {
        await database.close();
      }
    });

  const delegator = program.command('delegator').description('inspect the service delegator');
  delegator
    .command('report')
    .description('per service method: calls, latency quantiles and deltas, similarity histogram and heat map')
    .option('--since <duration>', 'window, e.g. 30m, 24h, 7d', '24h')
    .option('--bucket <duration>', 'heat map bucket, e.g. 1h, 1d', '1h')
    .option('--service <name>', 'only this service')
    .option('--json', 'print JSON (the shape of GET /api/0/internal/delegator/report/)')
    .option('-d, --data-dir <dir>', 'data directory')
    .action(async (o) => {
      const config = configFrom(o);
      const database = await openDatabase(config);
      try {
        await migrate(database);
        const until = Date.now();
        const report = await buildReport(database.db, { since: until - parseDuration(o.since), until, bucketMs: parseDuration(o.bucket), service: o.service });
        process.stdout.write(o.json ? JSON.stringify(report) + '\n' : formatReport(report));
      } finally {
        await database.close();
      }
    });
}
