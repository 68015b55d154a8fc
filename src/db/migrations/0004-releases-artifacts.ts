/**
 * Releases as sentry-cli manages them, deploys, release health from sessions, and the storage for
 * JavaScript source maps: uploaded chunks, assembled artifact bundles and the index of the files
 * in them (by debug id, and by release + dist + URL), with their bytes in `file_blobs`.
 *
 * Left out: commits as rows (a release keeps the refs/commits sentry-cli sent as one JSON text),
 * repositories, and debug files other than JavaScript artifacts.
 */
import type { Kysely } from 'kysely';
import { columnTypes, type Dialect } from '../dialect.js';

export async function up(db: Kysely<any>, dialect: Dialect): Promise<void> {
  const t = columnTypes(dialect);
  const id = (col: any) => t.id(col);

  // One ALTER per column: SQLite cannot add several in one statement.
  for (const [name, type] of [
    ['date_started', 'bigint'],
    ['url', 'varchar(1024)'],
    ['ref', 'varchar(250)'],
    ['status', 'varchar(16)'],
    ['commits', t.text],
    ['commit_count', 'integer'],
    ['last_commit_id', 'varchar(64)'],
  ] as const) {
    await db.schema.alterTable('releases').addColumn(name, type as any).execute();
  }

  await db.schema.createTable('deploys')
    .addColumn('id', t.idType, id)
    .addColumn('organization_id', 'integer', (c) => c.notNull())
    .addColumn('release_id', 'integer', (c) => c.notNull())
    .addColumn('environment', 'varchar(64)', (c) => c.notNull())
    .addColumn('name', 'varchar(255)')
    .addColumn('url', 'varchar(1024)')
    .addColumn('date_started', 'bigint')
    .addColumn('date_finished', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('deploys_release').on('deploys').columns(['release_id', 'date_finished']).execute();

  // Release health: sessions per project, release, environment and hour (from `session` and
  // `sessions` items), and the distinct users (`did`) per release with whether one crashed.
  await db.schema.createTable('release_sessions')
    .addColumn('project_id', 'integer', (c) => c.notNull())
    .addColumn('release', 'varchar(250)', (c) => c.notNull())
    .addColumn('environment', 'varchar(64)', (c) => c.notNull())
    .addColumn('bucket', 'bigint', (c) => c.notNull())
    .addColumn('sessions', 'bigint', (c) => c.notNull())
    .addColumn('errored', 'bigint', (c) => c.notNull())
    .addColumn('abnormal', 'bigint', (c) => c.notNull())
    .addColumn('crashed', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('release_sessions_pk', ['project_id', 'release', 'environment', 'bucket'])
    .execute();
  await db.schema.createTable('release_session_users')
    .addColumn('project_id', 'integer', (c) => c.notNull())
    .addColumn('release', 'varchar(250)', (c) => c.notNull())
    .addColumn('did_hash', 'varchar(40)', (c) => c.notNull())
    .addColumn('crashed', 'integer', (c) => c.notNull())
    .addColumn('last_seen', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('release_session_users_pk', ['project_id', 'release', 'did_hash'])
    .execute();

  // Content-addressed bytes (sha1 of the uncompressed content), stored deflated. Chunks of an
  // upload in progress have kind `chunk` and are deleted once their bundle is assembled.
  await db.schema.createTable('file_blobs')
    .addColumn('sha1', 'varchar(40)', (c) => c.primaryKey())
    .addColumn('kind', 'varchar(16)', (c) => c.notNull())
    .addColumn('size', 'bigint', (c) => c.notNull())
    .addColumn('data', t.blob, (c) => c.notNull())
    .addColumn('date_created', 'bigint', (c) => c.notNull())
    .execute();

  await db.schema.createTable('artifact_bundles')
    .addColumn('id', t.idType, id)
    .addColumn('organization_id', 'integer', (c) => c.notNull())
    .addColumn('checksum', 'varchar(40)', (c) => c.notNull())
    .addColumn('bundle_id', 'varchar(64)')
    .addColumn('release', 'varchar(250)')
    .addColumn('dist', 'varchar(64)')
    .addColumn('state', 'varchar(16)', (c) => c.notNull())
    .addColumn('detail', t.text)
    .addColumn('file_count', 'integer', (c) => c.notNull())
    .addColumn('date_created', 'bigint', (c) => c.notNull())
    .addUniqueConstraint('artifact_bundles_org_checksum', ['organization_id', 'checksum'])
    .execute();

  // One row per file per project (project_id null: every project of the organization). Legacy
  // release files (`releases files upload`) have no bundle.
  await db.schema.createTable('artifact_files')
    .addColumn('id', t.idType, id)
    .addColumn('organization_id', 'integer', (c) => c.notNull())
    .addColumn('project_id', 'integer')
    .addColumn('bundle_id', 'integer')
    .addColumn('debug_id', 'varchar(36)')
    .addColumn('release', 'varchar(250)', (c) => c.notNull())
    .addColumn('dist', 'varchar(64)', (c) => c.notNull())
    .addColumn('url', 'varchar(1024)', (c) => c.notNull())
    .addColumn('url_hash', 'varchar(40)', (c) => c.notNull())
    .addColumn('type', 'varchar(32)', (c) => c.notNull())
    .addColumn('sha1', 'varchar(40)', (c) => c.notNull())
    .addColumn('size', 'bigint', (c) => c.notNull())
    .addColumn('headers', t.text, (c) => c.notNull())
    .addColumn('date_created', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('artifact_files_debug_id').on('artifact_files').columns(['debug_id', 'type']).execute();
  await db.schema.createIndex('artifact_files_release_url').on('artifact_files').columns(['organization_id', 'url_hash']).execute();
  await db.schema.createIndex('artifact_files_release').on('artifact_files').columns(['organization_id', 'release']).execute();

  // First / last event of a release per project come from the events index.
  await db.schema.createIndex('events_project_release_timestamp').on('events').columns(['project_id', 'release', 'timestamp']).execute();
}
