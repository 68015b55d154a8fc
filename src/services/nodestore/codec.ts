/**
 * The body format: one version byte, then the payload. Readers dispatch on the version byte, so
 * the format can change without a migration and old bodies stay readable.
 * - 2 (written now): JSON in one Zstandard frame at level 1. On SDK events it measured 2.5x
 *   faster than the deflate below and 10 % smaller (docs/decisions.md).
 * - 1: JSON compressed with raw deflate at level 3 (the first format).
 */
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { Compressor, Decompressor } from 'zstd-napi';

const V1_DEFLATE_JSON = 1;
const V2_ZSTD_JSON = 2;

// One context each per thread, reused: setting up a zstd context costs more than a small body.
let compressor: Compressor | undefined;
let decompressor: Decompressor | undefined;

/**
 * A body already encoded (`encodeNode`). The worker encodes an event while preparing its batch,
 * so neither the event's object tree nor its JSON text outlives the young generation (kept until
 * the batch is saved, they were copied into the old one).
 */
export class EncodedNode {
  constructor(readonly bytes: Buffer) {}
}

/** What a body is written from: a JSON-able object, or its encoded bytes. */
export type NodeData = Record<string, unknown> | EncodedNode;

export function encodeNode(data: NodeData): Buffer {
  if (data instanceof EncodedNode) return data.bytes;
  if (!compressor) {
    compressor = new Compressor();
    compressor.setParameters({ compressionLevel: 1 });
  }
  const body = compressor.compress(Buffer.from(JSON.stringify(data)));
  const out = Buffer.allocUnsafe(body.length + 1);
  out[0] = V2_ZSTD_JSON;
  body.copy(out, 1);
  return out;
}

/** The version 1 encoding; kept so tests can write bodies as earlier releases did. */
export function encodeNodeV1(data: Record<string, unknown>): Buffer {
  const body = deflateRawSync(Buffer.from(JSON.stringify(data)), { level: 3 });
  const out = Buffer.allocUnsafe(body.length + 1);
  out[0] = V1_DEFLATE_JSON;
  body.copy(out, 1);
  return out;
}

export function decodeNode(bytes: Buffer | Uint8Array): Record<string, unknown> {
  const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes);
  switch (buf[0]) {
    case V2_ZSTD_JSON:
      decompressor ??= new Decompressor();
      return JSON.parse(decompressor.decompress(buf.subarray(1)).toString('utf8'));
    case V1_DEFLATE_JSON:
      return JSON.parse(inflateRawSync(buf.subarray(1)).toString('utf8'));
    default:
      throw new Error(`nodestore: unknown body format ${buf[0]}`);
  }
}
