/**
 * An issue's events over the API, on every SQL dialect: newest first by (timestamp, id), the
 * oldest and latest, an event by its id within its issue only (and within its project), and each
 * event's previous and next in the issue's timeline, ties in timestamp ordered by arrival.
 */
import pino from 'pino';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/cli/server.js';
import { createApiToken, SCOPES } from '../../src/db/models/index.js';
import { EventWorker } from '../../src/pipeline/index.js';
import { INGEST_QUEUE } from '../../src/services/queue/ingest-task.js';
import { sqlDialects } from '../helpers/databases.js';
import { eventTask, makeProject, servicesOn } from '../helpers/services.js';

const hex = (n: number) => n.toString(16).padStart(32, '0');

for (const [dialect, makeDb] of Object.entries(sqlDialects())) {
  describe(`an issue's events over the API on ${dialect}`, () => {
    const services = servicesOn(makeDb);
    let app: FastifyInstance;
    let token: string;
    let base: string;
    let issueId: string;
    let otherIssueId: string;
    const get = async (url: string) => app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${token}` } });

    beforeAll(async () => {
      const s = services();
      app = await buildApp(s.config, s, pino({ level: 'silent' }), new Set(['web']));
      await app.ready();
      const { org, project } = await makeProject(s, 'timeline', `timeline-${dialect}`);
      token = await createApiToken(s.database.db, { organizationId: org.id, scopes: [...SCOPES] });
      base = `/api/0/projects/${org.slug}/${project.slug}`;
      const t0 = Math.floor(Date.now() / 1000) - 3600;
      // Sent in this order; 2 and 3 happened in the same millisecond, 5 belongs to another issue.
      const timeline: [number, number, string][] = [
        [4, t0 + 30, 'checkout'],
        [1, t0, 'checkout'],
        [2, t0 + 10, 'checkout'],
        [3, t0 + 10, 'checkout'],
        [5, t0 + 20, 'login'],
      ];
      for (const [n, timestamp, issue] of timeline) {
        await s.queue.enqueue(INGEST_QUEUE, [eventTask(project.id, hex(n), { message: `failed in ${issue}`, fingerprint: [issue], timestamp })]);
        const worker = new EventWorker(s, pino({ level: 'silent' }), { batchSize: 10, leaseMs: 60_000 });
        while ((await worker.runOnce()) > 0);
      }
      const issues = (await (await get(`${base}/issues/`)).json()) as { id: string; title: string }[];
      issueId = issues.find((i) => i.title.includes('checkout'))!.id;
      otherIssueId = issues.find((i) => i.title.includes('login'))!.id;
    });

    afterAll(async () => {
      await app?.close();
    });

    it('lists the newest first and finds the oldest and latest', async () => {
      const list = (await (await get(`/api/0/issues/${issueId}/events/`)).json()) as { eventID: string }[];
      expect(list.map((e) => e.eventID)).toEqual([hex(4), hex(3), hex(2), hex(1)]);
      expect((await (await get(`/api/0/issues/${issueId}/events/latest/`)).json()).eventID).toBe(hex(4));
      const oldest = await (await get(`/api/0/issues/${issueId}/events/oldest/`)).json();
      expect([oldest.eventID, oldest.previousEventID, oldest.nextEventID]).toEqual([hex(1), null, hex(2)]);
    });

    it("links each event to its neighbours in the issue's timeline", async () => {
      const nav = async (n: number) => {
        const e = await (await get(`/api/0/issues/${issueId}/events/${hex(n)}/`)).json();
        return [e.previousEventID, e.nextEventID];
      };
      expect(await nav(2)).toEqual([hex(1), hex(3)]);
      expect(await nav(3)).toEqual([hex(2), hex(4)]);
      expect(await nav(4)).toEqual([hex(3), null]);
    });

    it('finds an event by its id in its issue and its project only', async () => {
      expect((await get(`/api/0/issues/${issueId}/events/${hex(5)}/`)).statusCode).toBe(404);
      expect((await (await get(`/api/0/issues/${otherIssueId}/events/${hex(5)}/`)).json()).groupID).toBe(otherIssueId);
      const byProject = await (await get(`${base}/events/${hex(3).replace(/^(.{8})(.{4})(.{4})(.{4})/, '$1-$2-$3-$4-')}/`)).json();
      expect([byProject.eventID, byProject.groupID]).toEqual([hex(3), issueId]);
      expect((await get(`${base}/events/${hex(9)}/`)).statusCode).toBe(404);
    });
  });
}
