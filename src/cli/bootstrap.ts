/**
 * First start on an empty data directory: create an organization, a project with its DSN and an
 * admin user, so a new user has something to point an SDK at right away.
 */
import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from '../db/index.js';
import { addMember, createProject, createProjectKey, createUser, getOrCreateOrganization, keyDsn } from '../db/models/index.js';

export interface BootstrapResult {
  organization: string;
  project: string;
  dsn: string;
  email: string;
  /** Set only when the password was generated here: it is printed once and never again. */
  generatedPassword: string | null;
}

export async function bootstrapIfEmpty(
  db: Kysely<Database>,
  opts: { baseUrl: string; adminEmail: string; adminPassword?: string },
): Promise<BootstrapResult | null> {
  const any = await db.selectFrom('organizations').select('id').limit(1).executeTakeFirst();
  if (any) return null;
  const org = await getOrCreateOrganization(db, 'faultline', 'Faultline');
  const project = await createProject(db, org.id, 'default', { name: 'Default', platform: null });
  const key = await createProjectKey(db, project.id);
  // A team named after the organization owns the first project, as Sentry's setup makes one.
  await db.insertInto('teams').values({ organization_id: org.id, slug: org.slug, name: org.name, date_created: Date.now() }).execute();
  const team = await db.selectFrom('teams').select('id').where('organization_id', '=', org.id).where('slug', '=', org.slug).executeTakeFirstOrThrow();
  await db.insertInto('project_teams').values({ project_id: project.id, team_id: team.id }).execute();
  const password = opts.adminPassword ?? randomBytes(12).toString('base64url');
  const user = await createUser(db, opts.adminEmail, { password, superuser: true, name: 'Admin' });
  await addMember(db, org.id, user.id, 'owner');
  await db.insertInto('team_members').values({ team_id: team.id, user_id: user.id }).execute();
  return {
    organization: org.slug,
    project: project.slug,
    dsn: keyDsn(opts.baseUrl, key),
    email: user.email,
    generatedPassword: opts.adminPassword ? null : password,
  };
}
