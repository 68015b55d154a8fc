/**
 * The body format: one version byte, then the payload. Readers dispatch on the version byte, so
 * the format can change without a migration and old bodies stay readable.
 * - 4 (written once a project has a dictionary, for events with a stack whose text is stored
 *   apart): the 6-byte dictionary id, a count byte, then per stack its place in the JSON (4 bytes:
 *   the byte offset it goes at) and its id (32 bytes: `body_stacks`, dictionaries.ts), then the
 *   rest of the JSON in one Zstandard frame made with the dictionary. Each stack's text (the JSON
 *   of its frames) is stored once per project instead of in every body.
 * - 3 (written once a project has a dictionary): the 6-byte id of a Zstandard dictionary
 *   (dictionaries.ts), then JSON in one Zstandard frame at level 1 made with that dictionary.
 *   Events of one application share most of their text (frames, source context, modules); a
 *   dictionary of it halved the bodies of the benchmark corpus and did not slow compression.
 * - 2 (written without a dictionary): JSON in one Zstandard frame at level 1. On SDK events it
 *   measured 2.5x faster than the deflate below and 10 % smaller (docs/decisions.md).
 * - 1: JSON compressed with raw deflate at level 3 (the first format).
 */
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { Compressor, Decompressor } from 'zstd-napi';

const V1_DEFLATE_JSON = 1;
const V2_ZSTD_JSON = 2;
const V3_ZSTD_DICT_JSON = 3;
const V4_ZSTD_DICT_STACKS_JSON = 4;
/** A stack's id in a body of format 4: a SHA-256 (raw; base64url in `body_stacks`). */
export const STACK_ID_BYTES = 32;
/** At most this many stacks of a body are stored apart (a count byte); the rest stay inline. */
export const MAX_STACKS = 255;
/** Dictionary ids are 48-bit: they fit a JS number and the 6 bytes after the version byte. */
const DICT_ID_BYTES = 6;

const NO_FRAMES = Buffer.from('[]');

// One context each per thread, reused: setting up a zstd context costs more than a small body.
let compressor: Compressor | undefined;
let decompressor: Decompressor | undefined;

/** A dictionary as the codec needs it: its id (written into each body) and its content. */
export interface BodyDictionary {
  id: number;
  data: Buffer;
}

/**
 * Contexts with a dictionary loaded, by dictionary id, least recently used first. A new context
 * costs about 0.3 ms and loading a 64 KB dictionary into one about 0.05 ms, so contexts are kept,
 * and past the bound the least recently used one is given the new dictionary instead of a new
 * context being made. A level-1 context with its dictionary holds about 220 KB.
 */
const dictCompressors = new Map<number, Compressor>();
const dictDecompressors = new Map<number, Decompressor>();
const COMPRESSORS = 32;
const DECOMPRESSORS = 16;

function withDictionary<T extends { loadDictionary(data: Uint8Array): void }>(map: Map<number, T>, bound: number, dict: BodyDictionary, make: () => T): T {
  let ctx = map.get(dict.id);
  if (ctx) {
    map.delete(dict.id);
  } else {
    const oldest = map.size >= bound ? (map.keys().next().value as number) : undefined;
    if (oldest !== undefined) {
      ctx = map.get(oldest)!;
      map.delete(oldest);
    } else {
      ctx = make();
    }
    ctx.loadDictionary(dict.data);
  }
  map.set(dict.id, ctx);
  return ctx;
}

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

/**
 * One Zstandard frame at level 1 made with a dictionary (bodies of format 3, and queued payloads:
 * services/queue/ingest-task.ts), through the kept contexts above.
 */
export function compressWithDictionary(bytes: Buffer, dictionary: BodyDictionary): Buffer {
  const ctx = withDictionary(dictCompressors, COMPRESSORS, dictionary, () => {
    const c = new Compressor();
    c.setParameters({ compressionLevel: 1 });
    return c;
  });
  return ctx.compress(bytes);
}

export function decompressWithDictionary(frame: Buffer, dictionary: BodyDictionary): Buffer {
  return withDictionary(dictDecompressors, DECOMPRESSORS, dictionary, () => new Decompressor()).decompress(frame);
}

/**
 * One buffer per thread that a body's JSON is written into before it is compressed, grown as
 * needed up to `SCRATCH_MAX` (larger bodies get a buffer of their own).
 */
let scratch = Buffer.allocUnsafe(64 * 1024);
const SCRATCH_MAX = 4 * 1024 * 1024;

