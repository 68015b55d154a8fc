import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { normalizeEvent } from '../../protocol/index.js';
import { codeParts } from '../nodestore/dictionaries.js';
import { decodeIngestTask, encodeIngestTask, encodeIngestTaskParts, TaskDictionaryMissing, type IngestTask } from './ingest-task.js';

// A real Node SDK event (Relay's legacy_node_promise fixture, test/fixtures/payloads/README.md).
const nodeEvent = readFileSync(new URL('../../../test/fixtures/payloads/relay-legacy_node_promise.json', import.meta.url), 'utf8');

const task: IngestTask = {
  v: 1,
  itemType: 'event',
  projectId: 7,
  keyId: 3,
  receivedAt: 1_700_000_000_000,
  clientIp: '127.0.0.1',
  userAgent: 'sentry.javascript.node/9.0.0',
  eventId: 'a'.repeat(32),
  client: null,
  // Newlines, quotes and multi-byte text in the payload must come back byte for byte.
  payload: '{"message":"line one\\nline \\"two\\"","extra":{"k":"ü — 日本"}}\n\n',
};

describe('ingest task format', () => {
  test('round-trips every field and the payload exactly', () => {
    const back = decodeIngestTask(encodeIngestTask(task));
    expect(back).toEqual({ ...task, v: 2 });
  });

  test('keeps the payload unescaped after one header line', () => {
    const buf = encodeIngestTask(task);
    const nl = buf.indexOf(0x0a);
    expect(buf.toString('utf8', nl + 1)).toBe(task.payload);
  });

  test('writes a payload given as the bytes received exactly as a string payload', () => {
    const bytes = Buffer.from(task.payload);
    const fromBytes = encodeIngestTask({ ...task, payload: bytes.subarray(0) });
    expect(fromBytes.equals(encodeIngestTask(task))).toBe(true);
    expect(decodeIngestTask(fromBytes).payload).toBe(task.payload);
  });

  test('gives the payload received as its own part, not copied, and the parts join to the task', () => {
    const bytes = Buffer.from(task.payload);
    const parts = encodeIngestTaskParts({ ...task, payload: bytes });
    expect(parts).toHaveLength(2);
    expect(parts[1]).toBe(bytes);
    expect(Buffer.concat(parts).equals(encodeIngestTask(task))).toBe(true);
    const packed = encodeIngestTaskParts({ ...task, payload: Buffer.from(nodeEvent) }, { compress: true });
    expect(decodeIngestTask(Buffer.concat(packed)).payload).toBe(nodeEvent);
  });

  test('still reads tasks queued in format 1 by an older version', () => {
    const v1 = Buffer.from(JSON.stringify(task));
    expect(decodeIngestTask(v1)).toEqual(task);
  });

  test('refuses versions it does not know', () => {
    expect(() => decodeIngestTask(Buffer.from(JSON.stringify({ ...task, v: 9 })))).toThrow(/version 9/);
    expect(() => decodeIngestTask(Buffer.from('{"v":4}\n{}'))).toThrow(/version 4/);
    // Format 3 without a codec it knows is not read as plain text.
    expect(() => decodeIngestTask(Buffer.from('{"v":3,"c":"lz4"}\n{}'))).toThrow(/version 3/);
  });
});

describe('compressed ingest tasks (format 3)', () => {
  const event = { ...task, payload: nodeEvent };

  test('round-trip an SDK event byte for byte in a fraction of the space', () => {
    const plain = encodeIngestTask(event);
    const packed = encodeIngestTask(event, { compress: true });
    expect(packed.length).toBeLessThan(plain.length / 2);
    expect(decodeIngestTask(packed)).toEqual({ ...event, v: 3 });
    // The same from the bytes received.
    expect(decodeIngestTask(encodeIngestTask({ ...event, payload: Buffer.from(nodeEvent) }, { compress: true })).payload).toBe(nodeEvent);
  });

  test('keep multi-byte text and newlines exact', () => {
    const payload = task.payload.repeat(200);
    expect(decodeIngestTask(encodeIngestTask({ ...task, payload }, { compress: true })).payload).toBe(payload);
  });

  test('leave small payloads uncompressed, in the format the previous release reads', () => {
    const buf = encodeIngestTask(task, { compress: true });
    expect(buf.equals(encodeIngestTask(task))).toBe(true);
    expect(decodeIngestTask(buf).v).toBe(2);
  });

  test('a frame cut short fails to decode instead of giving a partial payload', () => {
    const packed = encodeIngestTask(event, { compress: true });
    expect(() => decodeIngestTask(packed.subarray(0, packed.length - 20))).toThrow();
  });
});

describe('ingest tasks compressed with the project\'s body dictionary (format 4)', () => {
  const event = { ...task, payload: nodeEvent };
  // What a worker samples from the project's events: their code (frames, source context, runtime).
  const dictionary = { id: 0x1234_5678_9abc, data: Buffer.from(codeParts(normalizeEvent(JSON.parse(nodeEvent), { receivedAt: 1_700_000_000 }))) };
  const dictionaries = new Map([[dictionary.id, dictionary.data]]);

  test('round-trip an SDK event byte for byte, smaller than without the dictionary', () => {
    const packed = encodeIngestTask(event, { compress: true, dictionary });
    expect(packed.length).toBeLessThan(encodeIngestTask(event, { compress: true }).length * 0.7);
    expect(decodeIngestTask(packed, (id) => dictionaries.get(id))).toEqual({ ...event, v: 4 });
    const payload = task.payload.repeat(200);
    expect(decodeIngestTask(encodeIngestTask({ ...task, payload }, { compress: true, dictionary }), (id) => dictionaries.get(id)).payload).toBe(payload);
  });

  test('name the dictionary a reader lacks, so it can load it and read again', () => {
    const packed = encodeIngestTask(event, { compress: true, dictionary });
    let missing: unknown;
    try {
      decodeIngestTask(packed, () => undefined);
    } catch (err) {
      missing = err;
    }
    expect(missing).toBeInstanceOf(TaskDictionaryMissing);
    expect((missing as TaskDictionaryMissing).dictionaryId).toBe(dictionary.id);
    expect(() => decodeIngestTask(packed)).toThrow(/needs body dictionary 20015998343868/);
  });

  test('are written only when compressing, and small payloads stay uncompressed', () => {
    expect(decodeIngestTask(encodeIngestTask(event, { dictionary })).v).toBe(2);
    expect(decodeIngestTask(encodeIngestTask(task, { compress: true, dictionary })).v).toBe(2);
  });
});
