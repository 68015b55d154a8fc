/** Teams own projects (Sentry's ProjectTeam): which teams are responsible for which projects. */
import type { Kysely } from 'kysely';
import type { Dialect } from '../dialect.js';

export async function up(db: Kysely<any>, _dialect: Dialect): Promise<void> {
  await db.schema
    .createTable('project_teams')
    .addColumn('project_id', 'integer', (c) => c.notNull())
    .addColumn('team_id', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('project_teams_pk', ['project_id', 'team_id'])
    .execute();
  await db.schema.createIndex('project_teams_team').on('project_teams').column('team_id').execute();
}
