/**
 * Issue search in SQL: filters on the `groups` row, tag filters as EXISTS over the tagstore's
 * `group_tag_values`. Indexes: (project_id, status, last_seen) serves the default stream.
 */
import { sql, type Expression, type ExpressionBuilder, type Kysely, type SqlBool } from 'kysely';
import type { Database, Dialect } from '../../../db/index.js';
import { escapeLike, likeEscape, likeInsensitive } from '../../../db/sql.js';
import type { IssueQuery, SearchBackend } from '../index.js';
import { SearchQueryError, timeCondition, type SearchFilter } from '../query.js';

type EB = ExpressionBuilder<Database, 'groups'>;

const STATUS: Record<string, string> = {
  unresolved: 'unresolved',
  resolved: 'resolved',
  ignored: 'ignored',
  archived: 'ignored',
  muted: 'ignored',
};

/** Search keys that are a property of the issue's `user` tag value (`id:1`, `email:a@b.c`). */
const USER_KEYS: Record<string, string> = { 'user.id': 'id', 'user.email': 'email', 'user.username': 'username', 'user.ip': 'ip' };


function tagCondition(eb: EB, d: Dialect, key: string, values: string[]): Expression<SqlBool> {
  const anyWildcard = values.some((v) => v.includes('*'));
  return eb.exists(
    eb
      .selectFrom('group_tag_values as t')
      .select(sql`1`.as('one'))
      .whereRef('t.group_id', '=', 'groups.id')
      .where('t.key', '=', key)
      .where((inner) =>
        anyWildcard
          ? inner.or(values.map((v) => sql<SqlBool>`t.value like ${escapeLike(v)} ${likeEscape(d)}`))
          : inner('t.value', 'in', values),
      ),
  );
}

function filterCondition(eb: EB, d: Dialect, f: SearchFilter, now: number): Expression<SqlBool> {
  const key = f.key;
  switch (key) {
    case 'is': {
      const conds = f.values.map((v) => {
        if (STATUS[v]) return eb('groups.status', '=', STATUS[v]);
        if (v === 'new') return eb('groups.first_seen', '>=', now - 7 * 86_400_000);
        throw new SearchQueryError(`unsupported is: value "${v}"`);
      });
      return eb.or(conds);
    }
    case 'level':
      return eb('groups.level', 'in', f.values);
    case 'timesSeen':
    case 'times_seen': {
      const n = Number(f.values[0]);
      if (!Number.isFinite(n)) throw new SearchQueryError(`timesSeen needs a number, got "${f.values[0]}"`);
      return eb('groups.times_seen', f.op, n);
    }
    case 'age':
    case 'firstSeen':
    case 'lastSeen': {
      const { op, at } = timeCondition(f, now);
      return eb(key === 'lastSeen' ? 'groups.last_seen' : 'groups.first_seen', op, at);
    }
    case 'title':
    case 'message':
      return eb.or(f.values.map((v) => likeInsensitive(d, 'groups.title', '%' + escapeLike(v) + '%')));
    case 'firstRelease':
      return eb('groups.first_release', 'in', f.values);
    case 'has':
      return eb.or(
        f.values.map((v) =>
          eb.exists(
            eb.selectFrom('group_tag_values as t').select(sql`1`.as('one')).whereRef('t.group_id', '=', 'groups.id').where('t.key', '=', tagKey(v)),
          ),
        ),
      );
    default: {
      if (USER_KEYS[key]) return tagCondition(eb, d, 'user', f.values.map((v) => `${USER_KEYS[key]}:${v}`));
      if (f.op !== '=') throw new SearchQueryError(`${key} does not support ${f.op}`);
      return tagCondition(eb, d, tagKey(key), f.values);
    }
  }
}

function tagKey(key: string): string {
  const m = /^tags\[(.+)\]$/.exec(key);
  return m ? m[1] : key;
}

export class SqlSearchBackend implements SearchBackend {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly dialect: Dialect,
  ) {}

  async queryIssues(q: IssueQuery) {
    if (q.projectIds.length === 0) return { groupIds: [], hasMore: false };
    let query = this.db.selectFrom('groups').select('groups.id').where('groups.project_id', 'in', q.projectIds);
    for (const f of q.search.filters) {
      query = query.where((eb) => {
        const cond = filterCondition(eb, this.dialect, f, q.now);
        return f.negated ? eb.not(cond) : cond;
      });
    }
    for (const text of q.search.text) {
      const pattern = '%' + escapeLike(text) + '%';
      query = query.where((eb) => eb.or([likeInsensitive(this.dialect, 'groups.title', pattern), likeInsensitive(this.dialect, 'groups.culprit', pattern)]));
    }
    const column = { date: 'groups.last_seen', new: 'groups.first_seen', freq: 'groups.times_seen', user: 'groups.users_seen' }[q.sort] as
      | 'groups.last_seen'
      | 'groups.first_seen'
      | 'groups.times_seen'
      | 'groups.users_seen';
    const rows = await query
      .orderBy(column, 'desc')
      .orderBy('groups.id', 'desc')
      .limit(q.limit + 1)
      .offset(q.offset)
      .execute();
    return { groupIds: rows.slice(0, q.limit).map((r) => Number(r.id)), hasMore: rows.length > q.limit };
  }
}
