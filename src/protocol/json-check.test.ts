import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { prng, seeds } from '../../test/helpers/fuzz.js';
import { ROOT } from '../../test/helpers/faultline.js';
import { buildCorpus } from '../bench/corpus.js';
import { parseEnvelope } from './envelope.js';
import { checkJson, framesSkipped } from './json-check.js';
import { parseJson, validateJson } from './json.js';
import { ProtocolError } from './errors.js';

/** What JSON.parse says of the bytes' UTF-8 text (after a BOM, as parseJson strips it). */
function reference(bytes: Buffer): string | null {
  let s = bytes.toString('utf8');
  if (s.charCodeAt(0) === 0xfeff) s = s.slice(1);
  let v: unknown;
  try {
    v = JSON.parse(s);
  } catch {
    return null;
  }
  if (Array.isArray(v)) return 'array';
  if (v === null || typeof v === 'boolean') return 'literal';
  return typeof v;
}

/** JSON documents from real clients: every JSON line of the captured requests, and the payload files. */
function documents(): Buffer[] {
  const docs: Buffer[] = [];
  for (const seed of seeds()) {
    if (seed.store) {
      docs.push(seed.body);
      continue;
    }
    try {
      for (const item of parseEnvelope(seed.body).items) docs.push(Buffer.from(item.payload));
    } catch {
      // Fixtures of broken envelopes: their lines still serve as documents below.
    }
    for (const line of seed.body.toString('latin1').split('\n')) if (line.startsWith('{')) docs.push(Buffer.from(line, 'latin1'));
  }
  const dir = path.join(ROOT, 'test/fixtures/payloads');
  for (const f of readdirSync(dir).filter((f) => f.endsWith('.json'))) docs.push(readFileSync(path.join(dir, f)));
  return docs;
}

const ALPHABET = ['{', '}', '[', ']', '"', ':', ',', ' ', '\n', '\\', 'u', '0', '1', '9', '-', '+', '.', 'e', 'E', 'a', 'true', 'false', 'null', '\u0001', '\u007f', '\u00e9', '\\u00', '\\"', '"k":', '1e5', 'NaN'];
const BYTES = [0x00, 0x09, 0x1f, 0x20, 0x22, 0x2c, 0x3a, 0x5b, 0x5c, 0x5d, 0x7b, 0x7d, 0x80, 0xbf, 0xc3, 0xe2, 0xef, 0xff];

/** A copy of `base` with one random change: cut short, a byte replaced or taken out, a token put in, or a bit flipped. */
function mutate(base: Buffer, rand: () => number): Buffer {
  let doc = Buffer.from(base);
  const pos = () => Math.floor(rand() * doc.length);
  switch (Math.floor(rand() * 5)) {
    case 0:
      return doc.subarray(0, pos());
    case 1:
      doc[pos()] = BYTES[Math.floor(rand() * BYTES.length)];
      return doc;
    case 2: {
      const at = pos();
      return Buffer.concat([doc.subarray(0, at), doc.subarray(at + 1)]);
    }
    case 3: {
      const at = pos();
      doc = Buffer.concat([doc.subarray(0, at), Buffer.from(ALPHABET[Math.floor(rand() * ALPHABET.length)]), doc.subarray(at)]);
      return doc;
    }
    default:
      doc[pos()] ^= 1 << Math.floor(rand() * 8);
      return doc;
  }
}

const agree = (bytes: Buffer) => expect({ doc: bytes.toString('latin1').slice(0, 200), kind: checkJson(bytes) }).toEqual({ doc: bytes.toString('latin1').slice(0, 200), kind: reference(bytes) });

