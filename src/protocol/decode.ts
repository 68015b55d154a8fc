/**
 * Reading a request body: the compressed-size cap while reading, then Content-Encoding decoding
 * with the decompressed-size cap enforced while decompressing.
 *
 * Encodings follow Relay's `HttpEncoding::parse` (relay `relay-config/src/config.rs`): `gzip` /
 * `x-gzip`, `deflate` (zlib-wrapped; like Relay's flate2 `ZlibDecoder` we also accept raw deflate,
 * which some HTTP clients send), `br`, `zstd`, and identity; matching is case-insensitive and
 * trimmed, unknown values mean identity. A comma list (`gzip, br`) is undone last-applied first.
 * Caps mirror Relay's size-limited decoder sink (protocol.md §2.5): reading stops as soon as the
 * compressed cap is passed, and decompression aborts as soon as its output passes the cap, so a
 * 10 MB gzip bomb costs at most `maxDecompressed` bytes of memory.
 * Left out: choosing the limits (config) and rejecting empty bodies (the caller's decision).
 */
import { Decompress as ZstdDecompress } from 'fzstd';
import { Readable, type Transform } from 'node:stream';
import {
  brotliDecompressSync,
  createBrotliDecompress,
  createGunzip,
  createInflate,
  createInflateRaw,
  gunzipSync,
  inflateRawSync,
  inflateSync,
} from 'node:zlib';
import { ProtocolError } from './errors.js';

/** Size limits for {@link readBody}, in bytes. */
export interface ReadBodyOptions {
  /** The raw `Content-Encoding` header value; absent, empty or unknown means identity. */
  contentEncoding?: string | null;
  /** Cap on the bytes read from the wire (compressed). */
  maxCompressed: number;
  /** Cap on the bytes after decompression (also applies to identity bodies). */
  maxDecompressed: number;
}

type Encoding = 'gzip' | 'deflate' | 'br' | 'zstd';

/**
 * zstd's reference decoder refuses frames with windows above 2^27 bytes unless told otherwise
 * (`ZSTD_WINDOWLOG_LIMIT_DEFAULT`); fzstd would allocate the whole window up front, so we refuse too.
 */
const ZSTD_MAX_WINDOW = 1 << 27;

function tooLarge(what: string, limit: number): ProtocolError {
  return new ProtocolError('too_large', `${what} exceeds the limit of ${limit} bytes`, 413);
}

function corrupt(encoding: string, err: unknown): ProtocolError {
  const detail = err instanceof Error ? err.message : String(err);
  return new ProtocolError('invalid_compression', `invalid ${encoding} body: ${detail}`, 400);
}

/**
 * Parses a `Content-Encoding` value into the decodings to apply, in order (last-applied first).
 * Identity and unknown tokens are dropped, as Relay treats them as identity.
 */
export function parseContentEncoding(value: string | null | undefined): Encoding[] {
  if (!value) return [];
  const out: Encoding[] = [];
  for (const token of value.split(',')) {
    const t = token.trim().toLowerCase();
    if (t === 'gzip' || t === 'x-gzip') out.push('gzip');
    else if (t === 'deflate') out.push('deflate');
    else if (t === 'br') out.push('br');
    else if (t === 'zstd') out.push('zstd');
  }
  return out.reverse();
}

/**
 * Reads a request body (a Node stream, any async iterable of chunks, or a whole Buffer) and
 * decodes its `Content-Encoding`.
 * @returns the decoded bytes; an empty Buffer for an empty body.
 * @throws ProtocolError `too_large` as soon as either cap is passed (reading stops; the
 *   iterator's `return()` is called, which destroys a Node stream), `invalid_compression` for
 *   corrupt or truncated compressed data.
 */
