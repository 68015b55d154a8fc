/** normalizeEvent rule by rule, on small hand-made payloads. Sources are named per test. */
import { describe, expect, it } from 'vitest';
import { ProtocolError } from './errors.js';
import type { NormalizedEvent } from './event.js';
import { normalizeEvent } from './normalize.js';
import { formatParams } from './normalize-parts.js';
import { parseLevel, parseTimestamp } from './normalize-values.js';
import { parseUserAgent } from './user-agent.js';

const NOW = 1_795_391_384.5;
const norm = (raw: Record<string, unknown>, ctx: Partial<Parameters<typeof normalizeEvent>[1]> = {}) =>
  normalizeEvent(raw, { receivedAt: NOW, ...ctx });
const tag = (e: NormalizedEvent, key: string) => e.tags.find(([k]) => k === key)?.[1];

describe('event basics', () => {
  it('rejects non-objects with invalid_json', () => {
    for (const raw of [null, [], 'x', 3]) expect(() => normalizeEvent(raw, { receivedAt: NOW })).toThrow(ProtocolError);
  });

  it('event_id: envelope wins, dashed/upper normalized, invalid replaced and recorded', () => {
    expect(norm({ event_id: 'AB'.repeat(16) }).event_id).toBe('ab'.repeat(16));
    expect(norm({ event_id: 'a'.repeat(32) }, { eventId: 'B'.repeat(32) }).event_id).toBe('b'.repeat(32));
    const bad = norm({ event_id: 'nope' });
    expect(bad.event_id).toMatch(/^[0-9a-f]{32}$/);
    expect(bad.errors).toEqual([{ type: 'invalid_data', name: 'event_id', value: 'nope' }]);
    expect(norm({}).event_id).not.toBe(norm({}).event_id);
  });

  it('timestamp: numbers, RFC 3339 with offsets, future clamp (Relay max_secs_in_future = 60)', () => {
    expect(norm({ timestamp: '2026-11-22T23:49:44.5+01:00' }).timestamp).toBe(Date.UTC(2026, 10, 22, 22, 49, 44) / 1000 + 0.5);
    expect(norm({ timestamp: NOW - 10 }).timestamp).toBe(NOW - 10);
    const future = norm({ timestamp: NOW + 61 });
    expect(future.timestamp).toBe(NOW);
    expect(future.errors[0]).toMatchObject({ type: 'future_timestamp', name: 'timestamp' });
    expect(norm({ timestamp: NOW + 59 }).errors).toEqual([]);
    const garbage = norm({ timestamp: 'yesterday' });
    expect(garbage.timestamp).toBe(NOW);
    expect(garbage.errors[0]).toMatchObject({ type: 'invalid_data', name: 'timestamp' });
  });

  it('level: legacy names and Python numbers (Relay Level), unknown → error with an error recorded', () => {
    expect(['warn', 'critical', 'log', 40, '10', 'FATAL'].map(parseLevel)).toEqual(['warning', 'fatal', 'info', 'error', 'debug', 'fatal']);
    expect(norm({}).level).toBe('error');
    const bad = norm({ level: 'loud' });
    expect(bad.level).toBe('error');
    expect(bad.errors).toEqual([{ type: 'invalid_data', name: 'level', value: 'loud' }]);
  });

  it('platform: unknown → other (Relay VALID_PLATFORMS)', () => {
    expect(norm({ platform: 'python' }).platform).toBe('python');
    expect(norm({ platform: 'dart' }).platform).toBe('other');
    expect(norm({}).platform).toBe('other');
  });

  it('strings: trimmed, length-limited; bad releases/environments dropped with errors', () => {
    const e = norm({ release: ' 1.0 ', logger: 'x'.repeat(70), environment: 'a/b', dist: 'd'.repeat(65), server_name: 12 });
    expect(e.release).toBe('1.0');
    expect(e.logger).toBe(`${'x'.repeat(61)}...`);
    expect(e.environment).toBeUndefined();
    expect(e.dist).toBeUndefined();
    expect(e.server_name).toBe('12');
    expect(e.errors.map((x) => [x.type, x.name])).toEqual([
      ['value_too_long', 'logger'],
      ['value_too_long', 'dist'],
      ['invalid_data', 'environment'],
    ]);
    expect(norm({ release: 'latest' }).release).toBeUndefined();
  });

  it('type: transaction/feedback kept, else error with exception, csp from its interface, else default', () => {
    expect(norm({ type: 'transaction' }).type).toBe('transaction');
    expect(norm({ type: 'error' }).type).toBe('default');
    expect(norm({ exception: [{ type: 'E' }] }).type).toBe('error');
    expect(norm({ csp: { blocked_uri: 'x' } }).type).toBe('csp');
  });
});

