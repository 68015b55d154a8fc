/**
 * The `faultline` command. Sub-commands: start (everything in one process), ingest / worker / web
 * (one role each, for scale-out), migrate, and the admin commands project / token / user create.
 * Every command works while a server runs on the same data directory.
 */
import { setFlagsFromString } from 'node:v8';
import { Command, Option } from 'commander';
import pino from 'pino';
import { loadConfig, publicUrl, type Config } from '../config/index.js';
import { createServices, type Services } from '../services/index.js';
import { bootstrapIfEmpty } from './bootstrap.js';
import { adminCommands } from './admin.js';
import { delegatorCommands } from './delegator.js';
import { benchCommand } from './bench.js';
import { startServer, type Role } from './server.js';
import { VERSION } from './version.js';

// V8 lets a heap grow to up to four times what survived the last full collection before it
// collects again; under load the worker thread, with about 30 MB live, grew to 110-120 MB. Twice
// took 60-80 MB off `faultline start` under load at no measured cost in speed (docs/decisions.md).
// Process-wide, so it covers the worker threads; a flag given to node itself wins.
if (!process.execArgv.some((a) => a.startsWith('--heap-growing-percent'))) setFlagsFromString('--heap-growing-percent=100');

function configFrom(opts: { port?: string; dataDir?: string }): Config {
  const overrides: Record<string, unknown> = {};
  if (opts.port !== undefined) overrides.port = opts.port;
  if (opts.dataDir !== undefined) overrides.dataDir = opts.dataDir;
  return loadConfig(overrides);
}

async function runRoles(roles: Role[], opts: { port?: string; dataDir?: string }): Promise<void> {
  const config = configFrom(opts);
  const log = pino({ level: config.logLevel, base: { pid: process.pid } });
  const services: Services = await createServices(config);
  if (roles.includes('web')) {
    const boot = await bootstrapIfEmpty(services.database.db, {
      baseUrl: publicUrl(config),
      adminEmail: config.adminEmail,
      adminPassword: config.adminPassword,
    });
    if (boot) {
      const lines = [
        '',
        'Faultline is set up.',
        `  URL:      ${publicUrl(config)}/`,
        `  DSN:      ${boot.dsn}   (project ${boot.organization}/${boot.project})`,
        `  Login:    ${boot.email}`,
        boot.generatedPassword
          ? `  Password: ${boot.generatedPassword}   (generated; shown only this once)`
          : '  Password: the value of FAULTLINE_ADMIN_PASSWORD',
        '',
      ];
      process.stdout.write(lines.join('\n') + '\n');
    }
  }
  const server = await startServer(config, services, log, new Set(roles));
  if (server.url) log.info({ url: server.url, roles, dataDir: config.dataDir }, 'faultline listening');
  else log.info({ roles, dataDir: config.dataDir }, 'faultline running');
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    await server.close();
    await services.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

const program = new Command();
program.name('faultline').description('Self-hosted, Sentry-compatible error tracking').version(VERSION);

const serverOptions = (cmd: Command) =>
  cmd
    .addOption(new Option('-p, --port <port>', 'HTTP port (FAULTLINE_PORT, default 9000)'))
    .addOption(new Option('-d, --data-dir <dir>', 'data directory (FAULTLINE_DATA_DIR, default ./data)'));

serverOptions(program.command('start').description('run everything in one process: ingest, API, web, worker, scheduler')).action((o) =>
  runRoles(['ingest', 'web', 'worker', 'scheduler'], o),
);
serverOptions(program.command('ingest').description('run only the SDK ingest endpoints')).action((o) => runRoles(['ingest'], o));
serverOptions(program.command('web').description('run only the web API and UI')).action((o) => runRoles(['web'], o));
serverOptions(program.command('worker').description('run only the event worker')).action((o) => runRoles(['worker'], o));
serverOptions(program.command('scheduler').description('run only the scheduled jobs (once across the fleet)')).action((o) =>
  runRoles(['scheduler'], o),
);

program
  .command('migrate')
  .description('bring the database schema up to date')
  .option('-d, --data-dir <dir>', 'data directory')
  .action(async (o) => {
    const services = await createServices(configFrom(o), { migrate: false });
    const { migrate } = await import('../db/index.js');
    const applied = await migrate(services.database);
    process.stdout.write(applied.length ? `applied: ${applied.join(', ')}\n` : 'schema is up to date\n');
    await services.close();
  });

program
  .command('cleanup')
  .description('delete events past their retention, and issues left without events')
  .option('--days <n>', 'keep this many days for every organization (default: each organization\'s retention)')
  .option('-d, --data-dir <dir>', 'data directory')
  .action(async (o) => {
    const days = o.days === undefined ? undefined : Number(o.days);
    if (days !== undefined && (!Number.isInteger(days) || days < 0)) throw new Error('--days needs a whole number of days');
    const services = await createServices(configFrom(o));
    const { cleanup } = await import('../tasks/cleanup.js');
    const tty = process.stderr.isTTY;
    const result = await cleanup(services, {
      days,
      onProgress: (n) => {
        if (tty) process.stderr.write(`\rdeleting events: ${n}`);
      },
    });
    if (tty) process.stderr.write('\n');
    process.stdout.write(`deleted ${result.events} events, ${result.issues} issues, ${result.chunks} unassembled upload chunks, ${result.delegatorCalls} delegator call records, ${result.dictionaries} body dictionaries and ${result.stacks} stored stack texts\n`);
    await services.close();
  });

adminCommands(program, configFrom);
delegatorCommands(program, configFrom);
benchCommand(program);

program.parseAsync(process.argv).catch((err) => {
  process.stderr.write(`faultline: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
