/**
 * Retention with time moved forward: events, bodies and issues (with their triage state) go, body
 * dictionaries once no body can need them, and SQLite gives disk space back.
 */
import { randomBytes } from 'node:crypto';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeProject, testServices } from '../../test/helpers/services.js';
import { recordActivity } from '../db/models/activity.js';
import { EventWorker } from '../pipeline/index.js';
import { encodeIngestTask, INGEST_QUEUE } from '../services/queue/ingest-task.js';
import { putBlob } from '../sourcemaps/index.js';
import { cleanup } from './cleanup.js';
import { DICTIONARY_MAX_USE_MS } from '../services/nodestore/dictionaries.js';

let s: Awaited<ReturnType<typeof testServices>>;
beforeAll(async () => {
  s = await testServices();
});
afterAll(async () => s.cleanup());

const count = async (table: 'events' | 'groups' | 'nodestore_node' | 'group_hashes' | 'group_tag_values' | 'activities' | 'rule_group_status') =>
  Number((await s.database.db.selectFrom(table).select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);

describe('cleanup', () => {
  it('deletes what is past retention and keeps the rest', async () => {
    const { project } = await makeProject(s, 'ret', 'app');
    const now = Date.now();
    const tasks = Array.from({ length: 300 }, (_, i) =>
      encodeIngestTask({
        v: 1,
        itemType: 'event',
        projectId: project.id,
        keyId: 1,
        receivedAt: now,
        clientIp: null,
        userAgent: null,
        eventId: null,
        client: null,
        payload: JSON.stringify({ message: `retention test ${['alpha', 'beta', 'gamma'][i % 3]}`, extra: { blob: randomBytes(6_000).toString('base64') }, tags: { n: String(i) } }),
      }),
    );
    await s.queue.enqueue(INGEST_QUEUE, tasks);
    const worker = new EventWorker(s, pino({ level: 'silent' }), { batchSize: 100, leaseMs: 60_000 });
    while ((await worker.runOnce()) > 0);
    expect(await count('events')).toBe(300);
    expect(await count('groups')).toBe(3);
    const pages = () => Number(s.database.sqlite!.pragma('page_count', { simple: true }));
    const before = pages();

    // Nothing is old enough yet.
    expect(await cleanup(s, { now })).toMatchObject({ events: 0, issues: 0 });
    expect(await count('events')).toBe(300);

    // Triage state of one issue goes with it.
    const group = await s.database.db.selectFrom('groups').select(['id', 'project_id']).executeTakeFirstOrThrow();
    await recordActivity(s.database.db, { projectId: group.project_id, groupId: group.id, type: 'set_resolved', data: {} });
    await s.database.db.insertInto('rule_group_status').values({ rule_id: 1, group_id: group.id, last_active: now }).execute();

    // 91 days later, past the default 90-day retention.
    const progress: number[] = [];
    const result = await cleanup(s, { now: now + 91 * 86_400_000, batchSize: 100, onProgress: (n) => progress.push(n) });
    expect(result).toMatchObject({ events: 300, issues: 3 });
    expect(progress).toEqual([100, 200, 300]);
    for (const t of ['events', 'groups', 'nodestore_node', 'group_hashes', 'group_tag_values', 'activities', 'rule_group_status'] as const) expect(await count(t), t).toBe(0);
    expect(pages()).toBeLessThan(before / 2);
  });

  it('respects an organization retention shorter than the default', async () => {
    const { org, project } = await makeProject(s, 'short', 'app');
    await s.database.db.updateTable('organizations').set({ retention_days: 7 }).where('id', '=', org.id).execute();
    const t = Date.now();
    await s.database.db
      .insertInto('events')
      .values({ project_id: project.id, group_id: null, event_id: 'f'.repeat(32), type: 'error', timestamp: t, received: t, title: 'x', message: '', platform: 'node', level: 'error', release: null, environment: null, user_tag: null, size: 1 })
      .execute();
    expect((await cleanup(s, { now: t + 6 * 86_400_000 })).events).toBe(0);
    expect((await cleanup(s, { now: t + 8 * 86_400_000 })).events).toBe(1);
  });

  it('deletes upload chunks never assembled and the delegator call log past 30 days', async () => {
    const db = s.database.db;
    const t = Date.now();
    // sentry-cli uploaded a chunk and never asked to assemble it; another upload's bundle file stays.
    const chunk = await putBlob(db, s.database.dialect, 'chunk', Buffer.from('half an upload'));
    const file = await putBlob(db, s.database.dialect, 'file', Buffer.from('an assembled bundle'));
    const call = (sampledAt: number, callId: string) => ({ call_id: callId, service: 'nodestore', method: 'get', backend: 'sql', role: 'primary', latency_ms: 1.5, error: null, similarity: null, sampled_at: sampledAt, organization_id: null, project_id: null });
    await db.insertInto('delegator_calls').values([call(t - 31 * 86_400_000, 'old'), call(t - 86_400_000, 'recent')]).execute();
    const blobs = async () => (await db.selectFrom('file_blobs').select('sha1').execute()).map((r) => r.sha1).sort();
    const calls = async () => (await db.selectFrom('delegator_calls').select('call_id').execute()).map((r) => r.call_id);

    // An hour later the chunk may still be assembled; the old call is past retention.
    expect(await cleanup(s, { now: t + 3_600_000 })).toMatchObject({ chunks: 0, delegatorCalls: 1 });
    expect(await blobs()).toEqual([chunk, file].sort());
    expect(await calls()).toEqual(['recent']);

    expect(await cleanup(s, { now: t + 25 * 3_600_000 })).toMatchObject({ chunks: 1, delegatorCalls: 0 });
    expect(await blobs()).toEqual([file]);
    expect(await calls()).toEqual(['recent']);
  });
  it('deletes a body dictionary only once no event that could be compressed with it is left', async () => {
    const { project } = await makeProject(s, 'ret-dict', 'app');
    const now = Date.now();
    const cutoff = now - 90 * 86_400_000;
    // Used for at most a week after it was made, so its newest body is at most that much younger.
    const lastSafe = cutoff - DICTIONARY_MAX_USE_MS - 86_400_000;
    const row = (id: number, created: number) => ({ id, project_id: project.id, created, data: Buffer.from('{"platform":"node"}') });
    await s.database.db.insertInto('nodestore_dictionaries').values([row(101, lastSafe - 1), row(102, lastSafe + 1), row(103, now)]).execute();
    expect((await cleanup(s, { now })).dictionaries).toBe(1);
    const left = await s.database.db.selectFrom('nodestore_dictionaries').select('id').where('project_id', '=', project.id).orderBy('id').execute();
    expect(left.map((r) => Number(r.id))).toEqual([102, 103]);
  });
  it('deletes a stored stack text only once no event whose body could refer to it is left', async () => {
    const { project } = await makeProject(s, 'ret-stack', 'app');
    const now = Date.now();
    const cutoff = now - 90 * 86_400_000;
    // A body's event time is at most a day past its stack's last_used; a day more of margin.
    const lastSafe = cutoff - 2 * 86_400_000;
    const row = (id: string, lastUsed: number) => ({ id, project_id: project.id, last_used: lastUsed, data: Buffer.from('[]') });
    await s.database.db.insertInto('body_stacks').values([row('gone', lastSafe - 1), row('kept', lastSafe + 1), row('fresh', now)]).execute();
    expect((await cleanup(s, { now })).stacks).toBe(1);
    const left = await s.database.db.selectFrom('body_stacks').select('id').where('project_id', '=', project.id).orderBy('id').execute();
    expect(left.map((r) => r.id)).toEqual(['fresh', 'kept']);
  });
});