describe('logentry', () => {
  it('formats message with params when formatted is missing (Relay logentry.rs)', () => {
    expect(norm({ logentry: { message: 'a %s b %d %%', params: ['x', 3] } }).logentry).toEqual({
      formatted: 'a x b 3 %',
      message: 'a %s b %d %%',
      params: ['x', 3],
    });
    expect(formatParams('%(who)s said', { who: 'me' })).toBe('me said');
    expect(formatParams('%s %s', ['only one'])).toBeUndefined();
  });

  it('caps formatted at 8192 characters', () => {
    const e = norm({ message: 'm'.repeat(9000) });
    expect(e.logentry?.formatted).toHaveLength(8192);
    expect(e.errors[0]).toMatchObject({ type: 'value_too_long', name: 'logentry.formatted' });
  });
});

describe('tags', () => {
  it('accepts objects and pairs, coerces values, drops invalid ones with errors (relay tags.rs)', () => {
    const e = norm({ tags: [['a', 1], ['b', true], ['k'.repeat(201), 'v'], ['c', 'x\ny'], ['d', { o: 1 }], 'junk', ['a', 'dup']] });
    expect(e.tags.slice(0, 2)).toEqual([['a', '1'], ['b', 'True']]);
    expect(e.errors.map((x) => [x.type, x.name])).toEqual([
      ['value_too_long', 'tags.2'],
      ['invalid_data', 'tags.3'],
      ['invalid_data', 'tags.4'],
      ['invalid_data', 'tags.5'],
    ]);
  });

  it('drops client release/user tags and moves an environment tag (Relay normalize_event_tags)', () => {
    const e = norm({ tags: { release: 'fake', user: 'fake', environment: 'staging', ok: 'yes' }, release: 'real' });
    expect(e.environment).toBe('staging');
    expect(Object.fromEntries(e.tags)).toEqual({ ok: 'yes', level: 'error', release: 'real', environment: 'staging' });
  });

  it('derives url, user and mechanism tags; client tags win over derived ones', () => {
    const e = norm({
      request: { url: 'https://ex.com/p?q=1' },
      user: { email: 'a@b.c' },
      exception: { values: [{ type: 'A', mechanism: { type: 'x', handled: true } }, { type: 'B', mechanism: { type: 'onerror', handled: false } }] },
      tags: { level: 'custom' },
    });
    expect(tag(e, 'url')).toBe('https://ex.com/p');
    expect(tag(e, 'user')).toBe('email:a@b.c');
    expect(tag(e, 'handled')).toBe('no');
    expect(tag(e, 'mechanism')).toBe('onerror');
    expect(tag(e, 'level')).toBe('custom');
  });
});

