/**
 * The initial schema. Written with Kysely's schema builder and the column types of `types()` so
 * the same migration runs on SQLite, PostgreSQL and MySQL/MariaDB: indexed strings are varchar
 * (MySQL cannot index unbounded TEXT), times are bigint milliseconds, bodies are blobs.
 */
import { type Kysely, sql } from 'kysely';
import { columnTypes, type Dialect } from '../dialect.js';

export async function up(db: Kysely<any>, dialect: Dialect): Promise<void> {
  const t = columnTypes(dialect);
  const id = (col: any) => t.id(col);

  await db.schema.createTable('organizations')
    .addColumn('id', t.idType, id)
    .addColumn('slug', 'varchar(64)', (c) => c.notNull().unique())
    .addColumn('name', 'varchar(255)', (c) => c.notNull())
    .addColumn('date_created', 'bigint', (c) => c.notNull())
    .execute();

  await db.schema.createTable('users')
    .addColumn('id', t.idType, id)
    .addColumn('email', 'varchar(255)', (c) => c.notNull().unique())
    .addColumn('name', 'varchar(255)', (c) => c.notNull().defaultTo(''))
    .addColumn('password_hash', 'varchar(255)')
    .addColumn('is_superuser', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('date_created', 'bigint', (c) => c.notNull())
    .execute();

  await db.schema.createTable('organization_members')
    .addColumn('id', t.idType, id)
    .addColumn('organization_id', 'integer', (c) => c.notNull())
    .addColumn('user_id', 'integer', (c) => c.notNull())
    .addColumn('role', 'varchar(32)', (c) => c.notNull())
    .addColumn('date_created', 'bigint', (c) => c.notNull())
    .addUniqueConstraint('organization_members_org_user', ['organization_id', 'user_id'])
    .execute();

  await db.schema.createTable('projects')
    .addColumn('id', t.idType, id)
    .addColumn('organization_id', 'integer', (c) => c.notNull())
    .addColumn('slug', 'varchar(64)', (c) => c.notNull())
    .addColumn('name', 'varchar(255)', (c) => c.notNull())
    .addColumn('platform', 'varchar(64)')
    .addColumn('fingerprinting_rules', t.text, (c) => c.notNull())
    .addColumn('options', t.text, (c) => c.notNull())
    .addColumn('next_short_id', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('date_created', 'bigint', (c) => c.notNull())
    .addUniqueConstraint('projects_org_slug', ['organization_id', 'slug'])
    .execute();

  await db.schema.createTable('project_keys')
    .addColumn('id', t.idType, id)
    .addColumn('project_id', 'integer', (c) => c.notNull())
    .addColumn('public_key', 'varchar(64)', (c) => c.notNull().unique())
    .addColumn('secret_key', 'varchar(64)', (c) => c.notNull())
    .addColumn('label', 'varchar(255)', (c) => c.notNull())
    .addColumn('is_active', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('date_created', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('project_keys_project').on('project_keys').column('project_id').execute();

  await db.schema.createTable('api_tokens')
    .addColumn('id', t.idType, id)
    .addColumn('token_hash', 'varchar(64)', (c) => c.notNull().unique())
    .addColumn('token_last_characters', 'varchar(8)', (c) => c.notNull())
    .addColumn('name', 'varchar(255)', (c) => c.notNull())
    .addColumn('user_id', 'integer')
    .addColumn('organization_id', 'integer')
    .addColumn('scopes', t.text, (c) => c.notNull())
    .addColumn('date_created', 'bigint', (c) => c.notNull())
    .addColumn('last_used', 'bigint')
    .execute();

  await db.schema.createTable('groups')
    .addColumn('id', t.idType, id)
    .addColumn('project_id', 'integer', (c) => c.notNull())
    .addColumn('short_id', 'integer', (c) => c.notNull())
    .addColumn('type', 'varchar(32)', (c) => c.notNull())
    .addColumn('title', t.text, (c) => c.notNull())
    .addColumn('culprit', t.text)
    .addColumn('level', 'varchar(16)', (c) => c.notNull())
    .addColumn('platform', 'varchar(64)')
    .addColumn('logger', 'varchar(64)')
    .addColumn('status', 'varchar(16)', (c) => c.notNull())
    .addColumn('substatus', 'varchar(32)')
    .addColumn('status_details', t.text, (c) => c.notNull())
    .addColumn('metadata', t.text, (c) => c.notNull())
    .addColumn('times_seen', 'bigint', (c) => c.notNull())
    .addColumn('users_seen', 'bigint', (c) => c.notNull())
    .addColumn('first_seen', 'bigint', (c) => c.notNull())
    .addColumn('last_seen', 'bigint', (c) => c.notNull())
    .addColumn('first_release', 'varchar(250)')
    .addColumn('last_release', 'varchar(250)')
    .addColumn('resolved_at', 'bigint')
    .addUniqueConstraint('groups_project_short_id', ['project_id', 'short_id'])
    .execute();
  await db.schema.createIndex('groups_project_last_seen').on('groups').columns(['project_id', 'last_seen']).execute();
  await db.schema.createIndex('groups_project_status_last_seen').on('groups').columns(['project_id', 'status', 'last_seen']).execute();

  await db.schema.createTable('group_hashes')
    .addColumn('id', t.idType, id)
    .addColumn('project_id', 'integer', (c) => c.notNull())
    .addColumn('hash', 'varchar(32)', (c) => c.notNull())
    .addColumn('group_id', 'integer', (c) => c.notNull())
    .addUniqueConstraint('group_hashes_project_hash', ['project_id', 'hash'])
    .execute();
  await db.schema.createIndex('group_hashes_group').on('group_hashes').column('group_id').execute();

  await db.schema.createTable('events')
    .addColumn('id', t.idType, id)
    .addColumn('project_id', 'integer', (c) => c.notNull())
    .addColumn('group_id', 'integer')
    .addColumn('event_id', 'varchar(32)', (c) => c.notNull())
    .addColumn('type', 'varchar(32)', (c) => c.notNull())
    .addColumn('timestamp', 'bigint', (c) => c.notNull())
    .addColumn('received', 'bigint', (c) => c.notNull())
    .addColumn('title', t.text, (c) => c.notNull())
    .addColumn('message', t.text, (c) => c.notNull())
    .addColumn('platform', 'varchar(64)', (c) => c.notNull())
    .addColumn('level', 'varchar(16)', (c) => c.notNull())
    .addColumn('release', 'varchar(250)')
    .addColumn('environment', 'varchar(64)')
    .addColumn('user_tag', 'varchar(255)')
    .addColumn('size', 'integer', (c) => c.notNull())
    .addUniqueConstraint('events_project_event_id', ['project_id', 'event_id'])
    .execute();
  await db.schema.createIndex('events_group_timestamp').on('events').columns(['group_id', 'timestamp']).execute();
  await db.schema.createIndex('events_project_timestamp').on('events').columns(['project_id', 'timestamp']).execute();

  await db.schema.createTable('nodestore_node')
    .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('data', t.blob, (c) => c.notNull())
    .addColumn('timestamp', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('nodestore_node_timestamp').on('nodestore_node').column('timestamp').execute();

  await db.schema.createTable('group_tag_values')
    .addColumn('project_id', 'integer', (c) => c.notNull())
    .addColumn('group_id', 'integer', (c) => c.notNull())
    .addColumn('key', 'varchar(200)', (c) => c.notNull())
    .addColumn('value', 'varchar(200)', (c) => c.notNull())
    .addColumn('times_seen', 'bigint', (c) => c.notNull())
    .addColumn('first_seen', 'bigint', (c) => c.notNull())
    .addColumn('last_seen', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('group_tag_values_pk', ['group_id', 'key', 'value'])
    .execute();
  await db.schema.createIndex('group_tag_values_project_key_value').on('group_tag_values').columns(['project_id', 'key', 'value']).execute();

  await db.schema.createTable('tsdb_points')
    .addColumn('model', 'varchar(32)', (c) => c.notNull())
    .addColumn('key_id', 'bigint', (c) => c.notNull())
    .addColumn('rollup', 'integer', (c) => c.notNull())
    .addColumn('bucket', 'bigint', (c) => c.notNull())
    .addColumn('count', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('tsdb_points_pk', ['model', 'key_id', 'rollup', 'bucket'])
    .execute();

  await db.schema.createTable('releases')
    .addColumn('id', t.idType, id)
    .addColumn('organization_id', 'integer', (c) => c.notNull())
    .addColumn('version', 'varchar(250)', (c) => c.notNull())
    .addColumn('date_created', 'bigint', (c) => c.notNull())
    .addColumn('date_released', 'bigint')
    .addUniqueConstraint('releases_org_version', ['organization_id', 'version'])
    .execute();

  await db.schema.createTable('release_projects')
    .addColumn('release_id', 'integer', (c) => c.notNull())
    .addColumn('project_id', 'integer', (c) => c.notNull())
    .addColumn('new_groups', 'integer', (c) => c.notNull().defaultTo(0))
    .addPrimaryKeyConstraint('release_projects_pk', ['release_id', 'project_id'])
    .execute();

  await db.schema.createTable('outcomes')
    .addColumn('project_id', 'integer', (c) => c.notNull())
    .addColumn('bucket', 'bigint', (c) => c.notNull())
    .addColumn('category', 'varchar(32)', (c) => c.notNull())
    .addColumn('outcome', 'varchar(32)', (c) => c.notNull())
    .addColumn('reason', 'varchar(64)', (c) => c.notNull())
    .addColumn('quantity', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('outcomes_pk', ['project_id', 'bucket', 'category', 'outcome', 'reason'])
    .execute();

  void sql; // kept for dialect-specific statements in later migrations
}
