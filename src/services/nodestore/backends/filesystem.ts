/**
 * Nodestore on a filesystem: one file per body, in the same versioned, compressed format as the
 * SQL table (codec.ts), so migrating between the two only moves bytes. Sentry ships a filesystem
 * nodestore for the same reason Faultline does: bodies are large, written once, read by id, and
 * keeping them out of the metadata database keeps that database small and its backups fast.
 *
 * Layout: `<dir>/<aa>/<bb>/<name>`, where aa/bb are the first four hex digits of sha1(id) — 65,536
 * directories at most, so no directory grows past a few thousand entries at ten million events
 * — and `<name>` is the id, percent-encoded (dots too, so no name is `.`/`..` or starts with a dot).
 * Writes are atomic: a temporary dot-file in the same directory, renamed over the target; a reader
 * sees the old body or the new one, never half of one. The body's timestamp is the file's mtime.
 *
 * Left out: fsync. Like the SQLite database in synchronous=NORMAL mode, a body survives the
 * process being killed but may be lost if the machine itself crashes (docs/operations.md). The
 * `executor` argument is ignored: files are not part of a SQL transaction, and a body whose
 * transaction rolls back is left behind, harmless, and overwritten when the event is retried.
 */
import { createHash, randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { encodeNode, type NodeData } from '../codec.js';
import type { BodyDictionaries } from '../dictionaries.js';
import type { NodestoreBackend, NodestoreScan } from '../index.js';

/** How many files are read or written at once; enough to hide disk latency without running out of descriptors. */
const CONCURRENCY = 32;

async function eachLimited<T>(items: T[], fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, items.length) }, worker));
}

const isMissing = (err: unknown) => (err as NodeJS.ErrnoException).code === 'ENOENT';
const encodeName = (id: string) => encodeURIComponent(id).replace(/\./g, '%2E');
const decodeName = (name: string) => decodeURIComponent(name);

async function listSorted(dir: string): Promise<string[]> {
  try {
    return (await fs.readdir(dir)).filter((n) => !n.startsWith('.')).sort();
  } catch (err) {
    if (isMissing(err)) return [];
    throw err;
  }
}

export class FilesystemNodestoreBackend implements NodestoreBackend, NodestoreScan {
  readonly #dir: string;
  readonly #made = new Set<string>();

  readonly #dictionaries: BodyDictionaries;

  /** `dictionaries`: where bodies written with a dictionary (formats 3 and 4) find it, and bodies of format 4 the stack texts they refer to, in the database. */
  constructor(dir: string, dictionaries: BodyDictionaries) {
    this.#dir = path.resolve(dir);
    this.#dictionaries = dictionaries;
  }

  get dir(): string {
    return this.#dir;
  }

  #shard(id: string): string {
    const h = createHash('sha1').update(id).digest('hex');
    return path.join(this.#dir, h.slice(0, 2), h.slice(2, 4));
  }

  #file(id: string): string {
    return path.join(this.#shard(id), encodeName(id));
  }

  async get(id: string) {
    return (await this.getMulti([id])).get(id) ?? null;
  }

  async getMulti(ids: string[]) {
    const encoded = await this.getEncodedMulti(ids);
    const bodies = await this.#dictionaries.decode([...encoded.values()]);
    return new Map([...encoded.keys()].map((id, i) => [id, bodies[i]]));
  }

  async setMulti(items: { id: string; data: NodeData; timestamp: number }[]) {
    // The last write of an id in one call wins, as an upsert of the same batch would.
    const last = new Map(items.map((it) => [it.id, it]));
    await eachLimited([...last.values()], async (it) => {
      const shard = this.#shard(it.id);
      if (!this.#made.has(shard)) {
        await fs.mkdir(shard, { recursive: true });
        this.#made.add(shard);
      }
      const target = path.join(shard, encodeName(it.id));
      const tmp = path.join(shard, `.${randomBytes(6).toString('hex')}.tmp`);
      const body = encodeNode(it.data);
      try {
        await fs.writeFile(tmp, body).catch(async (err) => {
          // The shard directory was removed behind our back (an operator emptied the store): make it again.
          if (!isMissing(err)) throw err;
          await fs.mkdir(shard, { recursive: true });
          await fs.writeFile(tmp, body);
        });
        const t = new Date(it.timestamp);
        await fs.utimes(tmp, t, t);
        await fs.rename(tmp, target);
      } catch (err) {
        await fs.rm(tmp, { force: true });
        throw err;
      }
    });
  }

  async delete(ids: string[]) {
    await eachLimited(ids, async (id) => fs.rm(this.#file(id), { force: true }));
  }

  /** Walks shards in order; the cursor is `aa/bb/name` of the last id returned. */
  async scan(cursor: string | null, limit: number) {
    const [ca, cb, cn] = cursor ? cursor.split('/') : ['', '', ''];
    const items: { id: string; timestamp: number }[] = [];
    for (const a of await listSorted(this.#dir)) {
      if (a < ca) continue;
      for (const b of await listSorted(path.join(this.#dir, a))) {
        if (a === ca && b < cb) continue;
        for (const name of await listSorted(path.join(this.#dir, a, b))) {
          if (a === ca && b === cb && name <= cn) continue;
          let mtime: number;
          try {
            mtime = (await fs.stat(path.join(this.#dir, a, b, name))).mtimeMs;
          } catch (err) {
            if (isMissing(err)) continue; // deleted while we walked
            throw err;
          }
          items.push({ id: decodeName(name), timestamp: Math.round(mtime) });
          if (items.length === limit) return { items, next: `${a}/${b}/${name}` };
        }
      }
    }
    return { items, next: null };
  }

  async getEncodedMulti(ids: string[]) {
    const out = new Map<string, Buffer>();
    await eachLimited([...new Set(ids)], async (id) => {
      try {
        out.set(id, await fs.readFile(this.#file(id)));
      } catch (err) {
        if (!isMissing(err)) throw err;
      }
    });
    return out;
  }

  async count() {
    let n = 0;
    for (const a of await listSorted(this.#dir)) {
      for (const b of await listSorted(path.join(this.#dir, a))) n += (await listSorted(path.join(this.#dir, a, b))).length;
    }
    return n;
  }
}
