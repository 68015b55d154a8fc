/**
 * The service container: builds every service from configuration, one place for the choice of
 * backends (DESIGN.md "pick the backend in one place"). Callers see only the interfaces.
 */
import type { Config } from '../config/index.js';
import { migrate, openDatabase, type DatabaseHandle } from '../db/index.js';
import { MemoryBufferBackend, type BufferBackend } from './buffer/index.js';
import { MemoryCacheBackend, type CacheBackend } from './cache/index.js';
import { SqlNodestoreBackend } from './nodestore/backends/sql.js';
import type { NodestoreBackend } from './nodestore/index.js';
import { createQueue, type QueueBackend } from './queue/index.js';
import { SqlSearchBackend, type SearchBackend } from './search/index.js';
import { SqlTagstoreBackend, type TagstoreBackend } from './tagstore/index.js';
import { SqlTsdbBackend, type TsdbBackend } from './tsdb/index.js';

export interface Services {
  config: Config;
  database: DatabaseHandle;
  queue: QueueBackend;
  nodestore: NodestoreBackend;
  buffer: BufferBackend;
  tsdb: TsdbBackend;
  tagstore: TagstoreBackend;
  search: SearchBackend;
  cache: CacheBackend;
  close(): Promise<void>;
}

export async function createServices(config: Config, opts: { migrate?: boolean } = {}): Promise<Services> {
  const database = await openDatabase(config);
  if (opts.migrate !== false) await migrate(database);
  const queue = await createQueue({ dataDir: config.dataDir, maxAttempts: config.queueMaxAttempts });
  const db = database.db;
  return {
    config,
    database,
    queue,
    nodestore: new SqlNodestoreBackend(db, database.dialect),
    buffer: new MemoryBufferBackend(),
    tsdb: new SqlTsdbBackend(db, database.dialect),
    tagstore: new SqlTagstoreBackend(db, database.dialect),
    search: new SqlSearchBackend(db, database.dialect),
    cache: new MemoryCacheBackend(),
    close: async () => {
      await queue.close();
      await database.close();
    },
  };
}

export type { Executor } from './executor.js';
export * from './queue/ingest-task.js';
export { eventNodeId } from './nodestore/index.js';