/**
 * The UTF-8 bytes of `text`, or of its pieces one after another (save.ts `eventJsonParts`): written
 * piece by piece into the reused buffer, so the pieces are never joined into one string and no
 * buffer is made per body. Valid until the next call.
 */
function utf8(text: string | string[], ends?: number[]): Buffer {
  const pieces = typeof text === 'string' ? [text] : text;
  let most = 0;
  let splitsPair = false;
  for (const p of pieces) {
    most += p.length * 3; // UTF-8 takes at most 3 bytes per UTF-16 unit
    // A piece that ends between a surrogate pair's halves: each half alone would be written as U+FFFD.
    const last = p.charCodeAt(p.length - 1);
    if (last >= 0xd800 && last <= 0xdbff) splitsPair = true;
  }
  if (splitsPair || most > SCRATCH_MAX) {
    if (ends) for (let i = 0, at = 0; i < pieces.length; i++) ends.push((at += Buffer.byteLength(pieces[i])));
    return Buffer.from(pieces.join(''));
  }
  if (most > scratch.length) scratch = Buffer.allocUnsafe(Math.max(most, scratch.length * 2));
  let at = 0;
  for (const p of pieces) {
    at += scratch.write(p, at);
    ends?.push(at);
  }
  return scratch.subarray(0, at);
}

/**
 * Encodes a body; `text`, when given, is `data`'s JSON already written, whole or in pieces
 * (save.ts `eventJsonParts`).
 */
export function encodeNode(data: NodeData, dictionary?: BodyDictionary | null, text?: string | string[]): Buffer {
  if (data instanceof EncodedNode) return data.bytes;
  const json = utf8(text ?? JSON.stringify(data));
  if (dictionary) return framed(V3_ZSTD_DICT_JSON, compressWithDictionary(json, dictionary), dictionary.id);
  if (!compressor) {
    compressor = new Compressor();
    compressor.setParameters({ compressionLevel: 1 });
  }
  return framed(V2_ZSTD_JSON, compressor.compress(json));
}

/** A stack's kept text in an event's JSON in pieces (pipeline/save.ts `eventJsonParts`): its piece is left empty until `text` is called. */
export interface StackPiece {
  piece: number;
  hash: string;
  text: () => string;
}

/** `pieces` with the texts of `stacks` from index `from` on put in their places. */
export function withStackTexts(pieces: string[], stacks: StackPiece[], from = 0): string[] {
  for (let i = from; i < stacks.length; i++) pieces[stacks[i].piece] = stacks[i].text();
  return pieces;
}

/**
 * A body of format 4: `pieces` one after another are the event's JSON, except the pieces `stacks`
 * names, whose text is stored apart under the given id (dictionaries.ts) and only referred to.
 */
export function encodeNodeWithStacks(pieces: string[], stacks: { piece: number; id: Buffer }[], dictionary: BodyDictionary): Buffer {
  const apart = new Map(stacks.slice(0, MAX_STACKS).map((s) => [s.piece, s.id]));
  const rest: string[] = [];
  const places: { after: number; id: Buffer }[] = [];
  for (let i = 0; i < pieces.length; i++) {
    const id = apart.get(i);
    if (id) places.push({ after: rest.length, id }); // goes after that many pieces of the rest
    else rest.push(pieces[i]);
  }
  const ends: number[] = [];
  const frame = compressWithDictionary(utf8(rest, ends), dictionary);
  const head = 1 + DICT_ID_BYTES + 1 + places.length * (4 + STACK_ID_BYTES);
  const out = Buffer.allocUnsafe(head + frame.length);
  out[0] = V4_ZSTD_DICT_STACKS_JSON;
  out.writeUIntBE(dictionary.id, 1, DICT_ID_BYTES);
  out[1 + DICT_ID_BYTES] = places.length;
  let o = 2 + DICT_ID_BYTES;
  for (const p of places) {
    out.writeUInt32BE(p.after === 0 ? 0 : ends[p.after - 1], o);
    p.id.copy(out, o + 4);
    o += 4 + STACK_ID_BYTES;
  }
  frame.copy(out, head);
  return out;
}

