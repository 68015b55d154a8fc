import { readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { brotliCompressSync, constants, createGzip, deflateRawSync, deflateSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { parseContentEncoding, readBody } from './decode.js';
import { ProtocolError } from './errors.js';

const MiB = 1024 * 1024;
const LIMITS = { maxCompressed: 20 * MiB, maxDecompressed: 10 * MiB };

async function reasonOf(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
  } catch (err) {
    if (err instanceof ProtocolError) return err.reason;
    throw err;
  }
  return undefined;
}

/** gzip of `total` zero bytes, built by streaming so the test never holds the plain bytes. */
async function gzipBomb(total: number): Promise<Buffer> {
  const gz = createGzip({ level: 9 });
  const chunks: Buffer[] = [];
  gz.on('data', (c: Buffer) => chunks.push(c));
  const done = new Promise((resolve) => gz.on('end', resolve));
  const zeros = Buffer.alloc(MiB);
  for (let written = 0; written < total; written += zeros.length) {
    if (!gz.write(zeros)) await new Promise((resolve) => gz.once('drain', resolve));
  }
  gz.end();
  await done;
  return Buffer.concat(chunks);
}

/** A zstd frame of RLE blocks (RFC 8878 §3.1.1.2): 4 bytes each expand to 128 KiB of zeros. */
function zstdBomb(blocks: number): Buffer {
  const header = Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x38]); // magic, no FCS, window 128 KiB
  const block = (last: boolean) => {
    const h = (last ? 1 : 0) | (1 << 1) | ((128 * 1024) << 3); // RLE block of 128 KiB
    return Buffer.from([h & 0xff, (h >> 8) & 0xff, (h >> 16) & 0xff, 0]);
  };
  return Buffer.concat([header, ...Array.from({ length: blocks }, (_, i) => block(i === blocks - 1))]);
}

/** A minimal zstd frame holding `text` in one raw block, with the content size declared. */
function zstdRaw(text: string): Buffer {
  const data = Buffer.from(text);
  const h = 1 | (0 << 1) | (data.length << 3); // last, raw block
  const fcs =
    data.length < 256
      ? Buffer.from([0x20, data.length]) // single segment, 1-byte content size
      : Buffer.from([0x60, (data.length - 256) & 0xff, (data.length - 256) >> 8]); // 2-byte size, minus 256
  return Buffer.concat([
    Buffer.from([0x28, 0xb5, 0x2f, 0xfd]),
    fcs,
    Buffer.from([h & 0xff, (h >> 8) & 0xff, (h >> 16) & 0xff]),
    data,
  ]);
}

