/**
 * The counts alert rules and snoozes read, on every SQL dialect: an issue's events and distinct
 * users since a moment, by the events' own timestamps (as Sentry's tsdb counts them: getsentry/sentry
 * src/sentry/event_manager.py `_tsdb_record_all_metrics`, `timestamp=event.datetime`), other
 * issues' events left out, and counting stopped at the cap a threshold needs.
 */
import { describe, expect, it } from 'vitest';
import { sqlDialects } from '../../test/helpers/databases.js';
import { makeGroup, makeProject, servicesOn } from '../../test/helpers/services.js';
import { countEvents, countUsers } from './issue-counts.js';

for (const [dialect, makeDb] of Object.entries(sqlDialects())) {
  describe(`issue counts on ${dialect}`, () => {
    const services = servicesOn(makeDb);

    it("counts an issue's events and users since a moment, up to a cap", async () => {
      const s = services();
      const projectId = (await makeProject(s, 'counts-org', 'counts')).project.id;
      const [issue, other] = [await makeGroup(s, projectId), await makeGroup(s, projectId)];
      const t0 = 1_700_000_000_000;
      let n = 0;
      const row = (groupId: number, timestamp: number, user: string | null) => ({
        project_id: projectId,
        group_id: groupId,
        event_id: (++n).toString(16).padStart(32, '0'),
        type: 'error',
        timestamp,
        // Every one arrived a day later (an SDK that sent its backlog): counts go by when the
        // events happened.
        received: t0 + 86_400_000,
        title: 'Error: boom',
        message: 'boom',
        platform: 'node',
        level: 'error',
        release: null,
        environment: null,
        user_tag: user,
        size: 100,
      });
      await s.database.db
        .insertInto('events')
        .values([
          // Before the window.
          row(issue, t0 - 1, 'id:old'),
          // In it: 6 events, users a, b, c and two without a user.
          ...['id:a', 'id:b', 'id:a', null, 'id:c', null].map((u, i) => row(issue, t0 + i * 1000, u)),
          // Another issue's, in the window.
          row(other, t0 + 500, 'id:z'),
        ])
        .execute();
      const db = s.database.db;
      expect(await countEvents(db, issue, t0)).toBe(6);
      expect(await countUsers(db, issue, t0)).toBe(3);
      expect(await countEvents(db, issue, t0 - 1)).toBe(7);
      expect(await countUsers(db, issue, t0 - 1)).toBe(4);
      expect(await countEvents(db, issue, t0 + 5000)).toBe(1);
      expect(await countUsers(db, issue, t0 + 5000)).toBe(0);
      // Only as far as a threshold needs.
      expect(await countEvents(db, issue, t0, 4)).toBe(4);
      expect(await countUsers(db, issue, t0, 2)).toBe(2);
      expect(await countEvents(db, issue, t0, 10)).toBe(6);
      expect(await countEvents(db, other, t0)).toBe(1);
    });
  });
}
