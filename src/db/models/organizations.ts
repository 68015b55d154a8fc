/** Organizations, projects and their keys (DSNs): the tenants every other row belongs to. */
import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database, Organization, Project, ProjectKey } from '../schema.js';
import { dialectOfDb, insertIgnore, insertReturningId } from '../sql.js';

export const SLUG_RE = /^[a-z0-9][a-z0-9_-]{0,49}$/;

export class ModelError extends Error {}

export async function getOrCreateOrganization(db: Kysely<Database>, slug: string, name?: string): Promise<Organization> {
  if (!SLUG_RE.test(slug)) throw new ModelError(`invalid organization slug "${slug}": lowercase letters, digits, - and _`);
  await insertIgnore(db.insertInto('organizations').values({ slug, name: name ?? slug, date_created: Date.now() }), dialectOfDb(db), ['slug']).execute();
  return db.selectFrom('organizations').selectAll().where('slug', '=', slug).executeTakeFirstOrThrow();
}

export async function createProject(
  db: Kysely<Database>,
  organizationId: number,
  slug: string,
  opts: { name?: string; platform?: string | null } = {},
): Promise<Project> {
  if (!SLUG_RE.test(slug)) throw new ModelError(`invalid project slug "${slug}": lowercase letters, digits, - and _`);
  const existing = await db
    .selectFrom('projects')
    .selectAll()
    .where('organization_id', '=', organizationId)
    .where('slug', '=', slug)
    .executeTakeFirst();
  if (existing) throw new ModelError(`project "${slug}" already exists`);
  const id = await insertReturningId(
    db.insertInto('projects').values({
      organization_id: organizationId,
      slug,
      name: opts.name ?? slug,
      platform: opts.platform ?? null,
      fingerprinting_rules: '',
      options: '{}',
      next_short_id: 1,
      date_created: Date.now(),
    }),
    dialectOfDb(db),
  );
  return db.selectFrom('projects').selectAll().where('id', '=', id!).executeTakeFirstOrThrow();
}

/** Creates a client key (DSN). Keys are 32 hex characters, as Sentry issues them. */
export async function createProjectKey(db: Kysely<Database>, projectId: number, label = 'Default'): Promise<ProjectKey> {
  const id = await insertReturningId(
    db.insertInto('project_keys').values({
      project_id: projectId,
      public_key: randomBytes(16).toString('hex'),
      secret_key: randomBytes(16).toString('hex'),
      label,
      is_active: 1,
      date_created: Date.now(),
    }),
    dialectOfDb(db),
  );
  return db.selectFrom('project_keys').selectAll().where('id', '=', id!).executeTakeFirstOrThrow();
}

/** The DSN a project key is used with. */
export function keyDsn(baseUrl: string, key: Pick<ProjectKey, 'public_key' | 'project_id'>): string {
  const u = new URL(baseUrl);
  const path = u.pathname.replace(/\/+$/, '');
  return `${u.protocol}//${key.public_key}@${u.host}${path}/${key.project_id}`;
}