describe('readBody: encodings (Relay HttpEncoding::parse)', () => {
  const text = '{"message":"hello"}'.repeat(50);
  const plain = Buffer.from(text);
  it.each([
    ['gzip', gzipSync(plain)],
    ['x-gzip', gzipSync(plain)],
    [' GZIP ', gzipSync(plain)],
    ['deflate', deflateSync(plain)],
    ['deflate', deflateRawSync(plain)], // raw deflate fallback
    ['br', brotliCompressSync(plain)],
    ['zstd', zstdRaw(text)],
    ['identity', plain],
    ['snappy-unknown', plain],
    [null, plain],
    ['br, gzip', gzipSync(brotliCompressSync(plain))],
  ])('%j', async (encoding, body) => {
    const out = await readBody(body, { ...LIMITS, contentEncoding: encoding });
    expect(out.toString()).toBe(text);
  });

  it('decodes the gzipped @sentry/node capture (captures/node-exception-large.jsonl)', async () => {
    const line = readFileSync(new URL('../../test/fixtures/captures/node-exception-large.jsonl', import.meta.url), 'utf8').trim().split('\n')[1];
    const r = JSON.parse(line);
    const chunks = Readable.from([Buffer.from(r.rawBase64, 'base64')]);
    const out = await readBody(chunks, { ...LIMITS, contentEncoding: r.contentEncoding });
    expect(out.length).toBe(r.decodedLength);
    expect(out.toString()).toBe(r.body);
  });

  it('decodes bodies larger than the one-call limit (1 MiB) on the stream, byte for byte', async () => {
    const big = Buffer.from(Array.from({ length: 120_000 }, (_, i) => `{"n":${i},"s":"${(i * 7919).toString(36)}"}`).join('\n'));
    expect(big.length).toBeGreaterThan(2 * MiB);
    for (const [encoding, body] of [['gzip', gzipSync(big)], ['deflate', deflateSync(big)], ['deflate', deflateRawSync(big)], ['br', brotliCompressSync(big)]] as const) {
      const out = await readBody(body, { maxCompressed: 20 * MiB, maxDecompressed: 10 * MiB, contentEncoding: encoding });
      expect(out.equals(big)).toBe(true);
    }
  });

  it('answers corrupt and truncated bodies, and bodies just over a small cap, with their reasons', async () => {
    const gz = gzipSync(plain);
    expect(await reasonOf(readBody(gz.subarray(0, gz.length - 9), { ...LIMITS, contentEncoding: 'gzip' }))).toBe('invalid_compression');
    expect(await reasonOf(readBody(Buffer.from('not deflate at all'), { ...LIMITS, contentEncoding: 'deflate' }))).toBe('invalid_compression');
    expect(await reasonOf(readBody(gz, { maxCompressed: MiB, maxDecompressed: plain.length - 1, contentEncoding: 'gzip' }))).toBe('too_large');
    expect((await readBody(gz, { maxCompressed: MiB, maxDecompressed: plain.length, contentEncoding: 'gzip' })).toString()).toBe(text);
  });

  it('parses comma lists last-applied first and drops identity/unknown', () => {
    expect(parseContentEncoding('gzip, br')).toEqual(['br', 'gzip']);
    expect(parseContentEncoding('identity, X-GZIP , foo')).toEqual(['gzip']);
    expect(parseContentEncoding('')).toEqual([]);
  });

  it('returns an empty body as an empty Buffer, even when it claims gzip', async () => {
    expect((await readBody(Readable.from([]), { ...LIMITS, contentEncoding: 'gzip' })).length).toBe(0);
  });

  it.each([
    ['gzip', Buffer.from('definitely not gzip')],
    ['gzip', gzipSync(Buffer.from('truncated body here')).subarray(0, 15)],
    ['br', Buffer.from([0xff, 0xff, 0xff, 0xff])],
    ['deflate', Buffer.from([0x78, 0x9c, 0xff, 0xff, 0xff])],
    ['zstd', Buffer.from('not zstd at all')],
  ])('corrupt %s → invalid_compression', async (encoding, body) => {
    expect(await reasonOf(readBody(body, { ...LIMITS, contentEncoding: encoding }))).toBe('invalid_compression');
  });
});

