/**
 * The index of uploaded JavaScript artifacts (`artifact_files`): writing the files of a bundle or
 * a single legacy release file, and the two lookups symbolication needs — by debug id (and file
 * type) and by release + dist + URL (protocol.md §7.1, §7.3). Rows are per project, or org-wide
 * when `project_id` is null; a lookup sees the project's rows and the org-wide ones, newest first.
 *
 * Left out: deleting bundles (they stay until the release is deleted) and Sentry's bundle
 * "indexing" of large releases; plain SQL with an index on `url_hash` is enough at this scale.
 */
import type { Kysely } from 'kysely';
import type { CacheBackend } from '../services/cache/index.js';
import type { ArtifactFile, Database, Dialect } from '../db/index.js';
import { getBlob, putBlob, sha1Hex } from './blobs.js';
import type { BundleFile } from './bundle.js';

export interface IndexScope {
  organizationId: number;
  /** Empty: org-wide (project_id null). */
  projectIds: number[];
  release: string | null;
  dist: string | null;
  bundleRowId: number | null;
}

/** Cache key of "this release has uploaded files" (symbolication asks it for every event). */
export function releaseArtifactsKey(organizationId: number, release: string): string {
  return `release-artifacts:${organizationId}:${release}`;
}

/**
 * Stores the bytes of each file and one index row per file per project, then forgets the cached
 * answer to "does this release have files", so the next event is symbolicated with them.
 */
export async function indexFiles(db: Kysely<Database>, dialect: Dialect, scope: IndexScope, files: BundleFile[], cache?: CacheBackend): Promise<number> {
  const now = Date.now();
  const projects: (number | null)[] = scope.projectIds.length ? scope.projectIds : [null];
  let n = 0;
  for (const f of files) {
    const sha1 = await putBlob(db, dialect, 'file', f.content);
    for (const projectId of projects) {
      await db
        .insertInto('artifact_files')
        .values({
          organization_id: scope.organizationId,
          project_id: projectId,
          bundle_id: scope.bundleRowId,
          debug_id: f.debugId,
          release: scope.release ?? '',
          dist: scope.dist ?? '',
          url: f.url.slice(0, 1024),
          url_hash: sha1Hex(f.url),
          type: f.type.slice(0, 32),
          sha1,
          size: f.content.byteLength,
          headers: JSON.stringify(f.headers),
          date_created: now,
        })
        .execute();
    }
    n++;
  }
  await cache?.delete(releaseArtifactsKey(scope.organizationId, scope.release ?? ''));
  return n;
}

export interface Artifact {
  row: ArtifactFile;
  headers: Record<string, string>;
}

function toArtifact(row: ArtifactFile | undefined): Artifact | null {
  if (!row) return null;
  let headers: Record<string, string> = {};
  try {
    headers = JSON.parse(row.headers);
  } catch {
    /* headers are optional */
  }
  return { row, headers };
}

export class ArtifactLookup {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly organizationId: number,
    private readonly projectId: number,
  ) {}

  async byDebugId(debugId: string, types: string[]): Promise<Artifact | null> {
    const row = await this.db
      .selectFrom('artifact_files')
      .selectAll()
      .where('debug_id', '=', debugId)
      .where('type', 'in', types)
      .where('organization_id', '=', this.organizationId)
      .where((eb) => eb.or([eb('project_id', '=', this.projectId), eb('project_id', 'is', null)]))
      .orderBy('id', 'desc')
      .executeTakeFirst();
    return toArtifact(row);
  }

  /** The first candidate URL with a file in this release (dist must match, '' = none). */
  async byUrl(release: string, dist: string | null, urls: string[]): Promise<Artifact | null> {
    for (const url of urls) {
      const row = await this.db
        .selectFrom('artifact_files')
        .selectAll()
        .where('organization_id', '=', this.organizationId)
        .where('url_hash', '=', sha1Hex(url))
        .where('release', '=', release)
        .where('dist', '=', dist ?? '')
        .where((eb) => eb.or([eb('project_id', '=', this.projectId), eb('project_id', 'is', null)]))
        .orderBy('id', 'desc')
        .executeTakeFirst();
      if (row) return toArtifact(row);
    }
    return null;
  }

  /** Whether any file was uploaded for `release`; cached for a minute when `cache` is given (writers delete the key). */
  async hasReleaseArtifacts(release: string, cache?: CacheBackend): Promise<boolean> {
    const key = releaseArtifactsKey(this.organizationId, release);
    const hit = await cache?.get<boolean>(key);
    if (hit !== undefined) return hit;
    const row = await this.db
      .selectFrom('artifact_files')
      .select('id')
      .where('organization_id', '=', this.organizationId)
      .where('release', '=', release)
      .limit(1)
      .executeTakeFirst();
    await cache?.set(key, !!row, 60_000);
    return !!row;
  }

  content(a: Artifact): Promise<Buffer | null> {
    return getBlob(this.db, a.row.sha1);
  }
}
