/**
 * Builds the HTTP server and the worker for the roles a process plays. `faultline start` plays
 * them all; `ingest`, `worker` and `web` play one each (scale-out), and only the modules a role
 * needs are loaded.
 */
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type RouteOptions } from 'fastify';
import type { Logger } from 'pino';
import { compressesQueue, fastifyTrustProxy, publicUrl, type Config } from '../config/index.js';
import type { Services } from '../services/index.js';
import type { EventWorker, IdleDrain } from '../pipeline/index.js';
import type { Scheduler } from '../tasks/scheduler.js';
import { VERSION } from './version.js';
import { POST_PROCESS_QUEUE } from '../pipeline/post-process-task.js';

export type Role = 'ingest' | 'web' | 'worker' | 'scheduler';

export interface Server {
  app: FastifyInstance | null;
  worker: EventWorker | null;
  scheduler: Scheduler | null;
  url: string | null;
  close(): Promise<void>;
}

export async function buildApp(
  config: Config,
  services: Services,
  log: Logger,
  roles: Set<Role>,
  onAccepted?: () => void,
  /** Sees every route as it is added (the isolation suite walks them all). */
  onRoute?: (route: RouteOptions) => void,
): Promise<FastifyInstance> {
  const app: FastifyInstance = Fastify({
    loggerInstance: log as unknown as FastifyBaseLogger,
    // One log line per SDK request would cost more than handling it.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: config.limits.maxApiPayloadSize,
    // SDKs send repeated or missing trailing slashes (relay store.rs normalizes them too).
    routerOptions: { ignoreTrailingSlash: true, ignoreDuplicateSlashes: true },
    requestTimeout: 120_000,
    // Behind a reverse proxy, request.ip is the proxy's unless it is trusted (login limits key on it).
    trustProxy: fastifyTrustProxy(config.trustProxy),
  });
  if (onRoute) app.addHook('onRoute', onRoute);
  // `?queue=1` adds the depth of the ingest queue and of post-processing after it, for operators
  // and the benchmark's drain wait.
  app.get<{ Querystring: { queue?: string } }>('/_health/', async (request) => ({
    status: 'ok',
    roles: [...roles],
    ...(request.query.queue ? { queue: await services.queue.stats('ingest'), postProcessQueue: await services.queue.stats(POST_PROCESS_QUEUE) } : {}),
  }));
  if (roles.has('ingest')) {
    const { ingestRoutes } = await import('../ingest/index.js');
    await app.register(async (child) => {
      await ingestRoutes(child, {
        db: services.database.db,
        cache: services.cache,
        queue: services.queue,
        quotas: services.quotas,
        limits: config.limits,
        maxQueueBacklog: config.maxQueueBacklog,
        compressQueue: compressesQueue(config.queueCompression, services.queue),
        dictionaries: services.bodyDictionaries,
        onAccepted,
      });
    });
  }
  if (roles.has('web')) {
    const { apiRoutes } = await import('../api/index.js');
    await app.register(async (child) => {
      await apiRoutes(child, { services, baseUrl: publicUrl(config), version: VERSION });
    });
    const { webAppRoutes } = await import('../api/web-app.js');
    await app.register(webAppRoutes);
  }
  return app;
}

export async function startServer(config: Config, services: Services, log: Logger, roles: Set<Role>): Promise<Server> {
  let worker: EventWorker | null = null;
  let postProcessing: { stop(): Promise<void> } | null = null;
  let thread: WorkerThread | null = null;
  let idleDrain: IdleDrain | null = null;
  if (roles.has('worker') && (roles.has('ingest') || roles.has('web')) && config.workerThread) {
    const threads = await Promise.all(Array.from({ length: config.workerThreads }, (_, i) => startWorkerThread(config, log, i)));
    thread = {
      notify: () => threads.forEach((t) => t.notify()),
      stop: async () => void (await Promise.all(threads.map((t) => t.stop()))),
    };
    if (config.idleDrain) {
      const { IdleDrain } = await import('../pipeline/index.js');
      const { createServices } = await import('../services/index.js');
      idleDrain = new IdleDrain(() => createServices(config, { migrate: false }), log.child({ role: 'idle-drain' }), {
        batchSize: config.workerBatchSize,
        leaseMs: config.queueLeaseMs,
        maxRssMb: config.idleDrainMaxRssMb,
      });
      idleDrain.start();
    }
  } else if (roles.has('worker')) {
    const { EventWorker, startPostProcessing } = await import('../pipeline/index.js');
    worker = new EventWorker(services, log.child({ role: 'worker' }), {
      batchSize: config.workerBatchSize,
      leaseMs: config.queueLeaseMs,
    });
    worker.start();
    postProcessing = startPostProcessing(services, log.child({ role: 'post-process' }));
  }
  let scheduler: Scheduler | null = null;
  if (roles.has('scheduler')) {
    const { Scheduler } = await import('../tasks/scheduler.js');
    scheduler = new Scheduler(services, log.child({ role: 'scheduler' }));
    scheduler.start();
  }
  let app: FastifyInstance | null = null;
  let url: string | null = null;
  if (roles.has('ingest') || roles.has('web')) {
    app = await buildApp(config, services, log, roles, () => {
      idleDrain?.accepted();
      if (thread) thread.notify();
      else worker?.notify();
    });
    url = await app.listen({ port: config.port, host: config.host });
  }
  return {
    app,
    worker,
    scheduler,
    url,
    close: async () => {
      await app?.close();
      await idleDrain?.stop();
      await thread?.stop();
      await worker?.stop();
      await postProcessing?.stop();
      await scheduler?.stop();
    },
  };
}

interface WorkerThread {
  notify(): void;
  stop(): Promise<void>;
}

/** Starts the worker role in a thread (worker-thread.ts); a thread that dies takes the process down. */
/**
 * Every worker thread after the first runs at the lowest CPU priority (`spare`): it takes only
 * CPU that ingest and the first worker leave, so on a busy machine it cannot starve ingest.
 */
async function startWorkerThread(config: Config, log: Logger, index: number): Promise<WorkerThread> {
  const { Worker } = await import('node:worker_threads');
  // A small young generation: the worker's garbage is per batch, and the default (16 MB semi-spaces
  // per isolate) costs resident memory without making the worker faster (docs/decisions.md).
  const thread = new Worker(new URL('./worker-thread.js', import.meta.url), { workerData: { config, spare: index > 0 }, resourceLimits: { maxYoungGenerationSizeMb: 8 } });
  let stopping = false;
  thread.on('error', (err) => {
    log.fatal({ err }, 'worker thread failed');
    process.exit(1);
  });
  thread.on('exit', (code) => {
    if (!stopping) {
      log.fatal({ code }, 'worker thread exited');
      process.exit(1);
    }
  });
  await new Promise<void>((resolve) => thread.once('message', () => resolve()));
  // Many requests a millisecond would each post a message; one wake-up per tick is enough.
  let pending = false;
  return {
    notify() {
      if (pending) return;
      pending = true;
      setImmediate(() => {
        pending = false;
        thread.postMessage('notify');
      });
    },
    async stop() {
      stopping = true;
      const stopped = new Promise<void>((resolve) => thread.once('message', (m) => m === 'stopped' && resolve()));
      thread.postMessage('stop');
      await Promise.race([stopped, new Promise((r) => setTimeout(r, 60_000))]);
      await thread.terminate();
    },
  };
}