export async function readBody(
  source: AsyncIterable<Buffer | Uint8Array> | Buffer,
  opts: ReadBodyOptions,
): Promise<Buffer> {
  const raw = Buffer.isBuffer(source) ? source : source instanceof Readable ? await collectStream(source, opts.maxCompressed) : await collect(source, opts.maxCompressed);
  if (raw.length > opts.maxCompressed) throw tooLarge('request body', opts.maxCompressed);
  if (raw.length === 0) return raw;
  let body = raw;
  for (const encoding of parseContentEncoding(opts.contentEncoding)) {
    body = await decompress(body, encoding, opts.maxDecompressed);
  }
  if (body.length > opts.maxDecompressed) throw tooLarge('decompressed body', opts.maxDecompressed);
  return body;
}

async function collect(source: AsyncIterable<Buffer | Uint8Array>, max: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of source) {
    total += chunk.length;
    // Throwing inside for-await calls the iterator's return(): a Node stream is destroyed.
    if (total > max) throw tooLarge('request body', max);
    chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length));
  }
  return chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, total);
}

/**
 * `collect` for a Node stream (a request), on its events: a `for await` loop, with its promises
 * and stream bookkeeping, cost ingest about 3 µs more per request (docs/decisions.md). A stream that closes before its
 * end (a client that hung up) or fails rejects; one that passes `max` is destroyed, as the loop's
 * `return()` did.
 */
function collectStream(stream: Readable, max: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    let settled = false;
    const settle = (err: Error | null) => {
      if (settled) return;
      settled = true;
      stream.off('data', onData);
      stream.off('end', onEnd);
      stream.off('close', onClose);
      // The error listener stays: an error after this must not go unhandled.
      if (err) reject(err);
      else resolve(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, total));
    };
    const onData = (chunk: Buffer | string) => {
      const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      total += buf.length;
      if (total > max) {
        settle(tooLarge('request body', max));
        stream.destroy();
        return;
      }
      chunks.push(buf);
    };
    const onEnd = () => settle(null);
    const onError = (err: Error) => settle(err);
    const onClose = () => settle(new Error('the request body ended before it was complete'));
    stream.on('error', onError);
    // Already over: an ended stream emits nothing more, and neither does a destroyed one.
    if (stream.readableEnded) return settle(null);
    if (stream.destroyed) return settle(new Error('the request body ended before it was complete'));
    stream.on('data', onData);
    stream.on('end', onEnd);
    stream.on('close', onClose);
  });
}

/**
 * Bodies that decompress to at most this many bytes are decoded in one synchronous call (SDK
 * events are far smaller): a zlib stream per request cost about 280 µs of CPU for a 2 KB gzipped
 * event, the synchronous call about 35 µs. Larger outputs continue on the stream, off the event
 * loop, so one big or hostile body never blocks it for long.
 */
const SYNC_OUTPUT_LIMIT = 1024 * 1024;

/** Decompresses `input` with one encoding, aborting once the output passes `max` bytes. */
export function decompress(input: Buffer, encoding: Encoding, max: number): Promise<Buffer> {
  if (encoding === 'zstd') return Promise.resolve(zstd(input, max));
  try {
    // zlib stops as soon as the output passes maxOutputLength, so a bomb costs at most that.
    const maxOutputLength = Math.min(max, SYNC_OUTPUT_LIMIT);
    const out =
      encoding === 'gzip'
        ? gunzipSync(input, { maxOutputLength })
        : encoding === 'br'
          ? brotliDecompressSync(input, { maxOutputLength })
          : hasZlibHeader(input)
            ? inflateSync(input, { maxOutputLength })
            : inflateRawSync(input, { maxOutputLength });
    return Promise.resolve(out);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ERR_BUFFER_TOO_LARGE') return Promise.reject(corrupt(encoding, err));
    if (max <= SYNC_OUTPUT_LIMIT) return Promise.reject(tooLarge('decompressed body', max));
  }
  return inflateStream(zlibStream(input, encoding), input, encoding, max);
}

