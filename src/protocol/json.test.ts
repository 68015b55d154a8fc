import { describe, expect, it } from 'vitest';
import { ProtocolError } from './errors.js';
import { parseJson, replaceNonFinite } from './json.js';

describe('parseJson', () => {
  it('parses strings and UTF-8 buffers, ignoring a BOM', () => {
    expect(parseJson('{"a":1}')).toEqual({ a: 1 });
    expect(parseJson(Buffer.from('\ufeff{"é":"ü"}'))).toEqual({ é: 'ü' });
  });

  it('throws invalid_json with the position', () => {
    try {
      parseJson('{"a":1,}');
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ProtocolError);
      expect(err).toMatchObject({ reason: 'invalid_json', status: 400 });
      expect((err as Error).message).toMatch(/position \d+|line \d+/);
    }
  });

  it('rejects Python non-finite tokens unless allowed (Relay store.rs patches them for Python clients)', () => {
    const text = '{"a": NaN, "b": [Infinity, -Infinity], "c": "NaN Infinity", "d": 1}';
    expect(() => parseJson(text)).toThrow(ProtocolError);
    expect(parseJson(text, { allowNonFinite: true })).toEqual({ a: null, b: [null, null], c: 'NaN Infinity', d: 1 });
  });

  it('still fails on JSON that is broken for other reasons', () => {
    expect(() => parseJson('{"a": NaN,', { allowNonFinite: true })).toThrow(/invalid JSON/);
  });
});

describe('replaceNonFinite', () => {
  it('leaves strings with escaped quotes and identifiers alone', () => {
    expect(replaceNonFinite('["x\\"NaN", NaN]')).toBe('["x\\"NaN", null]');
    expect(replaceNonFinite('{"k":NaNa}')).toBe('{"k":NaNa}');
    expect(replaceNonFinite('[1,-Infinity]')).toBe('[1,null]');
  });
});
