/**
 * applyGroupCounters on every SQL dialect: several issues' counters written at once (PostgreSQL
 * and SQLite: one statement for all of them) give the same rows as one issue at a time would:
 * counts added, first/last seen widened, the last release moved only by a later event, the
 * affected users recounted from the tagstore; an issue deleted since is skipped.
 */
import { describe, expect, it } from 'vitest';
import { sqlDialects } from '../../../test/helpers/databases.js';
import { makeGroup, makeProject, servicesOn } from '../../../test/helpers/services.js';
import { applyGroupCounters } from './apply.js';

for (const [dialect, makeDb] of Object.entries(sqlDialects())) {
  describe(`applyGroupCounters on ${dialect}`, () => {
    const services = servicesOn(makeDb);

    it("writes several issues' counters at once, each by the same rules", async () => {
      const s = services();
      const projectId = (await makeProject(s, 'apply-org', 'apply')).project.id;
      const base = { first_seen: 5000, last_seen: 5000, times_seen: 10, last_release: '1.0' };
      const [a, b, c, gone] = [await makeGroup(s, projectId, base), await makeGroup(s, projectId, base), await makeGroup(s, projectId, base), await makeGroup(s, projectId, base)];
      const user = (groupId: number, value: string) => ({ projectId, groupId, key: 'user', value, count: 1, firstSeen: 1, lastSeen: 1 });
      await s.tagstore.incrMulti([user(a, 'id:1'), user(a, 'id:2'), user(b, 'id:1'), { ...user(b, 'id:9'), key: 'browser' }]);
      await s.database.db.deleteFrom('groups').where('id', '=', gone).execute();

      const done = new Set<number>();
      const n = await applyGroupCounters(
        s.database.db,
        [
          // Later than the last event: moves last_seen and the release.
          { groupId: c, timesSeen: 3, firstSeen: 6000, lastSeen: 9000, lastRelease: '2.0' },
          // Earlier: widens first_seen, keeps the release of the later event.
          { groupId: a, timesSeen: 2, firstSeen: 1000, lastSeen: 4000, lastRelease: '0.9' },
          // No release on these events: the stays.
          { groupId: b, timesSeen: 1, firstSeen: 5000, lastSeen: 7000, lastRelease: null },
          { groupId: gone, timesSeen: 1, firstSeen: 1, lastSeen: 1 },
        ],
        done,
      );
      expect(n).toBe(4);
      expect([...done].sort((x, y) => x - y)).toEqual([a, b, c, gone].sort((x, y) => x - y));
      const rows = await s.database.db.selectFrom('groups').selectAll().where('id', 'in', [a, b, c, gone]).orderBy('id').execute();
      const shown = (id: number) => {
        const r = rows.find((row) => Number(row.id) === id)!;
        return [Number(r.times_seen), Number(r.users_seen), Number(r.first_seen), Number(r.last_seen), r.last_release];
      };
      expect(rows).toHaveLength(3);
      expect(shown(a)).toEqual([12, 2, 1000, 5000, '1.0']);
      expect(shown(b)).toEqual([11, 1, 5000, 7000, '1.0']);
      expect(shown(c)).toEqual([13, 0, 5000, 9000, '2.0']);
    });
  });
}
