/**
 * Typed configuration: every option Faultline reads, with its default, in one schema.
 *
 * Values come from FAULTLINE_* environment variables, then an optional JSON file
 * (FAULTLINE_CONFIG), then command-line flags passed as overrides. docs/configuration.md lists
 * every option; test/docs.test.ts checks that the two agree. Validation happens at start so a typo
 * fails loudly instead of silently using a default.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';

const intFromEnv = z.coerce.number().int();
/** `true`/`1` and `false`/`0`, as environment variables spell them, or a boolean from a config object. */
const boolFromEnv = z.preprocess((v) => (v === 'false' || v === '0' ? false : v === 'true' || v === '1' ? true : v), z.boolean());

/** Size limits, together as Relay keeps them (relay-config `Limits`). */
const limitsSchema = z.object({
  /** Largest event item after decompression (Relay `max_event_size`, 1 MiB). */
  maxEventSize: intFromEnv.positive().default(1024 * 1024),
  /** Largest envelope after decompression (Relay `max_envelope_size`, 200 MiB). */
  maxEnvelopeSize: intFromEnv.positive().default(200 * 1024 * 1024),
  /** Largest request body as sent on the wire, before decompression (dev-docs: 20 MiB). */
  maxCompressedSize: intFromEnv.positive().default(20 * 1024 * 1024),
  /** Largest body of a web API request. */
  maxApiPayloadSize: intFromEnv.positive().default(20 * 1024 * 1024),
});

export const configSchema = z.object({
  /** Where the embedded databases live. */
  dataDir: z.string().default('./data'),
  /** HTTP port for ingest, API and UI. */
  port: intFromEnv.min(0).max(65535).default(9000),
  /** Address to listen on. */
  host: z.string().default('0.0.0.0'),
  /** The URL users and SDKs reach this server at; used in DSNs and links. Default: http://127.0.0.1:<port>. */
  publicUrl: z.string().optional(),
  /** Metadata database. Default: SQLite file in dataDir. */
  databaseUrl: z.string().optional(),
  /** Durable queue between ingest and workers: SQLite in dataDir (default), `redis://` (Streams) or `amqp://` (RabbitMQ). */
  queueUrl: z.string().optional(),
  /** Redis for the buffer, tsdb, cache and quotas when several processes share the work. */
  redisUrl: z.string().optional(),
  /** How often the Redis buffer's counters and tag values are written to SQL (ms). */
  bufferFlushMs: intFromEnv.positive().default(1_000),
  /** Password of the admin user created on first start; generated and printed when unset. */
  adminPassword: z.string().optional(),
  /** Email of the admin user created on first start. */
  adminEmail: z.string().default('admin@localhost'),
  /**
   * Which proxies in front of Faultline to believe about the client's address (X-Forwarded-For),
   * for login limits and sessions: '' (none: the socket's peer), 'true' (any), a number of hops,
   * or addresses and CIDR ranges separated by commas.
   */
  trustProxy: z.string().default(''),
  /** Log level (pino): fatal, error, warn, info, debug, trace, silent. */
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** In `faultline start`, run the worker in a thread of its own so ingest and processing use two cores. */
  workerThread: boolFromEnv.default(true),
  /** In `faultline start` with `workerThread`: how many worker threads process events. */
  workerThreads: intFromEnv.positive().default(1),
  /**
   * In `faultline start` with `workerThread`: while ingest is quiet, the main thread helps the
   * worker thread(s) drain a backlog (src/pipeline/idle-drain.ts). Off by default: it costs 30–40 MB
   * more memory at the peak in the benchmark, and its gain in processed/s, 3–55 % in one set of
   * paired runs, was within the machine's noise in a later one (docs/decisions.md).
   */
  idleDrain: boolFromEnv.default(false),
  /** The idle drain stops, and does not start, while the process's resident memory is above this (MB). */
  idleDrainMaxRssMb: intFromEnv.positive().default(280),
  /**
   * Events the worker takes from the queue per batch (one transaction per batch); unset: the
   * database's default (`DEFAULT_BATCH_SIZE` in src/pipeline/worker.ts).
   */
  workerBatchSize: intFromEnv.positive().optional(),
  /** How long a taken queue task stays invisible before it is retried (ms). */
  queueLeaseMs: intFromEnv.positive().default(60_000),
  /** Attempts before a task goes to the dead letters. */
  queueMaxAttempts: intFromEnv.positive().default(5),
  /**
   * Whether ingest compresses event payloads on the queue (zstd): 'auto' does for a queue in Redis,
   * or RabbitMQ, whose memory holds every queued byte, and not for the embedded queue.
   */
  queueCompression: z.enum(['auto', 'on', 'off']).default('auto'),
  /** Tasks waiting in the queue beyond which ingest answers 429 (back-pressure), so SDKs back off. */
  maxQueueBacklog: intFromEnv.positive().default(200_000),
  /** Days events are kept unless an organization sets its own retention. */
  retentionDays: intFromEnv.positive().default(90),
  /** SMTP server for alert mail, e.g. smtp://user:pass@mail.example.com:587 or smtps://…; unset = no mail. */
  smtpUrl: z.string().optional(),
  /** Sender address of alert mail. */
  emailFrom: z.string().default('faultline@localhost'),
  /** Secret for the X-Faultline-Signature HMAC of webhooks whose rule action sets none. */
  webhookSecret: z.string().optional(),
  /** First retry delay of a failed notification (ms); doubles with each attempt. */
  notifyRetryMs: intFromEnv.positive().default(30_000),
  /** How often digests go out (ms), and the window in which a rule counts as noisy. */
  digestIntervalMs: intFromEnv.positive().default(30 * 60_000),
  /** A rule that fired more than this many times in one digest interval is digested instead. */
  digestThreshold: intFromEnv.min(0).default(10),
  /** Where event bodies live: the SQL table (default) or files under `nodestoreDir`. */
  nodestore: z.enum(['sql', 'filesystem']).default('sql'),
  /** Directory of the filesystem nodestore. Default: `<dataDir>/nodestore`. */
  nodestoreDir: z.string().optional(),
  /** A second nodestore written beside the first through the delegator (a migration's dual-write). */
  nodestoreSecondary: z.enum(['sql', 'filesystem']).optional(),
  /** Share of delegated reads that are shadowed, compared and recorded (writes always go to both), 0..1. */
  delegatorSampleRate: z.coerce.number().min(0).max(1).default(0.1),
  /** How long a secondary backend may take before its call is recorded as a timeout (ms). */
  delegatorTimeoutMs: intFromEnv.positive().default(5_000),
  limits: limitsSchema.default(limitsSchema.parse({})),
});

