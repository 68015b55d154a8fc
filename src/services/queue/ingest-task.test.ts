import { describe, expect, test } from 'vitest';
import { decodeIngestTask, encodeIngestTask, type IngestTask } from './ingest-task.js';

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

  test('still reads tasks queued in format 1 by an older version', () => {
    const v1 = Buffer.from(JSON.stringify(task));
    expect(decodeIngestTask(v1)).toEqual(task);
  });

  test('refuses versions it does not know', () => {
    expect(() => decodeIngestTask(Buffer.from(JSON.stringify({ ...task, v: 9 })))).toThrow(/version 9/);
    expect(() => decodeIngestTask(Buffer.from('{"v":3}\n{}'))).toThrow(/version 3/);
  });
});