/** The stacks a body of format 4 refers to: where each goes in its JSON, and its id (base64url). */
export function bodyStacks(bytes: Buffer | Uint8Array): { at: number; id: string }[] {
  if (bytes[0] !== V4_ZSTD_DICT_STACKS_JSON) return [];
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const count = buf[1 + DICT_ID_BYTES];
  const out: { at: number; id: string }[] = [];
  for (let i = 0, o = 2 + DICT_ID_BYTES; i < count; i++, o += 4 + STACK_ID_BYTES) {
    out.push({ at: buf.readUInt32BE(o), id: buf.toString('base64url', o + 4, o + 4 + STACK_ID_BYTES) });
  }
  return out;
}

/** A stack's text as `body_stacks` stores it: one Zstandard frame at level 1 (no dictionary: it is stored once). */
export function compressStackText(text: string): Buffer {
  if (!compressor) {
    compressor = new Compressor();
    compressor.setParameters({ compressionLevel: 1 });
  }
  return compressor.compress(utf8(text));
}

export function decompressStackText(data: Buffer): Buffer {
  decompressor ??= new Decompressor();
  return decompressor.decompress(data);
}

/** The version 1 encoding; kept so tests can write bodies as earlier releases did. */
export function encodeNodeV1(data: Record<string, unknown>): Buffer {
  return framed(V1_DEFLATE_JSON, deflateRawSync(Buffer.from(JSON.stringify(data)), { level: 3 }));
}

/** The version byte, the dictionary id (format 3), then the compressed JSON. */
function framed(version: number, body: Buffer, dictionaryId?: number): Buffer {
  const head = dictionaryId === undefined ? 1 : 1 + DICT_ID_BYTES;
  const out = Buffer.allocUnsafe(head + body.length);
  out[0] = version;
  if (dictionaryId !== undefined) out.writeUIntBE(dictionaryId, 1, DICT_ID_BYTES);
  body.copy(out, head);
  return out;
}

/** The id of the dictionary a body was compressed with, or null for a body without one. */
export function bodyDictionaryId(bytes: Buffer | Uint8Array): number | null {
  if ((bytes[0] !== V3_ZSTD_DICT_JSON && bytes[0] !== V4_ZSTD_DICT_STACKS_JSON) || bytes.length < 1 + DICT_ID_BYTES) return null;
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).readUIntBE(1, DICT_ID_BYTES);
}

/**
 * Decodes a body. `dictionary` looks up a dictionary's content by id; a body written with a
 * dictionary it does not know fails (the caller loads the ids `bodyDictionaryId` names first).
 * `stack` looks up a stack's text by id (format 4; `bodyStacks` names them); a stack no longer
 * stored reads as a stack without frames, so the rest of the event stays readable.
 */
export function decodeNode(bytes: Buffer | Uint8Array, dictionary?: (id: number) => Buffer | undefined, stack?: (id: string) => Buffer | undefined): Record<string, unknown> {
  const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes);
  switch (buf[0]) {
    case V4_ZSTD_DICT_STACKS_JSON: {
      const id = bodyDictionaryId(buf);
      const data = id === null ? undefined : dictionary?.(id);
      if (id === null || !data) throw new Error(`nodestore: body needs dictionary ${id ?? '(truncated)'}, which is not loaded`);
      const places = bodyStacks(buf);
      const rest = decompressWithDictionary(buf.subarray(2 + DICT_ID_BYTES + places.length * (4 + STACK_ID_BYTES)), { id, data });
      const parts: Buffer[] = [];
      let last = 0;
      for (const p of places) {
        parts.push(rest.subarray(last, p.at), stack?.(p.id) ?? NO_FRAMES);
        last = p.at;
      }
      parts.push(rest.subarray(last));
      return JSON.parse(Buffer.concat(parts).toString('utf8'));
    }
    case V3_ZSTD_DICT_JSON: {
      const id = bodyDictionaryId(buf);
      const data = id === null ? undefined : dictionary?.(id);
      if (id === null || !data) throw new Error(`nodestore: body needs dictionary ${id ?? '(truncated)'}, which is not loaded`);
      return JSON.parse(decompressWithDictionary(buf.subarray(1 + DICT_ID_BYTES), { id, data }).toString('utf8'));
    }
    case V2_ZSTD_JSON:
      decompressor ??= new Decompressor();
      return JSON.parse(decompressor.decompress(buf.subarray(1)).toString('utf8'));
    case V1_DEFLATE_JSON:
      return JSON.parse(inflateRawSync(buf.subarray(1)).toString('utf8'));
    default:
      throw new Error(`nodestore: unknown body format ${buf[0]}`);
  }
}