export type Config = z.infer<typeof configSchema>;
export type Limits = Config['limits'];

/** Environment variable → config path. Kept explicit so docs and code can be checked against each other. */
export const ENV_VARS: Record<string, string> = {
  FAULTLINE_DATA_DIR: 'dataDir',
  FAULTLINE_PORT: 'port',
  FAULTLINE_HOST: 'host',
  FAULTLINE_PUBLIC_URL: 'publicUrl',
  FAULTLINE_DATABASE_URL: 'databaseUrl',
  FAULTLINE_QUEUE_URL: 'queueUrl',
  FAULTLINE_REDIS_URL: 'redisUrl',
  FAULTLINE_BUFFER_FLUSH_MS: 'bufferFlushMs',
  FAULTLINE_ADMIN_PASSWORD: 'adminPassword',
  FAULTLINE_ADMIN_EMAIL: 'adminEmail',
  FAULTLINE_LOG_LEVEL: 'logLevel',
  FAULTLINE_TRUST_PROXY: 'trustProxy',
  FAULTLINE_WORKER_BATCH_SIZE: 'workerBatchSize',
  FAULTLINE_WORKER_THREAD: 'workerThread',
  FAULTLINE_WORKER_THREADS: 'workerThreads',
  FAULTLINE_IDLE_DRAIN: 'idleDrain',
  FAULTLINE_IDLE_DRAIN_MAX_RSS_MB: 'idleDrainMaxRssMb',
  FAULTLINE_QUEUE_LEASE_MS: 'queueLeaseMs',
  FAULTLINE_QUEUE_MAX_ATTEMPTS: 'queueMaxAttempts',
  FAULTLINE_QUEUE_COMPRESSION: 'queueCompression',
  FAULTLINE_RETENTION_DAYS: 'retentionDays',
  FAULTLINE_MAX_QUEUE_BACKLOG: 'maxQueueBacklog',
  FAULTLINE_SMTP_URL: 'smtpUrl',
  FAULTLINE_EMAIL_FROM: 'emailFrom',
  FAULTLINE_WEBHOOK_SECRET: 'webhookSecret',
  FAULTLINE_NOTIFY_RETRY_MS: 'notifyRetryMs',
  FAULTLINE_DIGEST_INTERVAL_MS: 'digestIntervalMs',
  FAULTLINE_DIGEST_THRESHOLD: 'digestThreshold',
  FAULTLINE_NODESTORE: 'nodestore',
  FAULTLINE_NODESTORE_DIR: 'nodestoreDir',
  FAULTLINE_NODESTORE_SECONDARY: 'nodestoreSecondary',
  FAULTLINE_DELEGATOR_SAMPLE_RATE: 'delegatorSampleRate',
  FAULTLINE_DELEGATOR_TIMEOUT_MS: 'delegatorTimeoutMs',
  FAULTLINE_MAX_EVENT_SIZE: 'limits.maxEventSize',
  FAULTLINE_MAX_ENVELOPE_SIZE: 'limits.maxEnvelopeSize',
  FAULTLINE_MAX_COMPRESSED_SIZE: 'limits.maxCompressedSize',
  FAULTLINE_MAX_API_PAYLOAD_SIZE: 'limits.maxApiPayloadSize',
};