describe('exception, stack traces, threads', () => {
  it("trims an exception's value past 8,392 characters to 8,192 (Relay exception.rs: max_chars 8192, allowance 200)", () => {
    const e = norm({ exception: { values: [{ type: 'E', value: 'v'.repeat(8392) }, { type: 'F', value: 'w'.repeat(8393) }] } });
    expect(e.exception?.values[0].value).toHaveLength(8392);
    expect(e.exception?.values[1].value).toBe(`${'w'.repeat(8189)}...`);
    expect(e.errors).toEqual([expect.objectContaining({ type: 'value_too_long', name: 'exception.values.1.value' })]);
  });

  it('drops non-object frames and values without type or value, fixes line numbers', () => {
    const e = norm({
      exception: { values: [{ value: 'v', stacktrace: { frames: [1, { abs_path: 'https://x.io/a.js?v=1', lineno: 0, colno: 2.7, pre_context: [null, 'l'] }] } }, {}] },
    });
    expect(e.exception?.values).toHaveLength(1);
    expect(e.exception!.values[0].stacktrace!.frames).toEqual([
      { abs_path: 'https://x.io/a.js?v=1', filename: '/a.js', lineno: null, colno: 2, pre_context: ['', 'l'] },
    ]);
    expect(e.errors.map((x) => [x.type, x.name])).toEqual([
      ['invalid_data', 'exception.values.0.stacktrace.frames.0'],
      ['missing_attribute', 'exception.values.1'],
    ]);
  });

  it('names each bad frame and breadcrumb field at its path, and keeps clean values as sent', () => {
    const clean = { filename: 'a.js', function: 'f', lineno: 3, colno: 4, in_app: true, pre_context: ['x'], context_line: 'y', post_context: ['z'] };
    const e = norm({
      exception: {
        values: [
          {
            type: 'E',
            stacktrace: {
              frames: [
                { ...clean },
                { filename: 7, lineno: -1, colno: 'x', pre_context: 'no', post_context: [1, null, 'ok'], in_app: 'yes', function: '?' },
              ],
            },
          },
        ],
      },
      breadcrumbs: [
        { message: '  padded  ', category: 'c'.repeat(200), level: 'loud', timestamp: 'never', type: ' ', data: 5 },
        { message: 'plain', category: 'http', level: 'warn', timestamp: 1_700_000_000, type: 'http', data: { a: 1 } },
      ],
    });
    const [good, bad] = e.exception!.values[0].stacktrace!.frames;
    expect(good).toEqual({ ...clean, abs_path: 'a.js' });
    expect(bad).toEqual({ lineno: null, colno: null, post_context: ['1', '', 'ok'] });
    const [first, second] = e.breadcrumbs!.values;
    expect(first).toEqual({ message: 'padded', category: `${'c'.repeat(125)}...`, level: 'info', type: 'default' });
    expect(second).toEqual({ message: 'plain', category: 'http', level: 'warning', timestamp: 1_700_000_000, type: 'http', data: { a: 1 } });
    expect(e.errors.map((x) => [x.type, x.name])).toEqual([
      ['invalid_data', 'exception.values.0.stacktrace.frames.1.filename'],
      ['invalid_data', 'exception.values.0.stacktrace.frames.1.lineno'],
      ['invalid_data', 'exception.values.0.stacktrace.frames.1.colno'],
      ['invalid_data', 'exception.values.0.stacktrace.frames.1.pre_context'],
      ['invalid_data', 'exception.values.0.stacktrace.frames.1.in_app'],
      ['invalid_data', 'breadcrumbs.values.0.timestamp'],
      ['invalid_data', 'breadcrumbs.values.0.level'],
      ['value_too_long', 'breadcrumbs.values.0.category'],
      ['invalid_data', 'breadcrumbs.values.0.data'],
    ]);
  });

  it('moves a top-level stacktrace into the lone exception (Relay normalize_exceptions)', () => {
    const e = norm({ exception: { values: [{ type: 'E' }] }, stacktrace: { frames: [{ function: 'f' }] } });
    expect(e.exception!.values[0].stacktrace?.frames[0].function).toBe('f');
    expect('stacktrace' in e).toBe(false);
  });

  it('without exception, a top-level stacktrace becomes a thread', () => {
    const e = norm({ message: 'm', stacktrace: { frames: [{ function: 'f' }] } });
    expect(e.threads?.values[0].stacktrace?.frames[0].function).toBe('f');
  });

  it("moves the crashed thread's stack into a lone exception without one", () => {
    const e = norm({
      exception: [{ type: 'SIGSEGV' }],
      threads: [{ id: 1, stacktrace: { frames: [{ function: 'idle' }] } }, { id: 2, crashed: true, stacktrace: { frames: [{ function: 'boom' }] } }],
    });
    expect(e.exception!.values[0].stacktrace?.frames[0].function).toBe('boom');
    expect(e.threads!.values[1].stacktrace).toBeUndefined();
    expect(e.threads!.values[0].stacktrace?.frames[0].function).toBe('idle');
  });
});

