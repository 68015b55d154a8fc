/**
 * The body format: one version byte, then the payload. Version 1 is JSON compressed with raw
 * deflate at level 3, which measured about 5x smaller than plain JSON on SDK events while costing
 * little CPU; readers dispatch on the version byte so the format can change without a migration.
 */
import { deflateRawSync, inflateRawSync } from 'node:zlib';

const V1_DEFLATE_JSON = 1;

export function encodeNode(data: Record<string, unknown>): Buffer {
  const body = deflateRawSync(Buffer.from(JSON.stringify(data)), { level: 3 });
  const out = Buffer.allocUnsafe(body.length + 1);
  out[0] = V1_DEFLATE_JSON;
  body.copy(out, 1);
  return out;
}

export function decodeNode(bytes: Buffer | Uint8Array): Record<string, unknown> {
  const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes);
  if (buf[0] !== V1_DEFLATE_JSON) throw new Error(`nodestore: unknown body format ${buf[0]}`);
  return JSON.parse(inflateRawSync(buf.subarray(1)).toString('utf8'));
}
