/**
 * Request bodies the /api/0/ routes accept besides plain JSON: JSON compressed with
 * `Content-Encoding: gzip`, `deflate` or `zstd` (sentry-cli compresses some JSON bodies with
 * zstd, cli `src/api/encoding.rs`), and `multipart/form-data` (chunk and release-file uploads),
 * read into one buffer and split by `parseMultipart`.
 *
 * Size: Fastify counts the *decoded* bytes against the body limit, so a compression bomb stops at
 * the limit; the compressed length is reported as `receivedEncodedLength` for its
 * Content-Length check. Left out: brotli (sentry-cli never sends it) and streaming multipart.
 */
import { Transform, type Readable } from 'node:stream';
import { createGunzip, createInflate } from 'node:zlib';
import type { FastifyInstance } from 'fastify';
import { Decompress } from 'fzstd';
import { badRequest } from './errors.js';

class ZstdDecode extends Transform {
  readonly #d = new Decompress((chunk) => this.push(Buffer.from(chunk)));
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    try {
      this.#d.push(chunk);
      cb();
    } catch (err) {
      cb(err as Error);
    }
  }
  override _flush(cb: (err?: Error | null) => void): void {
    try {
      this.#d.push(new Uint8Array(0), true);
      cb();
    } catch (err) {
      cb(err as Error);
    }
  }
}

function decoderFor(encoding: string): Transform | null {
  if (encoding === 'gzip' || encoding === 'x-gzip') return createGunzip();
  if (encoding === 'deflate') return createInflate();
  if (encoding === 'zstd') return new ZstdDecode();
  return null;
}

export function registerBodyEncodings(app: FastifyInstance, multipartLimit: number): void {
  app.addHook('preParsing', async (request, _reply, payload) => {
    const encoding = String(request.headers['content-encoding'] ?? '').trim().toLowerCase();
    if (!encoding || encoding === 'identity') return payload;
    const decoder = decoderFor(encoding);
    if (!decoder) throw badRequest(`Unsupported Content-Encoding: ${encoding}`);
    let received = 0;
    const out = decoder as Transform & { receivedEncodedLength?: number };
    (payload as Readable).on('data', (c: Buffer) => {
      received += c.length;
      out.receivedEncodedLength = received;
    });
    decoder.on('error', (err: Error & { statusCode?: number }) => {
      err.statusCode = 400;
      err.message = `Could not decode the ${encoding} body: ${err.message}`;
    });
    (payload as Readable).pipe(decoder);
    return decoder;
  });
  app.addContentTypeParser('multipart/form-data', { parseAs: 'buffer', bodyLimit: multipartLimit }, (_req, body, done) => done(null, body));
}

export interface MultipartPart {
  name: string;
  filename: string | null;
  contentType: string | null;
  data: Buffer;
}

/** Splits a buffered multipart/form-data body (RFC 7578) into its parts. */
export function parseMultipart(contentType: string | undefined, body: unknown): MultipartPart[] {
  const m = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType ?? '');
  if (!m || !Buffer.isBuffer(body)) throw badRequest('Expected a multipart/form-data body.');
  const delimiter = Buffer.from(`--${m[1] ?? m[2]}`);
  const parts: MultipartPart[] = [];
  let pos = body.indexOf(delimiter);
  if (pos < 0) throw badRequest('Malformed multipart body (no boundary).');
  for (;;) {
    pos += delimiter.length;
    if (body[pos] === 0x2d && body[pos + 1] === 0x2d) break; // closing "--"
    if (body[pos] === 0x0d && body[pos + 1] === 0x0a) pos += 2;
    const headerEnd = body.indexOf('\r\n\r\n', pos);
    const next = body.indexOf(delimiter, pos);
    if (headerEnd < 0 || next < 0 || headerEnd > next) throw badRequest('Malformed multipart body.');
    const headers = body.subarray(pos, headerEnd).toString('utf8');
    let end = next;
    if (body[end - 2] === 0x0d && body[end - 1] === 0x0a) end -= 2;
    const disposition = /content-disposition:([^\r\n]*)/i.exec(headers)?.[1] ?? '';
    const name = /\bname="([^"]*)"/i.exec(disposition)?.[1] ?? /\bname=([^;\s]+)/i.exec(disposition)?.[1];
    const filename = /\bfilename="([^"]*)"/i.exec(disposition)?.[1] ?? null;
    if (name !== undefined) {
      parts.push({ name, filename, contentType: /content-type:\s*([^\r\n]*)/i.exec(headers)?.[1]?.trim() ?? null, data: body.subarray(headerEnd + 4, end) });
    }
    pos = next;
  }
  return parts;
}
