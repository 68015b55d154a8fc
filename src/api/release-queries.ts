/**
 * The reads and writes behind the release routes: finding a release in an organization,
 * attaching projects, and the figures a release shows (new issues per project, first and last
 * event, deploys, session health). Kept apart from the routes so both release route files and
 * the project release list share them.
 */
import type { Kysely } from 'kysely';
import type { Database, Dialect, Organization, Release } from '../db/index.js';
import { insertIgnore } from '../db/sql.js';
import { badRequest, notFound } from './errors.js';
import type { ReleaseProjectStats, ReleaseStats } from './serializers/release.js';

export async function findRelease(db: Kysely<Database>, org: Organization, version: string): Promise<Release> {
  const r = await db.selectFrom('releases').selectAll().where('organization_id', '=', org.id).where('version', '=', version).executeTakeFirst();
  if (!r) throw notFound('Release not found');
  return r;
}

/** Project ids for `projects: [slug | id, ...]` as sentry-cli sends them; unknown ones are a 400. */
export async function resolveProjects(db: Kysely<Database>, org: Organization, refs: unknown): Promise<number[]> {
  if (refs === undefined || refs === null) return [];
  if (!Array.isArray(refs)) throw badRequest('projects must be a list of project slugs or ids', { projects: ['Expected a list.'] });
  const rows = await db.selectFrom('projects').select(['id', 'slug']).where('organization_id', '=', org.id).execute();
  const ids: number[] = [];
  for (const ref of refs) {
    const row = rows.find((p) => p.slug === String(ref) || String(p.id) === String(ref));
    if (!row) throw badRequest(`Invalid project ids or slugs: ${String(ref)}`, { projects: ['Invalid project ids or slugs'] });
    if (!ids.includes(row.id)) ids.push(row.id);
  }
  return ids;
}

export async function attachProjects(db: Kysely<Database>, dialect: Dialect, releaseId: number, projectIds: number[]): Promise<void> {
  for (const projectId of projectIds) {
    await insertIgnore(db.insertInto('release_projects').values({ release_id: releaseId, project_id: projectId, new_groups: 0 }), dialect, ['release_id', 'project_id']).execute();
  }
}

export function parseDate(v: unknown, field: string): number | null {
  if (v === undefined || v === null) return null;
  const t = typeof v === 'string' ? Date.parse(v) : NaN;
  if (!Number.isFinite(t)) throw badRequest(`${field} must be an ISO 8601 date`, { [field]: ['Datetime has wrong format.'] });
  return t;
}

export async function releaseStats(db: Kysely<Database>, r: Release, opts: { environments?: boolean } = {}): Promise<ReleaseStats> {
  const projects = await db
    .selectFrom('release_projects')
    .innerJoin('projects', 'projects.id', 'release_projects.project_id')
    .select(['projects.id', 'projects.slug', 'projects.name', 'projects.platform', 'release_projects.new_groups'])
    .where('release_projects.release_id', '=', r.id)
    .orderBy('projects.slug')
    .execute();
  const ids = projects.map((p) => p.id);
  const out: ReleaseProjectStats[] = [];
  for (const p of projects) {
    const s = await db
      .selectFrom('release_sessions')
      .select((eb) => [eb.fn.sum<number>('sessions').as('sessions'), eb.fn.sum<number>('crashed').as('crashed'), eb.fn.sum<number>('errored').as('errored')])
      .where('project_id', '=', p.id)
      .where('release', '=', r.version)
      .executeTakeFirst();
    const u = await db
      .selectFrom('release_session_users')
      .select((eb) => [eb.fn.countAll<number>().as('users'), eb.fn.sum<number>('crashed').as('crashed')])
      .where('project_id', '=', p.id)
      .where('release', '=', r.version)
      .executeTakeFirst();
    out.push({
      id: p.id,
      slug: p.slug,
      name: p.name,
      platform: p.platform,
      newGroups: Number(p.new_groups),
      health: {
        totalSessions: Number(s?.sessions ?? 0),
        sessionsCrashed: Number(s?.crashed ?? 0),
        sessionsErrored: Number(s?.errored ?? 0),
        totalUsers: Number(u?.users ?? 0),
        usersCrashed: Number(u?.crashed ?? 0),
      },
    });
  }
  const events = ids.length
    ? await db
        .selectFrom('events')
        .select((eb) => [eb.fn.min<number>('timestamp').as('first'), eb.fn.max<number>('timestamp').as('last')])
        .where('project_id', 'in', ids)
        .where('release', '=', r.version)
        .executeTakeFirst()
    : undefined;
  const deploys = await db.selectFrom('deploys').selectAll().where('release_id', '=', r.id).orderBy('date_finished', 'desc').orderBy('id', 'desc').execute();
  const latestPerEnv = [...new Map(deploys.slice().reverse().map((d) => [d.environment, d] as const)).values()].sort((a, b) => b.date_finished - a.date_finished);
  return {
    projects: out,
    firstEvent: events?.first === null || events?.first === undefined ? null : Number(events.first),
    lastEvent: events?.last === null || events?.last === undefined ? null : Number(events.last),
    deployCount: deploys.length,
    lastDeploy: deploys[0] ?? null,
    ...(opts.environments ? { environments: latestPerEnv } : {}),
  };
}
