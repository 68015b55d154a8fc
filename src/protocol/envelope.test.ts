import { readdirSync, readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { itemCategory, itemCreatesIssueEvent, parseEnvelope, parseEnvelopeHeaders, serializeEnvelope } from './envelope.js';
import { ProtocolError } from './errors.js';
import { normalizeUuid } from './ids.js';

const FIXTURES = new URL('../../test/fixtures/', import.meta.url);
const payload = (name: string) => readFileSync(new URL(`payloads/${name}`, FIXTURES));

/** Every envelope request body in test/fixtures/captures (format: captures/README.md). */
function capturedEnvelopes(): { name: string; body: Buffer }[] {
  const out: { name: string; body: Buffer }[] = [];
  for (const file of readdirSync(new URL('captures/', FIXTURES)).filter((f) => f.endsWith('.jsonl'))) {
    for (const line of readFileSync(new URL(`captures/${file}`, FIXTURES), 'utf8').trim().split('\n')) {
      const r = JSON.parse(line);
      if (!/\/envelope\//.test(r.url)) continue;
      const raw = Buffer.from(r.rawBase64, 'base64');
      out.push({ name: `${file}#${r.seq}`, body: r.contentEncoding === 'gzip' ? gunzipSync(raw) : raw });
    }
  }
  return out;
}

function reason(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    if (err instanceof ProtocolError) return err.reason;
    throw err;
  }
  return undefined;
}

describe('parseEnvelope on the develop spec examples (payloads/README.md)', () => {
  it('two items: 10-byte attachment with BOM and CRLF, then a 41-byte event', () => {
    const env = parseEnvelope(payload('develop-envelope-two-items.bin'));
    expect(env.headers).toEqual({ event_id: '9ec79c33ec9942ab8353589fcb2e04dc', dsn: 'https://e12d836b15bb49d7bbf99e64295d995b:@sentry.io/42' });
    expect(env.items.map((i) => i.headers.type)).toEqual(['attachment', 'event']);
    expect(env.items[0].payload).toEqual(Buffer.from('\xef\xbb\xbfHello\r\n', 'latin1'));
    expect(env.items[0].headers).toMatchObject({ length: 10, filename: 'hello.txt', content_type: 'text/plain' });
    expect(env.items[1].payload.toString()).toBe('{"message":"hello world","level":"error"}');
  });

  it('two empty attachments without final newline', () => {
    const env = parseEnvelope(payload('develop-envelope-empty-attachments-no-final-newline.bin'));
    expect(env.items).toHaveLength(2);
    expect(env.items.every((i) => i.headers.type === 'attachment' && i.payload.length === 0)).toBe(true);
  });

  it('implicit length ending at EOF', () => {
    const env = parseEnvelope(payload('develop-envelope-implicit-length-eof.bin'));
    expect(env.headers).toEqual({});
    expect(env.items).toHaveLength(1);
    expect(JSON.parse(env.items[0].payload.toString())).toEqual({ started: '2020-02-07T14:16:00Z', attrs: { release: 'sentry-test@1.0.0' } });
  });

  it('non-event items without length', () => {
    const env = parseEnvelope(payload('develop-envelope-non-event-items.envelope'));
    expect(env.items.map((i) => i.headers.type)).toEqual(['session', 'sessions', 'client_report', 'check_in', 'user_report']);
    for (const item of env.items) expect(() => JSON.parse(item.payload.toString())).not.toThrow();
  });

  it("sentry-cli's fixture: dashed event_id normalized, event + transaction + session + attachment", () => {
    const env = parseEnvelope(payload('sentry-cli-fixture-envelope.dat'));
    expect(env.headers.event_id).toBe('22d00b3fd1b14b5d8d2049d138cd8a9c');
    expect(env.items.map((i) => [i.headers.type, i.payload.length])).toEqual([
      ['event', 74],
      ['transaction', 200],
      ['session', 222],
      ['attachment', 12],
    ]);
    expect(env.items[3].payload.toString()).toBe('some content');
  });
});

describe('parseEnvelope on every captured envelope body', () => {
  const bodies = capturedEnvelopes();
  it('found the captured envelopes', () => expect(bodies.length).toBeGreaterThanOrEqual(15));
  it.each(bodies.map((b) => [b.name, b.body] as const))('%s', (_name, body) => {
    const env = parseEnvelope(body);
    expect(env.items.length).toBeGreaterThan(0);
    for (const item of env.items) {
      if (item.headers.length !== undefined) expect(item.payload.length).toBe(item.headers.length);
      if (item.headers.type !== 'attachment') expect(() => JSON.parse(item.payload.toString())).not.toThrow();
    }
    // Byte for byte: re-serializing (with explicit lengths) and re-parsing gives the same items.
    const again = parseEnvelope(serializeEnvelope(env));
    expect(again.headers).toEqual(env.headers);
    expect(again.items.length).toBe(env.items.length);
    again.items.forEach((item, i) => expect(item.payload.equals(env.items[i].payload)).toBe(true));
  });

  it('node span v2 container item keeps its content_type and item_count (captures/node-transaction.jsonl)', () => {
    const span = bodies.find((b) => b.name === 'node-transaction.jsonl#0');
    const item = parseEnvelope(span!.body).items[0];
    expect(item.headers).toMatchObject({ type: 'span', content_type: 'application/vnd.sentry.items.span.v2+json' });
    expect(typeof item.headers.item_count).toBe('number');
  });
});

describe('parseEnvelope grammar edge cases (protocol.md §3.1)', () => {
  const b = (s: string) => Buffer.from(s, 'latin1');
  it('keeps \\r as part of an implicit-length payload', () => {
    expect(parseEnvelope(b('{}\n{"type":"x"}\nab\r\n')).items[0].payload.toString('latin1')).toBe('ab\r');
  });
  it('allows newlines inside a length-delimited payload', () => {
    expect(parseEnvelope(b('{}\n{"type":"attachment","length":5}\na\nb\nc\n')).items[0].payload.toString()).toBe('a\nb\nc');
  });
  it('tolerates trailing empty lines, header-only envelopes and an empty implicit payload at EOF', () => {
    expect(parseEnvelope(b('{}\n{"type":"event"}\n{}\n\n\n')).items).toHaveLength(1);
    expect(parseEnvelope(b('{"event_id":null}')).items).toHaveLength(0);
    expect(parseEnvelope(b('{}\n{"type":"session"}')).items[0].payload.length).toBe(0);
  });
  it('keeps unknown item types and header attributes', () => {
    const env = parseEnvelope(b('{"x":1}\n{"type":"future_thing","foo":[1]}\nzz'));
    expect(env.headers.x).toBe(1);
    expect(env.items[0].headers).toEqual({ type: 'future_thing', foo: [1] });
  });
  it.each([
    ['', 'empty'],
    ['not json\n', 'header'],
    ['[]\n', 'object'],
    ['{}\n{"length":1}\na', 'no type'],
    ['{}\n{"type":"a","length":5}\nab', 'truncated'],
    ['{}\n{"type":"a","length":1}\nabc', 'newline'],
    ['{}\n{"type":"a","length":-1}\n', 'length'],
    ['{}\n{"type":"a","length":"3"}\nabc', 'length'],
    ['{}\n\n{"type":"a"}\nx', 'empty line'],
    ['{"event_id":"nope"}\n', 'UUID'],
    ['{}\n{"type":"a","length":3}', 'truncated'],
  ])('rejects %j', (text, why) => {
    expect(reason(() => parseEnvelope(b(text)))).toBe('invalid_envelope');
    expect(() => parseEnvelope(b(text))).toThrow(why);
  });
});

describe('parseEnvelopeHeaders', () => {
  it('reads only the first line (tunnel dsn peek), even if the rest is garbage', () => {
    const body = Buffer.concat([payload('develop-envelope-two-items.bin').subarray(0, 118), Buffer.from('{garbage')]);
    expect(parseEnvelopeHeaders(body).dsn).toBe('https://e12d836b15bb49d7bbf99e64295d995b:@sentry.io/42');
  });
});

describe('serializeEnvelope', () => {
  it('writes explicit lengths so binary payloads survive', () => {
    const payloadBytes = Buffer.from([0, 10, 13, 10, 255]);
    const out = serializeEnvelope({ headers: { event_id: 'a'.repeat(32) }, items: [{ headers: { type: 'attachment' }, payload: payloadBytes }] });
    expect(out.toString('latin1')).toBe(`{"event_id":"${'a'.repeat(32)}"}\n{"type":"attachment","length":5}\n\u0000\n\r\n\u00ff\n`);
    expect(parseEnvelope(out).items[0].payload).toEqual(payloadBytes);
  });
});

describe('item tables', () => {
  it('maps item types to the SDK data categories (@sentry/core DATA_CATEGORY_OVERRIDES, protocol.md §3.4)', () => {
    expect(itemCategory('event')).toBe('error');
    expect(itemCategory('transaction')).toBe('transaction');
    expect(itemCategory('sessions')).toBe('session');
    expect(itemCategory('client_report')).toBe('internal');
    expect(itemCategory('check_in')).toBe('monitor');
    expect(itemCategory('log')).toBe('log_item');
    expect(itemCategory('replay_recording')).toBe('replay');
    expect(itemCategory('statsd')).toBe('metric_bucket');
    expect(itemCategory('span')).toBe('span');
  });
  it('only event items create issue events', () => {
    expect(itemCreatesIssueEvent('event')).toBe(true);
    for (const t of ['transaction', 'feedback', 'attachment', 'session', 'span']) expect(itemCreatesIssueEvent(t)).toBe(false);
  });
});

describe('normalizeUuid', () => {
  it('accepts 32-hex and dashed forms in any case', () => {
    expect(normalizeUuid('55778D32-6198-4AAB-B037-E81B51D507F6')).toBe('55778d3261984aabb037e81b51d507f6');
    expect(normalizeUuid('DF97BA769E924C62AF154083259D482C')).toBe('df97ba769e924c62af154083259d482c');
    expect(normalizeUuid('55778d32-6198-4aab-b037-e81b51d507f')).toBeNull();
    expect(normalizeUuid('{55778d32-6198-4aab-b037-e81b51d507f6}')).toBeNull();
    expect(normalizeUuid(42)).toBeNull();
  });
});