describe('checkJson', () => {
  it('accepts every real client payload and every benchmark corpus event as objects', () => {
    const docs = documents();
    expect(docs.length).toBeGreaterThan(30);
    for (const d of docs) agree(d);
    for (const t of buildCorpus({ size: 50, issues: 50, gzipShare: 0, largeShare: 0.1 })) {
      const event = Buffer.from(t.text).toString().split('\n')[2];
      expect(checkJson(Buffer.from(event))).toBe('object');
    }
  });

  it('agrees with JSON.parse on the edges of the grammar', () => {
    const cases = [
      '', ' ', '{}', '[]', ' {} ', '{} {}', '{}x', '{,}', '{"a"}', '{"a":}', '{"a":1,}', '[1,]', '[,1]', '[1 2]', '{"a":1 "b":2}',
      '{"a" : 1 , "b" :[ true , false , null ]}', '"x"', '0', '-0', '01', '-', '1.', '.5', '1.5e', '1e+', '1E-7', '-1.25e+10', '2e308',
      'tru', 'true', 'nul', 'nulll', 'False', '"\\u12G4"', '"\\u00e9"', '"\\ud800"', '"\\x41"', '"\\/"', '"a\tb"', '"a\u007fb"',
      '"unterminated', '"esc at end\\', '"\\u12"', '\ufeff{}', '\ufeff', '{"a":[{"b":[{"c":[]}]}]}', '[[[]]]]', '[[[]]', '{"a":1}}',
      '\t\n\r {"k":"v"}\n', '\u00a0{}', '{}\u0000', 'NaN', '[Infinity]', '{"a":-Infinity}',
    ];
    for (const c of cases) agree(Buffer.from(c));
  });

  it('treats bytes of 0x80 and above as JSON.parse does after UTF-8 decoding', () => {
    const cases = [
      Buffer.from([0x22, 0xff, 0xfe, 0x22]), // broken UTF-8 inside a string: U+FFFD, still a string
      Buffer.from([0x22, 0xe2, 0x22]), // a truncated sequence does not swallow the closing quote
      Buffer.from([0x22, 0xe2, 0x82, 0x22]),
      Buffer.from([0x22, 0xf0, 0x9f, 0x98, 0x80, 0x22]), // an emoji
      Buffer.from([0x22, 0xed, 0xa0, 0x80, 0x22]), // an encoded surrogate
      Buffer.from([0x22, 0xc0, 0x5c, 0x22]), // an overlong lead byte before an escape that runs to the end
      Buffer.from([0x5b, 0x31, 0xc2, 0xa0, 0x5d]), // a no-break space between tokens
      Buffer.from([0x7b, 0x7d, 0xe2, 0x80, 0xa8]), // U+2028 after the document
      Buffer.from([0xef, 0xbb, 0x5b, 0x5d]), // half a BOM
    ];
    for (const c of cases) agree(c);
  });

  it('finds a quote, backslash or control byte at any offset of a string, however long', () => {
    // Strings are read several bytes a step: a stop byte must be seen wherever it falls in a step,
    // and a string may end with the buffer or run off it.
    const stops = ['"', '\\', '\\n', '\\u00e9', '\u0000', '\u001f', '\t', '\u00e9', '\\x'];
    for (let len = 0; len <= 20; len++) {
      for (let at = 0; at <= len; at++) {
        for (const stop of stops) {
          const text = 'a'.repeat(at) + stop + 'b'.repeat(len - at);
          agree(Buffer.from(`"${text}"`));
          agree(Buffer.from(`{"k${text}":1}`));
          agree(Buffer.from(`["${text}`));
        }
      }
    }
  });

  it('handles nesting deeper than its first stack', () => {
    for (const depth of [63, 64, 65, 1000, 100_000]) {
      agree(Buffer.from('['.repeat(depth) + ']'.repeat(depth)));
      agree(Buffer.from('['.repeat(depth) + ']'.repeat(depth - 1)));
      agree(Buffer.from('{"a":'.repeat(depth) + '1' + '}'.repeat(depth)));
    }
  });

  it('agrees with JSON.parse on 30,000 mutated client payloads and random token soups', () => {
    const rand = prng(20261206);
    const docs = documents();
    let valid = 0;
    for (let n = 0; n < 30_000; n++) {
      let doc: Buffer;
      if (n % 3 === 2) {
        let s = '';
        const len = 1 + Math.floor(rand() * 14);
        for (let k = 0; k < len; k++) s += ALPHABET[Math.floor(rand() * ALPHABET.length)];
        doc = Buffer.from(s);
      } else {
        doc = mutate(docs[Math.floor(rand() * docs.length)], rand);
      }
      const want = reference(doc);
      if (want !== null) valid++;
      if (checkJson(doc) !== want) agree(doc);
    }
    // Both outcomes must be well represented for the comparison to mean anything.
    expect(valid).toBeGreaterThan(3_000);
    expect(valid).toBeLessThan(27_000);
  });
});

