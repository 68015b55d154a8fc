/**
 * Grouping config over the API: `groupingEnhancements` / `fingerprintingRules` validation on the
 * project, and the grouping-info read of a real Node event (ingested through the EventWorker),
 * recomputed with the project's current rules.
 */
import { createHash } from 'node:crypto';
import pino from 'pino';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/cli/server.js';
import { createApiToken, SCOPES } from '../../src/db/models/index.js';
import { EventWorker } from '../../src/pipeline/index.js';
import { encodeIngestTask, INGEST_QUEUE } from '../../src/services/queue/ingest-task.js';
import { makeProject, testServices } from '../helpers/services.js';

const md5 = (...parts: string[]) => createHash('md5').update(parts.join('')).digest('hex');
const EVENT_ID = 'c'.repeat(32);

let s: Awaited<ReturnType<typeof testServices>>;
let app: FastifyInstance;
let token: string;
let base: string;

const nodeEvent = {
  platform: 'node',
  sdk: { name: 'sentry.javascript.node', version: '8.0.0' },
  exception: {
    values: [
      {
        type: 'TypeError',
        value: "Cannot read properties of undefined (reading 'id')",
        mechanism: { type: 'onuncaughtexception', handled: false },
        stacktrace: {
          frames: [
            { function: 'processTicksAndRejections', filename: 'node:internal/process/task_queues', abs_path: 'node:internal/process/task_queues', module: 'task_queues', lineno: 95, in_app: false },
            { function: 'Layer.handle', filename: '/srv/app/node_modules/express/lib/router/layer.js', abs_path: '/srv/app/node_modules/express/lib/router/layer.js', module: 'express.lib.router:layer', lineno: 95 },
            { function: 'getUser', filename: '/srv/app/src/users.js', abs_path: '/srv/app/src/users.js', module: 'users', lineno: 12, context_line: '  return db.users[id].id;', in_app: true },
          ],
        },
      },
    ],
  },
};

async function api(method: 'GET' | 'PUT', url: string, payload?: unknown) {
  return app.inject({ method, url, headers: { authorization: `Bearer ${token}` }, ...(payload ? { payload: payload as object } : {}) });
}

beforeAll(async () => {
  s = await testServices();
  app = await buildApp(s.config, s, pino({ level: 'silent' }), new Set(['web', 'ingest']));
  await app.ready();
  const { org, project, key } = await makeProject(s, 'acme', 'backend');
  token = await createApiToken(s.database.db, { organizationId: org.id, scopes: [...SCOPES] });
  base = `/api/0/projects/${org.slug}/${project.slug}`;
  await s.queue.enqueue(INGEST_QUEUE, [
    encodeIngestTask({
      v: 1, itemType: 'event', projectId: project.id, keyId: key.id, receivedAt: Date.now(), clientIp: null, userAgent: null, eventId: EVENT_ID, client: null,
      payload: JSON.stringify(nodeEvent),
    }),
  ]);
  const worker = new EventWorker(s, pino({ level: 'silent' }), { batchSize: 10, leaseMs: 60_000 });
  while ((await worker.runOnce()) > 0);
});

afterAll(async () => {
  await app?.close();
  await s?.cleanup();
});

describe('grouping-info', () => {
  it('returns every variant with hash, description and the component tree', async () => {
    const res = await api('GET', `${base}/events/${EVENT_ID}/grouping-info/`);
    expect(res.statusCode).toBe(200);
    const info = res.json();
    expect(Object.keys(info).sort()).toEqual(['app', 'system']);
    const appHash = md5('users', 'getUser', 'return db.users[id].id;', 'TypeError');
    expect(info.app).toMatchObject({ key: 'app', type: 'component', description: 'in-app exception stack-trace', hash: appHash, hashMismatch: false, contributes: true });
    const exception = info.app.component.values[0];
    expect(info.app.component).toMatchObject({ id: 'app', name: 'in-app', contributes: true });
    expect(exception).toMatchObject({ id: 'exception', name: 'exception', contributes: true });
    const [stacktrace, type, value] = exception.values;
    expect(type).toEqual({ id: 'type', name: null, contributes: true, hint: null, values: ['TypeError'] });
    expect(value).toMatchObject({ id: 'value', contributes: false, hint: 'ignored because stacktrace takes precedence' });
    expect(stacktrace.values).toHaveLength(3);
    expect(stacktrace.values[1]).toMatchObject({ id: 'frame', contributes: false });
    expect(stacktrace.values[2]).toEqual({
      id: 'frame', name: null, contributes: true, hint: null,
      values: [
        { id: 'module', name: null, contributes: true, hint: null, values: ['users'] },
        { id: 'filename', name: null, contributes: false, hint: 'ignored because module takes precedence', values: ['users.js'] },
        { id: 'function', name: null, contributes: true, hint: null, values: ['getUser'] },
        { id: 'context-line', name: null, contributes: true, hint: null, values: ['return db.users[id].id;'] },
      ],
    });
    // The stored hashes agree with the recomputed ones.
    const group = await s.database.db.selectFrom('groups').select('id').executeTakeFirstOrThrow();
    const hashes = await api('GET', `/api/0/issues/${group.id}/hashes/`);
    expect(hashes.json().map((h: { id: string }) => h.id)).toContain(appHash);
  });

  it('is recomputed with the project current stack trace rules', async () => {
    const put = await api('PUT', `${base}/`, { groupingEnhancements: 'stack.function:getUser -group\n' });
    expect(put.statusCode).toBe(200);
    expect(put.json().groupingEnhancements).toBe('stack.function:getUser -group\n');
    const info = (await api('GET', `${base}/events/${EVENT_ID}/grouping-info/`)).json();
    const frame = info.app.component.values[0].values[0].values[2];
    expect(frame).toMatchObject({ contributes: false, hint: 'ignored by stack trace rule (function:getUser -group)' });
    expect(info.app.hash).toBeNull();
    expect(info.system.hashMismatch).toBe(true);
    await api('PUT', `${base}/`, { groupingEnhancements: '' });
  });

  it('answers 404 for an unknown event', async () => {
    expect((await api('GET', `${base}/events/${'d'.repeat(32)}/grouping-info/`)).statusCode).toBe(404);
  });
});

describe('project grouping settings', () => {
  it('rejects invalid stack trace rules with line and column', async () => {
    const res = await api('PUT', `${base}/`, { groupingEnhancements: 'stack.function:foo -group\nstack.bogus:x -app' });
    expect(res.statusCode).toBe(400);
    expect(res.json().detail).toMatch(/line 2, column 1: unknown matcher "stack.bogus"/);
    expect(res.json().groupingEnhancements[0]).toMatch(/line 2/);
    expect((await api('PUT', `${base}/`, { groupingEnhancements: 42 })).statusCode).toBe(400);
  });

  it('rejects invalid fingerprinting rules', async () => {
    const res = await api('PUT', `${base}/`, { fingerprintingRules: 'type:Foo' });
    expect(res.statusCode).toBe(400);
    expect(res.json().fingerprintingRules).toHaveLength(1);
  });
});
