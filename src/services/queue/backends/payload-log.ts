/**
 * The embedded queue's payload bytes, outside SQLite: numbered segment files under
 * `<dataDir>/queue-log/`, appended to and read by offset. The task rows in queue.db say where each
 * payload is (segment, offset, length); the bytes never pass through SQLite's pages, its WAL and
 * its checkpoints, which copied every payload twice and checksummed it on the way (enqueue 40 →
 * 12–16 µs of CPU per 15 KB payload, ack 11 → 3 µs: docs/decisions.md).
 *
 * Appends happen inside queue.db's write transaction, at the position the `payload_log` row
 * holds, so writers in several threads or processes never overlap, and bytes written by a
 * transaction that rolled back are overwritten by the next one. A segment is deleted once no task
 * refers to it and a newer segment is being written (sqlite.ts).
 */
import { close, closeSync, constants, fdatasync, mkdirSync, open, openSync, readdirSync, readSync, unlink, writeSync, writevSync } from 'node:fs';
import path from 'node:path';

/** Where a payload is: `length` bytes at `offset` of segment `segment`. */
export interface PayloadRef {
  segment: number;
  offset: number;
  length: number;
}

export class PayloadLog {
  readonly #dir: string;
  /** Segments this process reads, opened read-only (never created by a read). */
  readonly #readFds = new Map<number, number>();
  /** Segments below this are deleted (by this process or another). */
  #lowest: number;
  /** A flush to the disk is under way (one at a time is enough). */
  #syncing = false;

  constructor(dataDir: string) {
    this.#dir = path.join(dataDir, 'queue-log');
    mkdirSync(this.#dir, { recursive: true });
    const segments = readdirSync(this.#dir)
      .map((f) => /^(\d+)\.log$/.exec(f)?.[1])
      .filter((s): s is string => s !== undefined)
      .map(Number);
    this.#lowest = segments.length ? Math.min(...segments) : Number.MAX_SAFE_INTEGER;
  }

  #file(segment: number): string {
    return path.join(this.#dir, `${String(segment).padStart(8, '0')}.log`);
  }

  #readFd(segment: number): number {
    let fd = this.#readFds.get(segment);
    if (fd === undefined) {
      fd = openSync(this.#file(segment), constants.O_RDONLY);
      this.#readFds.set(segment, fd);
      this.#lowest = Math.min(this.#lowest, segment);
    }
    return fd;
  }

  /**
   * Writes `payloads` one after another from `offset` of `segment`; throws if the disk refuses.
   * The file is opened for each group commit (a few µs): a descriptor kept open by a producer that
   * then falls idle would hold a deleted segment's space.
   */
  write(segment: number, offset: number, payloads: Buffer[]): void {
    // Positioned writes, not O_APPEND: the position comes from queue.db's write transaction.
    const fd = openSync(this.#file(segment), constants.O_WRONLY | constants.O_CREAT, 0o600);
    this.#lowest = Math.min(this.#lowest, segment);
    try {
      const total = payloads.reduce((n, p) => n + p.length, 0);
      const written = writevSync(fd, payloads, offset);
      // A short write (rare on a regular file): write the rest from where it stopped.
      if (written < total) {
        const rest = Buffer.concat(payloads).subarray(written);
        for (let at = 0; at < rest.length; ) at += writeSync(fd, rest, at, rest.length - at, offset + written + at);
      }
    } finally {
      closeSync(fd);
    }
  }

  /**
   * Reads payloads. Neighbours in one segment are read together (a batch of tasks is usually one
   * contiguous run). A payload cut short (the file lost its tail in a power failure) comes back
   * short, and its consumer fails to decode it: the task ends in the dead letters, not in a loop.
   */
  read(refs: PayloadRef[]): Buffer[] {
    const order = refs.map((_, i) => i).sort((a, b) => refs[a].segment - refs[b].segment || refs[a].offset - refs[b].offset);
    const out = new Array<Buffer>(refs.length);
    for (let i = 0; i < order.length; ) {
      const first = refs[order[i]];
      let end = first.offset + first.length;
      let j = i + 1;
      while (j < order.length && refs[order[j]].segment === first.segment && refs[order[j]].offset === end) end += refs[order[j++]].length;
      const buf = Buffer.allocUnsafe(end - first.offset);
      let got = 0;
      try {
        const fd = this.#readFd(first.segment);
        for (let n = 1; got < buf.length && n > 0; got += n) n = readSync(fd, buf, got, buf.length - got, first.offset + got);
      } catch {
        got = 0;
      }
      for (let k = i; k < j; k++) {
        const r = refs[order[k]];
        const from = r.offset - first.offset;
        out[order[k]] = buf.subarray(Math.min(from, got), Math.min(from + r.length, got));
      }
      i = j;
    }
    return out;
  }

  /**
   * Reads up to `length` bytes at `offset` of `segment` into the start of `into` (a buffer the
   * caller reuses); returns how many it got (fewer at the end of a file cut short, 0 if the
   * segment is gone).
   */
  readAt(segment: number, offset: number, length: number, into: Buffer): number {
    let got = 0;
    try {
      const fd = this.#readFd(segment);
      for (let n = 1; got < length && n > 0; got += n) n = readSync(fd, into, got, length - got, offset + got);
    } catch {
      got = 0;
    }
    return got;
  }

  /**
   * Flushes a segment's written bytes to the disk (an OS crash then loses at most what came after).
   * The flush and the deletes below wait on the disk, 5–10 ms each, so they run on libuv's threads:
   * on the consumer's thread they held the worker that long once a second (docs/decisions.md).
   */
  sync(segment: number): void {
    if (this.#syncing) return;
    this.#syncing = true;
    // A descriptor of its own, so that closing the read descriptors cannot pull it away mid-flush.
    open(this.#file(segment), constants.O_RDONLY, (err, fd) => {
      if (err) {
        // Deleted meanwhile: nothing left to flush.
        this.#syncing = false;
        return;
      }
      // A file system that cannot flush leaves nothing more to do either.
      fdatasync(fd, () => close(fd, () => (this.#syncing = false)));
    });
  }

  /** Deletes every segment below `segment` (none of them has a task left). */
  deleteBelow(segment: number): void {
    for (let s = this.#lowest; s < segment; s++) {
      const fd = this.#readFds.get(s);
      if (fd !== undefined) {
        closeSync(fd);
        this.#readFds.delete(s);
      }
      // An error means another process deleted it first.
      unlink(this.#file(s), () => {});
    }
    if (segment > this.#lowest) this.#lowest = segment;
  }

  close(): void {
    for (const fd of this.#readFds.values()) closeSync(fd);
    this.#readFds.clear();
  }
}