describe('checkJson with a seed: frames checked before are skipped', () => {
  const withFrames = (frames: string, rest = '"level":"error"') => Buffer.from(`{"exception":{"values":[{"type":"E","stacktrace":{"frames":${frames}}}]},${rest}}`);
  // `}]` twice before the end: in a list of objects and in a string.
  const frames = '[{"function":"a","lineno":1,"data":{"x":[{"y":1}]}},{"function":"b","pre_context":["}]"],"in_app":true}]';

  it('skips a frames array sent again by the same project, and only then', () => {
    const before = framesSkipped.count;
    expect(checkJson(withFrames(frames), 101n)).toBe('object');
    expect(framesSkipped.count).toBe(before); // seen for the first time: checked
    expect(checkJson(withFrames(frames, '"level":"warning"'), 101n)).toBe('object');
    expect(framesSkipped.count).toBe(before + 1);
    expect(checkJson(withFrames(frames), 102n)).toBe('object'); // another project: checked
    expect(checkJson(withFrames(frames))).toBe('object'); // no seed: checked
    expect(framesSkipped.count).toBe(before + 1);
  });

  it('checks frames with local variables every time: they differ from event to event', () => {
    const withVars = frames.replace('"data"', '"vars"');
    expect(checkJson(withFrames(withVars), 104n)).toBe('object');
    const before = framesSkipped.count;
    expect(checkJson(withFrames(withVars), 104n)).toBe('object');
    expect(framesSkipped.count).toBe(before);
  });

  it('looks for checked frames in at most four times the bytes of a document, however many frames keys it has', () => {
    // Each array's first `}]` is the document's last: without a bound, each key would search and hash to the end.
    const hostile = Buffer.from(`{"a":[${'{"frames":[1]},'.repeat(20_000)}{}]}`);
    checkJson(withFrames(frames), 106n);
    const before = framesSkipped.examined;
    expect(checkJson(hostile, 106n)).toBe(reference(hostile));
    expect(framesSkipped.examined - before).toBeLessThanOrEqual(4 * hostile.length);
  });

  it('still finds what is broken around or inside frames checked before', () => {
    expect(checkJson(withFrames(frames), 103n)).toBe('object');
    const skipped = framesSkipped.count;
    expect(checkJson(withFrames(frames, '"level":}'), 103n)).toBeNull(); // after them
    expect(checkJson(Buffer.from(`{"frames":${frames}`), 103n)).toBeNull(); // not closed
    expect(checkJson(Buffer.from(`{"a":[1,}],"frames":${frames}}`), 103n)).toBeNull(); // before them
    expect(framesSkipped.count).toBeGreaterThan(skipped);
    expect(checkJson(withFrames(frames.replace('"b"', '"b\\x"')), 103n)).toBeNull(); // inside them
    expect(checkJson(withFrames(frames.slice(0, -1) + ',]'), 103n)).toBeNull();
    expect(checkJson(withFrames(`${frames.slice(0, -1)},{"function":"c"}]`), 103n)).toBe('object'); // longer
  });

  it('agrees with JSON.parse on 20,000 mutated client payloads whose frames were checked before', () => {
    const rand = prng(20261207);
    const docs = [...documents(), ...buildCorpus({ size: 30, issues: 30, gzipShare: 0, largeShare: 0 }).map((t) => Buffer.from(Buffer.from(t.text).toString().split('\n')[2]))];
    for (const d of docs) checkJson(d, 7n);
    const skipped = framesSkipped.count;
    let valid = 0;
    for (let n = 0; n < 20_000; n++) {
      const base = docs[Math.floor(rand() * docs.length)];
      // A quarter unchanged: their frames are skipped.
      const doc = rand() < 0.25 ? base : mutate(base, rand);
      const want = reference(doc);
      if (want !== null) valid++;
      if (checkJson(doc, 7n) !== want) expect({ doc: doc.toString('latin1').slice(0, 300), kind: checkJson(doc, 7n) }).toEqual({ doc: doc.toString('latin1').slice(0, 300), kind: want });
    }
    expect(valid).toBeGreaterThan(4_000);
    expect(framesSkipped.count - skipped).toBeGreaterThan(2_000);
  });
});

describe('validateJson', () => {
  it('names the top-level kind, as parseJson would build it', () => {
    expect(validateJson(Buffer.from('{"a":[1]}'))).toBe('object');
    expect(validateJson(Buffer.from('[{}]'))).toBe('array');
    expect(validateJson(Buffer.from('"s"'))).toBe('string');
    expect(validateJson(Buffer.from('null'))).toBe('literal');
  });

  it('accepts Python non-finite numbers only where parseJson does', () => {
    const doc = Buffer.from('{"a": NaN, "b": [Infinity, -Infinity]}');
    expect(validateJson(doc, { allowNonFinite: true })).toBe('object');
    expect(() => validateJson(doc)).toThrow(ProtocolError);
  });

  it("throws parseJson's invalid_json error, with its position", () => {
    const doc = Buffer.from('{"a":1,}');
    let expected: unknown;
    try {
      parseJson(doc);
    } catch (err) {
      expected = err;
    }
    expect(expected).toBeInstanceOf(ProtocolError);
    expect(() => validateJson(doc)).toThrow((expected as Error).message);
  });
});
