/**
 * Content-addressed bytes for source maps in the `file_blobs` table: uploaded chunks (kind
 * `chunk`) and the files of assembled bundles (kind `file`), keyed by the SHA-1 of the
 * uncompressed bytes and stored deflated (source maps shrink 4–10×). A blob table rather than the
 * nodestore because the nodestore holds JSON bodies with event retention; these are bytes that
 * live as long as the artifacts that reference them.
 *
 * Left out: an object-store backend (S3) and reference counting across bundles; files are only
 * deleted when no artifact row points at them any more (`deleteUnreferencedFiles`).
 */
import { createHash } from 'node:crypto';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import type { Kysely } from 'kysely';
import type { Database, Dialect } from '../db/index.js';
import { insertIgnore } from '../db/sql.js';
import { CHUNK_TTL_MS } from './limits.js';

export const sha1Hex = (data: Uint8Array | string) => createHash('sha1').update(data).digest('hex');

export async function putBlob(db: Kysely<Database>, dialect: Dialect, kind: 'chunk' | 'file', data: Uint8Array, sha1 = sha1Hex(data)): Promise<string> {
  await insertIgnore(
    db.insertInto('file_blobs').values({ sha1, kind, size: data.byteLength, data: deflateRawSync(data), date_created: Date.now() }),
    dialect,
    ['sha1'],
  ).execute();
  return sha1;
}

export async function getBlob(db: Kysely<Database>, sha1: string): Promise<Buffer | null> {
  const row = await db.selectFrom('file_blobs').select('data').where('sha1', '=', sha1).executeTakeFirst();
  return row ? inflateRawSync(row.data) : null;
}

/** Which of these sha1s are stored (in any kind). */
export async function existingBlobs(db: Kysely<Database>, sha1s: string[]): Promise<Set<string>> {
  const out = new Set<string>();
  for (let i = 0; i < sha1s.length; i += 500) {
    const rows = await db.selectFrom('file_blobs').select('sha1').where('sha1', 'in', sha1s.slice(i, i + 500)).execute();
    for (const r of rows) out.add(r.sha1);
  }
  return out;
}

export async function deleteChunks(db: Kysely<Database>, sha1s: string[]): Promise<void> {
  if (sha1s.length === 0) return;
  await db.deleteFrom('file_blobs').where('kind', '=', 'chunk').where('sha1', 'in', sha1s).execute();
}

/** Chunks of uploads that were never assembled. */
export async function deleteStaleChunks(db: Kysely<Database>, now = Date.now()): Promise<number> {
  const r = await db.deleteFrom('file_blobs').where('kind', '=', 'chunk').where('date_created', '<', now - CHUNK_TTL_MS).executeTakeFirst();
  return Number(r.numDeletedRows ?? 0);
}