function zlibStream(input: Buffer, encoding: Exclude<Encoding, 'zstd'>): Transform {
  if (encoding === 'gzip') return createGunzip();
  if (encoding === 'br') return createBrotliDecompress();
  return hasZlibHeader(input) ? createInflate() : createInflateRaw();
}

/** RFC 1950 header: CM = 8 (deflate), CINFO ≤ 7, and the 16-bit header is a multiple of 31. */
function hasZlibHeader(b: Buffer): boolean {
  return b.length >= 2 && (b[0] & 0x0f) === 8 && b[0] >> 4 <= 7 && ((b[0] << 8) | b[1]) % 31 === 0;
}

function inflateStream(stream: Transform, input: Buffer, encoding: string, max: number): Promise<Buffer> {
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    let done = false;
    const fail = (err: ProtocolError) => {
      if (done) return;
      done = true;
      stream.destroy();
      reject(err);
    };
    stream.on('data', (chunk: Buffer) => {
      if (done) return;
      total += chunk.length;
      if (total > max) return fail(tooLarge('decompressed body', max));
      chunks.push(chunk);
    });
    stream.on('error', (err: Error) => fail(corrupt(encoding, err)));
    stream.on('end', () => {
      if (done) return;
      done = true;
      resolve(Buffer.concat(chunks, total));
    });
    // Feed in slices so a bomb is stopped after little work, not after inflating a whole buffer.
    const SLICE = 64 * 1024;
    let offset = 0;
    const pump = () => {
      while (!done && offset < input.length) {
        const slice = input.subarray(offset, offset + SLICE);
        offset += slice.length;
        if (!stream.write(slice)) return void stream.once('drain', pump);
      }
      if (!done) stream.end();
    };
    pump();
  });
}

function zstd(input: Buffer, max: number): Buffer {
  checkZstdHeader(input, max);
  const chunks: Buffer[] = [];
  let total = 0;
  const decoder = new ZstdDecompress((data) => {
    total += data.length;
    // Thrown from inside push(): fzstd stops decoding the remaining blocks.
    if (total > max) throw tooLarge('decompressed body', max);
    chunks.push(Buffer.from(data.buffer, data.byteOffset, data.length));
  });
  try {
    decoder.push(input, true);
  } catch (err) {
    if (err instanceof ProtocolError) throw err;
    throw corrupt('zstd', err);
  }
  return Buffer.concat(chunks, total);
}

/**
 * Checks the first frame header (RFC 8878 §3.1.1.1) before fzstd allocates its window: a declared
 * content size above `max` cannot fit, and windows above {@link ZSTD_MAX_WINDOW} are refused.
 */
function checkZstdHeader(b: Buffer, max: number): void {
  if (b.length < 6 || b.readUInt32LE(0) !== 0xfd2fb528) return; // fzstd reports the error
  const descriptor = b[4];
  const singleSegment = (descriptor >> 5) & 1;
  const fcsFlag = descriptor >> 6;
  const fcsBytes = fcsFlag === 0 ? singleSegment : [1, 2, 4, 8][fcsFlag];
  const at = 5 + (singleSegment ? 0 : 1) + [0, 1, 2, 4][descriptor & 3];
  if (b.length < at + fcsBytes) return;
  let contentSize: number | undefined;
  if (fcsBytes === 8) contentSize = Number(b.readBigUInt64LE(at));
  else if (fcsBytes > 0) contentSize = b.readUIntLE(at, fcsBytes) + (fcsBytes === 2 ? 256 : 0);
  if (contentSize !== undefined && contentSize > max) throw tooLarge('declared zstd content size', max);
  let window = contentSize ?? 0;
  if (!singleSegment) {
    const exponent = b[5] >> 3;
    const base = 2 ** (10 + exponent);
    window = base + (base / 8) * (b[5] & 7);
  }
  if (window > ZSTD_MAX_WINDOW) {
    throw new ProtocolError('too_large', `zstd window of ${window} bytes exceeds ${ZSTD_MAX_WINDOW}`, 413);
  }
}
