/**
 * The load generator against a real `faultline start`: every event of the corpus it sends, plain
 * and gzipped, is accepted and saved, with the server's answers read off keep-alive connections.
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import { apiClient, createProject, createToken, removeDir, startFaultline, waitFor, type RunningServer } from '../../test/helpers/faultline.js';
import { buildCorpus } from './corpus.js';
import { sendLoad } from './load.js';

let server: RunningServer;

beforeAll(async () => {
  server = await startFaultline();
});

afterAll(async () => {
  await server?.stop();
  if (server) removeDir(server.dataDir);
});

test('sends the corpus over keep-alive connections, and the server saves every event', async () => {
  const project = createProject(server.dataDir, 'load/app');
  const key = new URL(project.dsn).username;
  // Half gzipped, a few 50 KB events: both kinds of body the benchmark sends.
  const templates = buildCorpus({ size: 40, issues: 8, gzipShare: 0.5, largeShare: 0.1 });
  expect(templates.some((t) => t.gzip) && templates.some((t) => !t.gzip)).toBe(true);
  const N = 300;
  const result = await sendLoad({
    targets: [{ port: server.port, path: `/api/${project.id}/envelope/?sentry_key=${key}` }],
    templates,
    concurrency: 6,
    durationMs: 60_000,
    maxEvents: N,
  });
  expect(result.sent).toBe(N);
  expect(result.accepted).toBe(N);
  expect(result.rejected).toEqual({});
  expect(result.latenciesMs).toHaveLength(N);
  expect(Math.min(...result.latenciesMs)).toBeGreaterThan(0);

  const api = apiClient(server.url, createToken(server.dataDir, 'load'));
  const issues = await waitFor(async () => {
    const list = (await api.get('/api/0/projects/load/app/issues/?query=&limit=100')) as { count: string }[];
    return list.reduce((n, i) => n + Number(i.count), 0) === N ? list : null;
  }, 60_000, `all ${N} events saved`);
  expect(issues).toHaveLength(8);
}, 120_000);

test('counts the requests the server refuses by their status', async () => {
  const templates = buildCorpus({ size: 4, issues: 2, gzipShare: 0, largeShare: 0 });
  // A key no project has: 403 (Sentry's answer to an unknown DSN key), on every request.
  const refused = await sendLoad({
    targets: [{ port: server.port, path: '/api/1/envelope/?sentry_key=00000000000000000000000000000000' }],
    templates,
    concurrency: 2,
    durationMs: 30_000,
    maxEvents: 10,
  });
  expect(refused.accepted).toBe(0);
  expect(Object.keys(refused.rejected)).toHaveLength(1);
  expect(Number(Object.keys(refused.rejected)[0])).toBeGreaterThanOrEqual(400);
  expect(Object.values(refused.rejected)[0]).toBe(10);
});