function setPath(target: Record<string, any>, dotted: string, value: unknown): void {
  const parts = dotted.split('.');
  let node = target;
  for (const part of parts.slice(0, -1)) node = node[part] ??= {};
  node[parts[parts.length - 1]] = value;
}

function deepMerge(base: Record<string, any>, over: Record<string, any>): Record<string, any> {
  const out = { ...base };
  for (const [k, v] of Object.entries(over)) {
    if (v === undefined) continue;
    out[k] = v && typeof v === 'object' && !Array.isArray(v) ? deepMerge(out[k] ?? {}, v) : v;
  }
  return out;
}

export class ConfigError extends Error {}

/** Builds the configuration from the environment, an optional file and explicit overrides. */
export function loadConfig(
  overrides: Record<string, unknown> = {},
  env: NodeJS.ProcessEnv = process.env,
): Config {
  let raw: Record<string, any> = {};
  if (env.FAULTLINE_CONFIG) {
    try {
      raw = JSON.parse(readFileSync(env.FAULTLINE_CONFIG, 'utf8'));
    } catch (err) {
      throw new ConfigError(`cannot read FAULTLINE_CONFIG ${env.FAULTLINE_CONFIG}: ${(err as Error).message}`);
    }
  }
  const fromEnv: Record<string, any> = {};
  for (const [name, dotted] of Object.entries(ENV_VARS)) {
    if (env[name] !== undefined && env[name] !== '') setPath(fromEnv, dotted, env[name]);
  }
  raw = deepMerge(deepMerge(raw, fromEnv), overrides);
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) {
    const msg = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new ConfigError(`invalid configuration: ${msg}`);
  }
  const config = parsed.data;
  config.dataDir = path.resolve(config.dataDir);
  return config;
}

/** The base URL people and SDKs use to reach this server. */
export function publicUrl(config: Config): string {
  return (config.publicUrl ?? `http://127.0.0.1:${config.port}`).replace(/\/+$/, '');
}

/** `trustProxy` as Fastify takes it. */
export function fastifyTrustProxy(value: string): boolean | string[] | ((address: string, hop: number) => boolean) {
  const v = value.trim();
  if (v === '' || v === 'false') return false;
  if (v === 'true') return true;
  if (/^\d+$/.test(v)) {
    const hops = Number(v);
    return (_address, hop) => hop < hops;
  }
  return v.split(',').map((a) => a.trim()).filter(Boolean);
}

/** Whether ingest compresses queued payloads (`queueCompression`; 'auto': only on a broker queue). */
export function compressesQueue(setting: Config['queueCompression'], queue: { readonly broker: boolean }): boolean {
  return setting === 'auto' ? queue.broker : setting === 'on';
}
