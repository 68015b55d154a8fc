/**
 * Copies every event body from one nodestore backend to another while the server keeps running,
 * then verifies the copy. This is the backfill half of a storage migration; the other half is the
 * delegator's dual-write of new events (FAULTLINE_NODESTORE_SECONDARY), which must be on before
 * the copy starts so nothing written during the copy is missed (docs/operations.md runbook).
 *
 * The copy walks the source in small chunks (scan → getEncodedMulti → setMulti: the stored bytes
 * move, so bodies keep their format) and stores its position in `nodestore_migration_checkpoints`
 * after each chunk, so an interrupted run resumes where it stopped. The verification pass reads both sides in the same chunks and compares bodies with the
 * delegator's similarity; an id that differs is read again after a pause before it counts,
 * because a dual-write that is still in flight is not a difference. The pause doubles for the ids
 * still differing (1 s, 2 s, 4 s, 8 s by default): on a busy machine a secondary's write can land
 * seconds after the primary's commit, while a body that was really lost differs every time. Sentry's lesson applies: with
 * live writes, comparing two stores "generally requires that both databases are in read-only
 * mode" — a re-check of the few mismatches is the cheap substitute (seeds/001).
 *
 * Left out: deleting from the source (stop writing the old store by configuration instead, and
 * drop it once the new one has served reads for a while) and counting bodies present only in the
 * destination (harmless; a body deleted during the copy can leave one behind).
 */
import type { DatabaseHandle } from '../db/index.js';
import { upsert } from '../db/sql.js';
import { similarity } from '../services/delegator/index.js';
import { EncodedNode, type NodestoreBackend, type NodestoreScan } from '../services/nodestore/index.js';

type Store = NodestoreBackend & NodestoreScan;

export interface NodestoreMigrationOptions {
  from: Store;
  to: Store;
  /** Checkpoint name, e.g. `sql->filesystem`. */
  name: string;
  database: DatabaseHandle;
  chunkSize?: number;
  /** Forget the checkpoint and copy from the start. */
  restart?: boolean;
  verify?: boolean;
  /** Pause before a mismatch is read again (ms); it doubles for each further re-check. */
  recheckDelayMs?: number;
  /** How many times a mismatch is read again before it counts. */
  rechecks?: number;
  onProgress?: (phase: 'copy' | 'verify', done: number, total: number) => void;
}

export interface NodestoreMigrationResult {
  copied: number;
  verified: number;
  /** Ids in the source without a body in the destination, after the re-check. */
  missing: number;
  /** Ids whose bodies differ, after the re-check. */
  different: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function saveCheckpoint(database: DatabaseHandle, name: string, afterKey: string | null, copied: number, done: boolean) {
  const row = { name, after_key: afterKey, copied, done: done ? 1 : 0, updated_at: Date.now() };
  await upsert(database.db.insertInto('nodestore_migration_checkpoints').values(row), database.dialect, 'nodestore_migration_checkpoints', ['name'], {
    after_key: 'replace',
    copied: 'replace',
    done: 'replace',
    updated_at: 'replace',
  }).execute();
}

async function copy(opts: NodestoreMigrationOptions, total: number): Promise<number> {
  const { database, name } = opts;
  const chunk = opts.chunkSize ?? 100;
  if (opts.restart) await database.db.deleteFrom('nodestore_migration_checkpoints').where('name', '=', name).execute();
  const cp = await database.db.selectFrom('nodestore_migration_checkpoints').selectAll().where('name', '=', name).executeTakeFirst();
  let copied = cp ? Number(cp.copied) : 0;
  if (cp?.done) return copied;
  let cursor = cp?.after_key ?? null;
  for (;;) {
    const page = await opts.from.scan(cursor, chunk);
    if (page.items.length > 0) {
      // As stored: a body keeps its format and its dictionary (which both stores read from SQL).
      const bodies = await opts.from.getEncodedMulti(page.items.map((i) => i.id));
      // An id deleted between scan and read is skipped: there is nothing left to copy.
      const items = page.items.filter((i) => bodies.has(i.id)).map((i) => ({ id: i.id, timestamp: i.timestamp, data: new EncodedNode(bodies.get(i.id)!) }));
      await opts.to.setMulti(items);
      copied += items.length;
    }
    cursor = page.next;
    await saveCheckpoint(database, name, cursor, copied, cursor === null);
    opts.onProgress?.('copy', copied, Math.max(total, copied));
    if (cursor === null) return copied;
  }
}

/** Ids among `ids` whose bodies are missing or different in `to`. */
async function mismatches(from: Store, to: Store, ids: string[]): Promise<{ missing: string[]; different: string[] }> {
  const [a, b] = await Promise.all([from.getMulti(ids), to.getMulti(ids)]);
  const missing: string[] = [];
  const different: string[] = [];
  for (const [id, body] of a) {
    const other = b.get(id);
    if (!other) missing.push(id);
    else if (similarity(body, other) < 1) different.push(id);
  }
  return { missing, different };
}

async function verify(opts: NodestoreMigrationOptions, total: number): Promise<Omit<NodestoreMigrationResult, 'copied'>> {
  const chunk = opts.chunkSize ?? 100;
  let cursor: string | null = null;
  let verified = 0;
  let missing: string[] = [];
  let different: string[] = [];
  do {
    const page = await opts.from.scan(cursor, chunk);
    const m = await mismatches(opts.from, opts.to, page.items.map((i) => i.id));
    missing.push(...m.missing);
    different.push(...m.different);
    verified += page.items.length;
    cursor = page.next;
    opts.onProgress?.('verify', verified, Math.max(total, verified));
  } while (cursor !== null);
  let pending = [...missing, ...different];
  const rechecks = opts.rechecks ?? 4;
  for (let round = 0, pause = opts.recheckDelayMs ?? 1_000; round < rechecks && pending.length > 0; round++, pause *= 2) {
    await sleep(pause);
    missing = [];
    different = [];
    for (let i = 0; i < pending.length; i += chunk) {
      const m = await mismatches(opts.from, opts.to, pending.slice(i, i + chunk));
      missing.push(...m.missing);
      different.push(...m.different);
    }
    pending = [...missing, ...different];
  }
  return { verified, missing: missing.length, different: different.length };
}

export async function migrateNodestore(opts: NodestoreMigrationOptions): Promise<NodestoreMigrationResult> {
  const total = await opts.from.count();
  const copied = await copy(opts, total);
  if (opts.verify === false) return { copied, verified: 0, missing: 0, different: 0 };
  return { copied, ...(await verify(opts, await opts.from.count())) };
}
