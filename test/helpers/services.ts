/** Builds real services on a temporary SQLite data directory, plus small factories for rows. */
import { loadConfig } from '../../src/config/index.js';
import { createServices, type Services } from '../../src/services/index.js';
import { createProject, createProjectKey, getOrCreateOrganization } from '../../src/db/models/index.js';
import { removeDir, tempDataDir } from './faultline.js';
import { insertReturningId } from '../../src/db/sql.js';
import { encodeIngestTask } from '../../src/services/queue/ingest-task.js';
import { afterAll, beforeAll } from 'vitest';
import type { TestDatabase } from './databases.js';

export async function testServices(databaseUrl?: string): Promise<Services & { cleanup(): Promise<void> }> {
  const dataDir = tempDataDir();
  const services = await createServices(loadConfig({ dataDir, ...(databaseUrl ? { databaseUrl } : {}) }, {}));
  return Object.assign(services, {
    cleanup: async () => {
      await services.close();
      removeDir(dataDir);
    },
  });
}

export type TestServices = Awaited<ReturnType<typeof testServices>>;

/**
 * For a describe block: services on a database of their own (from `sqlDialects()`), made before
 * its tests and dropped after them. Returns a getter, since they exist only once the block runs.
 */
export function servicesOn(makeDb: () => Promise<TestDatabase>): () => TestServices {
  let services: TestServices | undefined;
  let database: TestDatabase | undefined;
  beforeAll(async () => {
    database = await makeDb();
    services = await testServices(database.url);
  });
  afterAll(async () => {
    await services?.cleanup();
    await database?.drop();
  });
  return () => services!;
}

export async function makeProject(services: Services, org = 'acme', slug = 'app') {
  const db = services.database.db;
  const o = await getOrCreateOrganization(db, org);
  const p = await createProject(db, o.id, slug);
  const key = await createProjectKey(db, p.id);
  return { org: o, project: p, key };
}

/** An ingest task for an event of the project, as ingest queues it. */
export function eventTask(projectId: number, eventId: string, payload: Record<string, unknown>) {
  return encodeIngestTask({ v: 2, itemType: 'event', projectId, keyId: 1, receivedAt: Date.now(), clientIp: null, userAgent: null, eventId, client: null, payload: JSON.stringify(payload) });
}

/** Inserts a bare issue row, for service tests that need one. */
export async function makeGroup(services: Services, projectId: number, fields: Partial<Record<string, unknown>> = {}) {
  const now = Date.now();
  const id = await insertReturningId(
    services.database.db.insertInto('groups').values({
      project_id: projectId,
      short_id: Math.floor(Math.random() * 1e9),
      type: 'error',
      title: 'Error: boom',
      culprit: 'app.js in main',
      level: 'error',
      platform: 'node',
      logger: null,
      status: 'unresolved',
      substatus: 'new',
      status_details: '{}',
      metadata: '{}',
      times_seen: 0,
      users_seen: 0,
      first_seen: now,
      last_seen: now,
      first_release: null,
      last_release: null,
      resolved_at: null,
      ...fields,
    } as any),
    services.database.dialect,
  );
  return id!;
}
