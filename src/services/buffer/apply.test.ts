/**
 * applyGroupCounters on every SQL dialect: several issues' counters written at once (PostgreSQL
 * and SQLite: one statement for all of them) give the same rows as one issue at a time would:
 * counts added, first/last seen widened, the last release and what the issue shows (title,
 * culprit, level, metadata) moved only by a later event, the
 * affected users recounted from the tagstore; an issue deleted since is skipped. An issue with
 * many users gets its new users added instead of all of them counted again, and the tagstore says
 * how many users it wrote for the first time.
 */
import { describe, expect, it } from 'vitest';
import { sqlDialects } from '../../../test/helpers/databases.js';
import { makeGroup, makeProject, servicesOn } from '../../../test/helpers/services.js';
import { applyGroupCounters, USERS_RECOUNT_BELOW } from './apply.js';

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
          // Later than the last event: moves last_seen, the release and what it shows.
          { groupId: c, timesSeen: 3, firstSeen: 6000, lastSeen: 9000, lastRelease: '2.0', shown: { title: 'TypeError: late', culprit: null, level: 'fatal', metadata: '{"value":"late"}' } },
          // Earlier: widens first_seen, keeps the release and the title of the later event.
          { groupId: a, timesSeen: 2, firstSeen: 1000, lastSeen: 4000, lastRelease: '0.9', shown: { title: 'TypeError: early', culprit: 'x', level: 'info', metadata: '{}' } },
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
      const title = (id: number) => {
        const r = rows.find((row) => Number(row.id) === id)!;
        return [r.title, r.culprit, r.level, JSON.parse(r.metadata)];
      };
      expect(title(c)).toEqual(['TypeError: late', null, 'fatal', { value: 'late' }]);
      expect(title(a)).toEqual(['Error: boom', 'app.js in main', 'error', {}]);
      expect(title(b)).toEqual(['Error: boom', 'app.js in main', 'error', {}]);
    });

    it('tells how many user values of each issue the tagstore wrote for the first time', async () => {
      const s = services();
      const projectId = (await makeProject(s, 'users-org', 'users')).project.id;
      const [a, b] = [await makeGroup(s, projectId), await makeGroup(s, projectId)];
      const tag = (groupId: number, key: string, value: string, count = 1) => ({ projectId, groupId, key, value, count, firstSeen: 1, lastSeen: 1 });
      const first = await s.tagstore.incrMulti([tag(a, 'user', 'id:1'), tag(a, 'user', 'id:2', 3), tag(b, 'user', 'id:1'), tag(b, 'browser', 'Firefox')]);
      // Seen again (one of them twice in the call), plus one new user of b.
      const second = await s.tagstore.incrMulti([tag(a, 'user', 'id:1'), tag(a, 'user', 'id:1'), tag(b, 'user', 'id:1', 2), tag(b, 'user', 'id:3'), tag(b, 'browser', 'Chrome')]);
      if (dialect === 'mysql') {
        // ON DUPLICATE KEY UPDATE cannot say which rows it inserted: the flush counts again.
        expect([first, second]).toEqual([null, null]);
      } else {
        expect(Object.fromEntries(first!)).toEqual({ [a]: 2, [b]: 1 });
        expect(Object.fromEntries(second!)).toEqual({ [b]: 1 });
      }
      const rows = await s.database.db.selectFrom('group_tag_values').select(['group_id', 'key', 'value', 'times_seen']).where('group_id', 'in', [a, b]).execute();
      const counts = Object.fromEntries(rows.map((r) => [`${r.group_id === a ? 'a' : 'b'}:${r.key}:${r.value}`, Number(r.times_seen)]));
      expect(counts).toEqual({ 'a:user:id:1': 3, 'a:user:id:2': 3, 'b:user:id:1': 3, 'b:user:id:3': 1, 'b:browser:Firefox': 1, 'b:browser:Chrome': 1 });
    });

    for (const together of [true, false]) {
      it(`adds the new users of an issue with many, and counts a small one again (${together ? 'several issues' : 'one issue'} per statement)`, async () => {
        const s = services();
        const projectId = (await makeProject(s, `many-${together}-org`, 'many')).project.id;
        // users_seen as a long-lived issue would have it, next to the few user values in the table:
        // an addition keeps the first, a recount would give the second.
        const big = await makeGroup(s, projectId, { users_seen: USERS_RECOUNT_BELOW + 500 });
        const small = await makeGroup(s, projectId, { users_seen: 7 });
        const unknown = await makeGroup(s, projectId, { users_seen: USERS_RECOUNT_BELOW + 500 });
        const user = (groupId: number, value: string) => ({ projectId, groupId, key: 'user', value, count: 1, firstSeen: 1, lastSeen: 1 });
        await s.tagstore.incrMulti([user(big, 'id:1'), user(big, 'id:2'), user(small, 'id:1'), user(unknown, 'id:1')]);
        const counters = [
          { groupId: big, timesSeen: 2, firstSeen: 1, lastSeen: 1, usersAdded: 2 },
          { groupId: small, timesSeen: 1, firstSeen: 1, lastSeen: 1, usersAdded: 1 },
          // Not known how many are new (MySQL, or counters put back after a failed flush).
          { groupId: unknown, timesSeen: 1, firstSeen: 1, lastSeen: 1 },
        ];
        if (together) await applyGroupCounters(s.database.db, counters);
        else for (const c of counters) await applyGroupCounters(s.database.db, [c]);
        const users = async (id: number) => Number((await s.database.db.selectFrom('groups').select('users_seen').where('id', '=', id).executeTakeFirstOrThrow()).users_seen);
        expect([await users(big), await users(small), await users(unknown)]).toEqual([USERS_RECOUNT_BELOW + 502, 1, 1]);
      });
    }
  });
}
