/**
 * Assembling an upload: sentry-cli sends a file's chunks (by SHA-1) and then asks the server to
 * assemble `checksum` from `chunks` (protocol.md §6.3; Sentry `api/endpoints/
 * organization_artifactbundle_assemble.py`). The reply is honest: while chunks are missing the
 * state is `not_found` with every missing chunk, which is what makes sentry-cli upload them.
 * Once all are stored the bundle is assembled right away (in the request: the size is bounded
 * by MAX_FILE_SIZE), its files indexed, and the chunks deleted; later calls answer its state.
 *
 * Left out: Sentry's asynchronous assembly task; a bundle is small enough to do in-line.
 */
import type { Kysely } from 'kysely';
import type { CacheBackend } from '../services/cache/index.js';
import type { Database, Dialect } from '../db/index.js';
import { insertIgnore } from '../db/sql.js';
import { indexFiles } from './artifacts.js';
import { deleteChunks, existingBlobs, getBlob, sha1Hex } from './blobs.js';
import { BundleError, parseBundle } from './bundle.js';
import { MAX_FILE_SIZE } from './limits.js';

export interface AssembleRequest {
  organizationId: number;
  checksum: string;
  chunks: string[];
  projectIds: number[];
  release: string | null;
  dist: string | null;
}

export interface AssembleResponse {
  state: 'not_found' | 'created' | 'assembling' | 'ok' | 'error';
  missingChunks: string[];
  detail: string | null;
}

export async function assembleBundle(db: Kysely<Database>, dialect: Dialect, req: AssembleRequest, cache?: CacheBackend): Promise<AssembleResponse> {
  const existing = await db
    .selectFrom('artifact_bundles')
    .select(['state', 'detail'])
    .where('organization_id', '=', req.organizationId)
    .where('checksum', '=', req.checksum)
    .executeTakeFirst();
  if (existing && existing.state !== 'error') {
    return { state: existing.state as AssembleResponse['state'], missingChunks: [], detail: existing.detail };
  }
  const have = await existingBlobs(db, req.chunks);
  const missing = req.chunks.filter((c) => !have.has(c));
  if (missing.length > 0) return { state: 'not_found', missingChunks: [...new Set(missing)], detail: null };

  // Claim the assembly; a concurrent call for the same checksum sees `assembling`.
  if (existing) await db.deleteFrom('artifact_bundles').where('organization_id', '=', req.organizationId).where('checksum', '=', req.checksum).execute();
  await insertIgnore(
    db.insertInto('artifact_bundles').values({
      organization_id: req.organizationId,
      checksum: req.checksum,
      bundle_id: null,
      release: req.release,
      dist: req.dist,
      state: 'assembling',
      detail: null,
      file_count: 0,
      date_created: Date.now(),
    }),
    dialect,
    ['organization_id', 'checksum'],
  ).execute();
  const row = await db.selectFrom('artifact_bundles').select(['id', 'state']).where('organization_id', '=', req.organizationId).where('checksum', '=', req.checksum).executeTakeFirstOrThrow();

  const fail = async (detail: string): Promise<AssembleResponse> => {
    await db.updateTable('artifact_bundles').set({ state: 'error', detail }).where('id', '=', row.id).execute();
    return { state: 'error', missingChunks: [], detail };
  };
  try {
    const parts: Buffer[] = [];
    let size = 0;
    for (const sha1 of req.chunks) {
      const chunk = await getBlob(db, sha1);
      if (!chunk) return { state: 'not_found', missingChunks: [sha1], detail: null };
      size += chunk.byteLength;
      if (size > MAX_FILE_SIZE) return fail(`file is larger than ${MAX_FILE_SIZE} bytes`);
      parts.push(chunk);
    }
    const data = Buffer.concat(parts);
    if (sha1Hex(data) !== req.checksum) return fail('checksum mismatch: the chunks do not make up the file');
    const bundle = parseBundle(data);
    const release = req.release ?? bundle.release;
    const dist = req.dist ?? bundle.dist;
    const count = await indexFiles(db, dialect, { organizationId: req.organizationId, projectIds: req.projectIds, release, dist, bundleRowId: row.id }, bundle.files, cache);
    await db
      .updateTable('artifact_bundles')
      .set({ state: 'ok', bundle_id: bundle.bundleId, release, dist, file_count: count })
      .where('id', '=', row.id)
      .execute();
    await deleteChunks(db, req.chunks);
    return { state: 'ok', missingChunks: [], detail: null };
  } catch (err) {
    if (err instanceof BundleError) return fail(err.message);
    throw err;
  }
}