describe('breadcrumbs', () => {
  it('keeps the newest 100, converts timestamps, defaults type and level', () => {
    const crumbs = Array.from({ length: 150 }, (_, i) => ({ message: `m${i}`, timestamp: '2026-11-22T23:49:44Z', level: 'warn' }));
    const e = norm({ breadcrumbs: { values: crumbs } });
    expect(e.breadcrumbs?.values).toHaveLength(100);
    expect(e.breadcrumbs!.values[0]).toEqual({ message: 'm50', timestamp: Date.UTC(2026, 10, 22, 23, 49, 44) / 1000, level: 'warning', type: 'default' });
  });
});

describe('request and user', () => {
  it('splits the query off the url, pairs headers/cookies, uppercases the method (relay request.rs)', () => {
    const e = norm({
      request: { url: 'https://ex.com/p?a=1&b=x%20y#frag', method: 'post', headers: { 'content-type': 'text/plain', Cookie: 's=1; t=2' } },
    });
    expect(e.request).toEqual({
      url: 'https://ex.com/p',
      method: 'POST',
      query_string: [['a', '1'], ['b', 'x y']],
      headers: [['Content-Type', 'text/plain'], ['Cookie', 's=1; t=2']],
      cookies: [['s', '1'], ['t', '2']],
    });
    expect(norm({ request: { method: 'lol what' } }).errors[0]).toMatchObject({ type: 'invalid_data', name: 'request.method' });
  });

  it('resolves IPs like Relay normalize_ip_addresses', () => {
    const ip = '198.51.100.1';
    expect(norm({ user: { ip_address: '{{auto}}' } }, { clientIp: ip }).user).toEqual({ ip_address: ip });
    expect(norm({ platform: 'python', request: { env: { REMOTE_ADDR: '10.1.2.3' } } }, { clientIp: ip }).user).toEqual({ ip_address: '10.1.2.3' });
    expect(norm({ platform: 'python' }, { clientIp: ip }).user).toBeUndefined();
    expect(norm({ platform: 'javascript' }, { clientIp: ip }).user).toEqual({ ip_address: ip });
    expect(norm({ platform: 'node', sdk: { settings: { infer_ip: 'auto' } } }, { clientIp: ip }).user).toEqual({ ip_address: ip });
    expect(norm({ platform: 'javascript', sdk: { settings: { infer_ip: 'never' } }, user: { ip_address: '{{auto}}', id: '1' } }, { clientIp: ip }).user).toEqual({ id: '1' });
    expect(norm({ user: { ip_address: 'not-an-ip' } }).errors[0]).toMatchObject({ type: 'invalid_data', name: 'user.ip_address' });
  });
});

