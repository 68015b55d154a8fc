/**
 * Triage, activity and alerts: the tables behind Sentry's GroupAssignee, GroupBookmark,
 * GroupSubscription, GroupResolution, GroupSnooze, GroupTombstone, Activity, Team and Rule (with
 * GroupRuleStatus as `rule_group_status`), plus the fire log the digest reads.
 * Left out: Sentry's GroupOwner / ownership rules and the per-user notification settings.
 */
import type { Kysely } from 'kysely';
import { columnTypes, type Dialect } from '../dialect.js';

export async function up(db: Kysely<any>, dialect: Dialect): Promise<void> {
  const t = columnTypes(dialect);
  const id = (col: any) => t.id(col);

  await db.schema.createTable('teams')
    .addColumn('id', t.idType, id)
    .addColumn('organization_id', 'integer', (c) => c.notNull())
    .addColumn('slug', 'varchar(64)', (c) => c.notNull())
    .addColumn('name', 'varchar(255)', (c) => c.notNull())
    .addColumn('date_created', 'bigint', (c) => c.notNull())
    .addUniqueConstraint('teams_org_slug', ['organization_id', 'slug'])
    .execute();
  await db.schema.createTable('team_members')
    .addColumn('team_id', 'integer', (c) => c.notNull())
    .addColumn('user_id', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('team_members_pk', ['team_id', 'user_id'])
    .execute();

  // One row per issue: who owns it ("user:ID" or "team:ID" resolved to one of the two ids).
  await db.schema.createTable('group_assignees')
    .addColumn('group_id', 'integer', (c) => c.primaryKey())
    .addColumn('user_id', 'integer')
    .addColumn('team_id', 'integer')
    .addColumn('date_added', 'bigint', (c) => c.notNull())
    .execute();
  for (const table of ['group_bookmarks', 'group_subscriptions']) {
    await db.schema.createTable(table)
      .addColumn('group_id', 'integer', (c) => c.notNull())
      .addColumn('user_id', 'integer', (c) => c.notNull())
      .addColumn('is_active', 'integer', (c) => c.notNull().defaultTo(1))
      .addColumn('date_added', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint(`${table}_pk`, ['group_id', 'user_id'])
      .execute();
  }
  // "Resolved in release X" / "in the next release": what a later event is compared with.
  await db.schema.createTable('group_resolutions')
    .addColumn('group_id', 'integer', (c) => c.primaryKey())
    .addColumn('type', 'varchar(16)', (c) => c.notNull())
    .addColumn('release', 'varchar(250)')
    .addColumn('date_added', 'bigint', (c) => c.notNull())
    .execute();
  // Ignore conditions with the counts they started from.
  await db.schema.createTable('group_snoozes')
    .addColumn('group_id', 'integer', (c) => c.primaryKey())
    .addColumn('until', 'bigint')
    .addColumn('count', 'integer')
    .addColumn('window', 'integer')
    .addColumn('user_count', 'integer')
    .addColumn('user_window', 'integer')
    .addColumn('date_added', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createTable('group_tombstones')
    .addColumn('id', t.idType, id)
    .addColumn('project_id', 'integer', (c) => c.notNull())
    .addColumn('hash', 'varchar(32)', (c) => c.notNull())
    .addColumn('title', t.text, (c) => c.notNull())
    .addColumn('date_added', 'bigint', (c) => c.notNull())
    .addUniqueConstraint('group_tombstones_project_hash', ['project_id', 'hash'])
    .execute();

  await db.schema.createTable('activities')
    .addColumn('id', t.idType, id)
    .addColumn('project_id', 'integer', (c) => c.notNull())
    .addColumn('group_id', 'integer', (c) => c.notNull())
    .addColumn('type', 'varchar(32)', (c) => c.notNull())
    .addColumn('user_id', 'integer')
    .addColumn('data', t.text, (c) => c.notNull())
    .addColumn('date_added', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('activities_group_date').on('activities').columns(['group_id', 'date_added']).execute();

  await db.schema.createTable('alert_rules')
    .addColumn('id', t.idType, id)
    .addColumn('project_id', 'integer', (c) => c.notNull())
    .addColumn('label', 'varchar(255)', (c) => c.notNull())
    .addColumn('environment', 'varchar(64)')
    .addColumn('data', t.text, (c) => c.notNull())
    .addColumn('created_by', 'integer')
    .addColumn('date_added', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('alert_rules_project').on('alert_rules').column('project_id').execute();
  await db.schema.createTable('rule_group_status')
    .addColumn('rule_id', 'integer', (c) => c.notNull())
    .addColumn('group_id', 'integer', (c) => c.notNull())
    .addColumn('last_active', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('rule_group_status_pk', ['rule_id', 'group_id'])
    .execute();
  // Every time a rule fired; `digest` is 0 = delivered at once, 1 = waiting for the digest, 2 = sent in one.
  await db.schema.createTable('rule_fires')
    .addColumn('id', t.idType, id)
    .addColumn('rule_id', 'integer', (c) => c.notNull())
    .addColumn('group_id', 'integer', (c) => c.notNull())
    .addColumn('event_id', 'varchar(32)', (c) => c.notNull())
    .addColumn('digest', 'integer', (c) => c.notNull())
    .addColumn('date_added', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('rule_fires_rule_date').on('rule_fires').columns(['rule_id', 'date_added']).execute();
}
