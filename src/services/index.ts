/**
 * The service container: builds every service from configuration, one place for the choice of
 * backends (DESIGN.md "pick the backend in one place"). Callers see only the interfaces.
 */
import type { Config } from '../config/index.js';
import { migrate, openDatabase, type DatabaseHandle } from '../db/index.js';
import { MemoryBufferBackend, type BufferBackend } from './buffer/index.js';
import { MemoryCacheBackend, type CacheBackend } from './cache/index.js';
import { createNodestore } from './nodestore/create.js';
import type { NodestoreBackend } from './nodestore/index.js';
import { bodyDictionariesFor, type BodyDictionaries } from './nodestore/dictionaries.js';
import { createQueue, type QueueBackend } from './queue/index.js';
import { SqlSearchBackend, type SearchBackend } from './search/index.js';
import { SqlTagstoreBackend, type TagstoreBackend } from './tagstore/index.js';
import { SqlTsdbBackend, type TsdbBackend } from './tsdb/index.js';
import type { QuotasBackend } from './quotas/index.js';
import { MemoryQuotasBackend } from './quotas/backends/memory.js';

export interface Services {
  config: Config;
  database: DatabaseHandle;
  queue: QueueBackend;
  nodestore: NodestoreBackend;
  /** The dictionaries event bodies are compressed with (the worker samples and writes them). */
  bodyDictionaries: BodyDictionaries;
  buffer: BufferBackend;
  tsdb: TsdbBackend;
  tagstore: TagstoreBackend;
  search: SearchBackend;
  cache: CacheBackend;
  quotas: QuotasBackend;
  close(): Promise<void>;
}

/**
 * With FAULTLINE_REDIS_URL, the services that several processes must share live in Redis, on one
 * connection: the buffer (counters flushed by the scheduler), tsdb, cache and quotas. Loaded only
 * when configured, so the embedded default never imports ioredis.
 */
async function redisBackends(url: string, tagstore: TagstoreBackend) {
  const { connectRedis, closeRedis } = await import('./redis.js');
  const { RedisBufferBackend } = await import('./buffer/backends/redis.js');
  const { RedisTsdbBackend } = await import('./tsdb/backends/redis.js');
  const { RedisCacheBackend } = await import('./cache/backends/redis.js');
  const { RedisQuotasBackend } = await import('./quotas/backends/redis.js');
  const redis = await connectRedis(url);
  return {
    buffer: new RedisBufferBackend(redis, { tagstore }),
    tsdb: new RedisTsdbBackend(redis),
    cache: new RedisCacheBackend(redis),
    quotas: new RedisQuotasBackend(redis),
    close: () => closeRedis(redis),
  };
}

export async function createServices(config: Config, opts: { migrate?: boolean } = {}): Promise<Services> {
  const database = await openDatabase(config);
  if (opts.migrate !== false) await migrate(database);
  const queue = await createQueue({ dataDir: config.dataDir, maxAttempts: config.queueMaxAttempts, queueUrl: config.queueUrl });
  const db = database.db;
  const tagstore = new SqlTagstoreBackend(db, database.dialect);
  const shared = config.redisUrl ? await redisBackends(config.redisUrl, tagstore) : null;
  // Through the delegator when FAULTLINE_NODESTORE_SECONDARY is set (nodestore/create.ts).
  const nodestore = await createNodestore(config, database, queue);
  return {
    config,
    database,
    queue,
    nodestore: nodestore.nodestore,
    bodyDictionaries: bodyDictionariesFor(database),
    buffer: shared?.buffer ?? new MemoryBufferBackend(),
    tsdb: shared?.tsdb ?? new SqlTsdbBackend(db, database.dialect),
    tagstore,
    search: new SqlSearchBackend(db, database.dialect),
    cache: shared?.cache ?? new MemoryCacheBackend(10_000, 10_000, `faultline-cache:${config.dataDir}`),
    quotas: shared?.quotas ?? new MemoryQuotasBackend(),
    close: async () => {
      await nodestore.close();
      await queue.close();
      await shared?.close();
      await database.close();
    },
  };
}

export type { Executor } from './executor.js';
export * from './queue/ingest-task.js';
export { eventNodeId, eventNodeIds, getEventBodies, type EventRef } from './nodestore/index.js';