describe('contexts', () => {
  it('defaults type to the key and drops non-objects', () => {
    const e = norm({ contexts: { gpu: { name: 'X' }, bad: 3, rt: { type: 'runtime', name: 'bun', version: '1' } } });
    expect(e.contexts).toEqual({ gpu: { name: 'X', type: 'gpu' }, rt: { type: 'runtime', name: 'bun', version: '1' } });
    expect(e.errors).toEqual([{ type: 'invalid_data', name: 'contexts.bad', value: 3 }]);
    expect(tag(e, 'rt')).toBe('bun 1');
  });

  it('bounds contexts as databags: nesting past 10 levels and strings past 16 KiB', () => {
    let deep: Record<string, unknown> = { leaf: 1 };
    for (let i = 0; i < 12; i++) deep = { d: deep };
    const e = norm({ contexts: { app: { nested: deep, long: 'x'.repeat(20_000), ok: 'y' }, os: { name: 'Linux' } } });
    const app = e.contexts?.app as Record<string, unknown>;
    expect(app.long).toBe(`${'x'.repeat(16 * 1024 - 3)}...`);
    expect(JSON.stringify(app.nested)).toContain('"{...}"');
    expect(e.contexts?.os).toEqual({ name: 'Linux', type: 'os' });
  });

  it('derives browser and os from the User-Agent; server platforms get client_os (Relay user_agent.rs)', () => {
    const ua = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) Gecko/20100101 Firefox/121.0';
    const e = norm({ platform: 'python', contexts: { os: { name: 'Linux' } } }, { userAgent: ua });
    expect(e.contexts?.browser).toEqual({ name: 'Firefox', version: '121.0', type: 'browser' });
    expect(e.contexts?.os).toEqual({ name: 'Linux', type: 'os' });
    expect(e.contexts?.client_os).toEqual({ name: 'Windows', version: '10', type: 'os' });
    expect(norm({}, { userAgent: 'sentry.python/1.9.10' }).contexts).toBeUndefined();
  });

  it('parses the common browsers', () => {
    expect(parseUserAgent('Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 Edg/120.0.2210.91')).toEqual({
      browser: { name: 'Edge', version: '120.0.2210' },
      os: { name: 'Windows', version: '10' },
    });
    expect(parseUserAgent('Mozilla/5.0 (iPhone; CPU iPhone OS 17_1_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1.2 Mobile/15E148 Safari/604.1')).toEqual({
      browser: { name: 'Mobile Safari', version: '17.1.2' },
      os: { name: 'iOS', version: '17.1.2' },
    });
    expect(parseUserAgent('Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.144 Mobile Safari/537.36')).toEqual({
      browser: { name: 'Chrome Mobile', version: '120.0.6099' },
      os: { name: 'Android', version: '14' },
    });
  });
});

describe('fingerprint, databags, hostile input', () => {
  it('coerces fingerprint entries like Relay fingerprint.rs', () => {
    const e = norm({ fingerprint: ['{{ default }}', 1.9, true, null, { x: 1 }] });
    expect(e.fingerprint).toEqual(['{{ default }}', '1', 'True']);
    expect(e.errors).toEqual([{ type: 'invalid_data', name: 'fingerprint.4', value: { x: 1 } }]);
  });

  it('caps nesting and long strings in extra and contexts', () => {
    let deep: Record<string, unknown> = { leaf: 1 };
    for (let i = 0; i < 50; i++) deep = { d: deep };
    const e = norm({ extra: { deep, big: 'x'.repeat(100_000) }, contexts: { c: deep } });
    let node: unknown = e.extra!.deep;
    let depth = 0;
    while (typeof node === 'object' && node !== null) {
      node = (node as Record<string, unknown>).d;
      depth += 1;
    }
    expect(depth).toBeLessThanOrEqual(10);
    expect(node).toBe('{...}');
    expect((e.extra!.big as string).length).toBe(16 * 1024);
    expect((e.extra!.big as string).endsWith('...')).toBe(true);
    expect(JSON.stringify(e.contexts).length).toBeLessThan(1000);
  });

  it('never throws on garbage fields', () => {
    const garbage = { exception: 5, threads: 'x', breadcrumbs: 7, request: [], user: 'u', contexts: 1, tags: 2, fingerprint: 'f', extra: 3, sdk: 4, modules: 5, logentry: 6, timestamp: {} };
    const e = norm(garbage);
    expect(e.errors.length).toBe(13);
    expect(e.type).toBe('default');
  });
});

describe('parseTimestamp', () => {
  it('reads the forms SDKs send', () => {
    expect(parseTimestamp('2018-07-24T14:53:50')).toBe(Date.UTC(2018, 6, 24, 14, 53, 50) / 1000);
    expect(parseTimestamp('2026-11-22T23:50:11.418550Z')).toBeCloseTo(Date.UTC(2026, 10, 22, 23, 50, 11) / 1000 + 0.41855, 6);
    expect(parseTimestamp('1700000000.25')).toBe(1700000000.25);
    expect(parseTimestamp('2026-13-01T00:00:00Z')).toBeUndefined();
    expect(parseTimestamp(-1)).toBeUndefined();
  });
});