describe('readBody: size caps', () => {
  it('stops reading a chunked stream as soon as maxCompressed is passed', async () => {
    let pulled = 0;
    async function* endless() {
      for (;;) {
        pulled += 1;
        yield Buffer.alloc(64 * 1024, 1);
      }
    }
    const err = await readBody(endless(), { maxCompressed: MiB, maxDecompressed: 10 * MiB }).catch((e: unknown) => e);
    expect(err).toMatchObject({ reason: 'too_large', status: 413 });
    expect(pulled).toBe(17); // 16 chunks fit in 1 MiB, the 17th passes it
  });

  it('destroys a Node stream it stops reading', async () => {
    const stream = Readable.from((function* () { for (;;) yield Buffer.alloc(1024); })());
    expect(await reasonOf(readBody(stream, { maxCompressed: 10 * 1024, maxDecompressed: MiB }))).toBe('too_large');
    expect(stream.destroyed).toBe(true);
  });

  it('rejects a Node stream that fails or closes before its end (a client that hung up) instead of waiting', async () => {
    const failing = new Readable({ read() {} });
    failing.push(Buffer.from('{"par'));
    setTimeout(() => failing.destroy(new Error('socket hang up')), 5);
    await expect(readBody(failing, LIMITS)).rejects.toThrow('socket hang up');
    const closed = new Readable({ read() {} });
    closed.push(Buffer.from('{"par'));
    setTimeout(() => closed.destroy(), 5);
    await expect(readBody(closed, LIMITS)).rejects.toThrow(/ended before it was complete/);
    await expect(readBody(closed, LIMITS)).rejects.toThrow(/ended before it was complete/);
  });

  it('reads a Node stream in chunks, and one that already ended as empty', async () => {
    const chunks = ['{"a":', '1,"b"', ':[2]}'].map((c) => Buffer.from(c));
    expect((await readBody(Readable.from(chunks), LIMITS)).toString()).toBe('{"a":1,"b":[2]}');
    const ended = Readable.from([]);
    await readBody(ended, LIMITS);
    expect(ended.readableEnded).toBe(true);
    expect((await readBody(ended, LIMITS)).length).toBe(0);
  });

  it('applies maxCompressed to Buffers and maxDecompressed to identity bodies', async () => {
    expect(await reasonOf(readBody(Buffer.alloc(11), { maxCompressed: 10, maxDecompressed: 100 }))).toBe('too_large');
    expect(await reasonOf(readBody(Buffer.alloc(11), { maxCompressed: 100, maxDecompressed: 10 }))).toBe('too_large');
    expect((await readBody(Buffer.alloc(10), { maxCompressed: 10, maxDecompressed: 10 })).length).toBe(10);
  });

  it('a gzip bomb of 300 MB costs about maxDecompressed, not 300 MB', async () => {
    const bomb = await gzipBomb(300 * MiB);
    expect(bomb.length).toBeLessThan(400 * 1024);
    globalThis.gc?.();
    const before = process.memoryUsage();
    const started = performance.now();
    const err = await readBody(Readable.from([bomb]), { maxCompressed: MiB, maxDecompressed: 10 * MiB, contentEncoding: 'gzip' }).catch(
      (e: unknown) => e,
    );
    const after = process.memoryUsage();
    expect(err).toMatchObject({ reason: 'too_large', status: 413 });
    expect(after.arrayBuffers + after.external - (before.arrayBuffers + before.external)).toBeLessThan(64 * MiB);
    expect(after.rss - before.rss).toBeLessThan(128 * MiB);
    expect(performance.now() - started).toBeLessThan(5000);
  });

  it('a brotli bomb is stopped the same way', async () => {
    const bomb = brotliCompressSync(Buffer.alloc(64 * MiB), { params: { [constants.BROTLI_PARAM_QUALITY]: 1 } });
    expect(bomb.length).toBeLessThan(MiB);
    expect(await reasonOf(readBody(bomb, { maxCompressed: MiB, maxDecompressed: MiB, contentEncoding: 'br' }))).toBe('too_large');
  });

  it('a zstd bomb (10 GiB of RLE blocks in 320 KB) is stopped after maxDecompressed', async () => {
    const bomb = zstdBomb(80 * 1024);
    expect(bomb.length).toBeLessThan(400 * 1024);
    const before = process.memoryUsage();
    expect(await reasonOf(readBody(bomb, { maxCompressed: MiB, maxDecompressed: 10 * MiB, contentEncoding: 'zstd' }))).toBe('too_large');
    const after = process.memoryUsage();
    expect(after.arrayBuffers + after.external - (before.arrayBuffers + before.external)).toBeLessThan(64 * MiB);
  });

  it('refuses zstd frames declaring more content than allowed, before decoding', async () => {
    const frame = zstdRaw('x'.repeat(200));
    expect(await reasonOf(readBody(frame, { maxCompressed: MiB, maxDecompressed: 100, contentEncoding: 'zstd' }))).toBe('too_large');
  });

  it('refuses zstd windows above 128 MiB (zstd ZSTD_WINDOWLOG_LIMIT_DEFAULT)', async () => {
    const frame = Buffer.concat([Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x00, (20 << 3) | 0]), Buffer.alloc(16)]); // 1 GiB window
    expect(await reasonOf(readBody(frame, { maxCompressed: MiB, maxDecompressed: 300 * MiB, contentEncoding: 'zstd' }))).toBe('too_large');
  });
});
