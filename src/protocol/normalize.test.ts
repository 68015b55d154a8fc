/**
 * normalizeEvent on real payloads: every event in test/fixtures/captures and the legacy payloads
 * in test/fixtures/payloads. Each expectation names where it comes from.
 */
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { parseEnvelope } from './envelope.js';
import type { NormalizedEvent } from './event.js';
import { parseJson } from './json.js';
import { normalizeEvent } from './normalize.js';

const FIXTURES = new URL('../../test/fixtures/', import.meta.url);
const CLIENT_IP = '203.0.113.7';

/** The event of a capture file, normalized as ingest would: envelope event_id, receive time = capture ts. */
function capturedEvent(name: string): { event: NormalizedEvent; receivedAt: number } {
  const lines = readFileSync(new URL(`captures/${name}.jsonl`, FIXTURES), 'utf8').trim().split('\n');
  for (const line of lines) {
    const r = JSON.parse(line);
    const raw = Buffer.from(r.rawBase64, 'base64');
    const body = r.contentEncoding === 'gzip' ? gunzipSync(raw) : raw;
    const receivedAt = Date.parse(r.ts) / 1000;
    const ua = r.headers.find(([k]: [string]) => k.toLowerCase() === 'user-agent')?.[1];
    if (r.url.includes('/store/')) {
      return { event: normalizeEvent(parseJson(body, { allowNonFinite: true }), { receivedAt, clientIp: CLIENT_IP, userAgent: ua }), receivedAt };
    }
    const env = parseEnvelope(body);
    const item = env.items.find((i) => i.headers.type === 'event');
    if (item) {
      const event = normalizeEvent(parseJson(item.payload), { receivedAt, clientIp: CLIENT_IP, eventId: env.headers.event_id, userAgent: ua });
      return { event, receivedAt };
    }
  }
  throw new Error(`no event in ${name}`);
}

const payload = (name: string) => parseJson(readFileSync(new URL(`payloads/${name}`, FIXTURES)));
const tag = (e: NormalizedEvent, key: string) => e.tags.find(([k]) => k === key)?.[1];

describe('captures: @sentry/node 11.12', () => {
  it('node-exception: TypeError with user, tag, breadcrumb', () => {
    const { event } = capturedEvent('node-exception');
    expect(event.errors).toEqual([]);
    expect(event.event_id).toBe('df97ba769e924c62af154083259d482c');
    expect(event.type).toBe('error');
    expect(event.platform).toBe('node');
    expect(event.level).toBe('error');
    expect(event.timestamp).toBe(1795391384.353);
    expect(event.exception?.values).toHaveLength(1);
    const ex = event.exception!.values[0];
    expect(ex).toMatchObject({ type: 'TypeError', value: 'capture: cannot read properties of undefined', mechanism: { type: 'generic', handled: true } });
    expect(ex.stacktrace?.frames).toHaveLength(10);
    expect(ex.stacktrace?.frames.at(-1)).toMatchObject({ function: 'thrower', lineno: 19, colno: 41, in_app: true });
    expect(event.breadcrumbs?.values).toEqual([
      { timestamp: 1795391384.351, category: 'capture', message: 'about to throw', level: 'info', type: 'default' },
    ]);
    // Node sends no {{auto}} and no infer_ip: Relay's legacy rule gives server platforms no IP.
    expect(event.user).toEqual({ id: 'u1', email: 'u1@example.com' });
    expect(event.contexts?.os).toMatchObject({ name: 'Debian', type: 'os' });
    expect(event.contexts?.trace).toMatchObject({ trace_id: '7d8852f414de4deaa6315de040443340', type: 'trace' });
    expect(event.tags).toEqual([
      ['scenario', 'exception'],
      ['level', 'error'],
      ['release', 'capture-app@1.0.0'],
      ['environment', 'capture'],
      ['server_name', 'capture-host'],
      ['runtime', 'node v20.20.2'],
      ['runtime.name', 'node'],
      ['os', 'Debian 12.11'], // the SDK's version is "12.11\n"; tags are trimmed
      ['os.name', 'Debian'],
      ['handled', 'yes'],
      ['mechanism', 'generic'],
      ['user', 'id:u1'],
    ]);
    expect(event.modules?.['@sentry/node']).toBe('11.12.0');
    expect(event.sdk).toMatchObject({ name: 'sentry.javascript.node', version: '11.12.0' });
  });

  it('node-exception-large: the gzipped 45 KB event normalizes the same way', () => {
    const { event } = capturedEvent('node-exception-large');
    expect(event.errors).toEqual([]);
    expect(event.exception?.values[0]).toMatchObject({ type: 'TypeError', mechanism: { handled: true } });
    expect(tag(event, 'handled')).toBe('yes');
  });

  it('node-message: captureMessage with an exception lacking type (protocol.md §3.4)', () => {
    const { event } = capturedEvent('node-message');
    expect(event.errors).toEqual([]);
    expect(event.level).toBe('warning');
    expect(event.logentry).toEqual({ formatted: 'capture: hello from @sentry/node' });
    expect(event.type).toBe('error');
    // Relay normalize_exception: a missing type is split off "Word: rest" (TYPE_VALUE_RE).
    expect(event.exception?.values[0]).toMatchObject({ type: 'capture', value: 'hello from @sentry/node', mechanism: { synthetic: true } });
    expect(tag(event, 'level')).toBe('warning');
    // Moved to logentry: the event as stored (its JSON) has no `message` of its own.
    expect(JSON.parse(JSON.stringify(event))).not.toHaveProperty('message');
  });
});

describe('captures: sentry-python 1.9.10 (/store/)', () => {
  it('python-exception: ValueError, RFC 3339 timestamps with microseconds', () => {
    const { event } = capturedEvent('python-exception');
    expect(event.errors).toEqual([]);
    expect(event.event_id).toBe('46dc8de4fe194325b28916129f616c71');
    expect(event.platform).toBe('python');
    expect(event.timestamp).toBeCloseTo(Date.UTC(2026, 10, 22, 23, 50, 11) / 1000 + 0.41855, 6);
    expect(event.breadcrumbs?.values[0].timestamp).toBeCloseTo(Date.UTC(2026, 10, 22, 23, 50, 11) / 1000 + 0.418211, 6);
    const ex = event.exception!.values[0];
    expect(ex).toMatchObject({ type: 'ValueError', value: 'capture: python boom' });
    expect(ex.mechanism).toBeUndefined(); // sent as null
    expect(ex.stacktrace?.frames.at(-1)).toMatchObject({ function: 'thrower', lineno: 13, filename: 'py-scenario.py', vars: { n: '0' } });
    expect(tag(event, 'user')).toBe('id:u1');
    expect(tag(event, 'runtime')).toBe('CPython 3.11.2');
    expect(tag(event, 'handled')).toBeUndefined();
    expect(event.extra).toEqual({ 'sys.argv': ['py-scenario.py', 'exception'] });
  });

  it('python-message: plain message string becomes logentry.formatted', () => {
    const { event } = capturedEvent('python-message');
    expect(event.errors).toEqual([]);
    expect(event.type).toBe('default');
    expect(event.level).toBe('warning');
    expect(event.logentry).toEqual({ formatted: 'capture: hello from sentry-python' });
    expect(event.breadcrumbs).toEqual({ values: [] });
  });
});

describe('captures: sentry-cli send-event', () => {
  it('dashed envelope id wins, {{auto}} becomes the client IP, logentry.message is the text', () => {
    const { event, receivedAt } = capturedEvent('sentry-cli-send-event');
    expect(event.errors).toEqual([]);
    expect(event.event_id).toBe('55778d3261984aabb037e81b51d507f6');
    expect(event.platform).toBe('native');
    expect(event.timestamp).toBe(1795391435.0241182);
    expect(event.received).toBe(receivedAt);
    expect(event.user).toEqual({ ip_address: CLIENT_IP, username: 'root' });
    expect(event.logentry).toEqual({ formatted: 'capture: hello from sentry-cli send-event' });
    expect(event.type).toBe('default');
    // sentry interfaces/contexts.py: tags are named after the alias, mapped by type (rust: runtime).
    expect(tag(event, 'rust')).toBe('rustc 1.96.1');
    expect(tag(event, 'os')).toBe('Linux 6.18.44-fc-v669');
    expect(tag(event, 'user')).toBe('username:root'); // EventUser.tag_value: id, email, username, ip
  });
});

describe('payloads: legacy and CLI fixtures', () => {
  it('relay-legacy_js_exception.json: exception-level mechanism, URL filenames, UA contexts, legacy JS IP', () => {
    const event = normalizeEvent(payload('relay-legacy_js_exception.json'), { receivedAt: 1_700_000_000.5, clientIp: CLIENT_IP });
    expect(event.errors).toEqual([]);
    expect(event.timestamp).toBe(1_700_000_000.5); // no timestamp: receive time
    const ex = event.exception!.values[0];
    expect(ex.mechanism).toEqual({ handled: true, type: 'generic' });
    expect('mechanism' in event.exception!).toBe(false);
    // Sentry Frame.to_python / Relay: abs_path from filename, filename reduced to the URL path, "?" dropped.
    expect(ex.stacktrace?.frames[0]).toEqual({ colno: 3, filename: '/error.js', abs_path: 'http://localhost:5001/error.js', in_app: true, lineno: 14 });
    expect(event.request?.headers?.[0][0]).toBe('User-Agent');
    // Relay normalize_user_agent (uap-core names).
    expect(event.contexts?.browser).toEqual({ name: 'Chrome', version: '64.0.3282', type: 'browser' });
    expect(event.contexts?.os).toEqual({ name: 'Mac OS X', version: '10.12.6', type: 'os' });
    // Relay normalize_ip_addresses: platform javascript gets the connection IP without {{auto}}.
    expect(event.user).toEqual({ ip_address: CLIENT_IP });
    expect(event.trimHeadFrames).toBe(0); // unknown fields kept
    expect(Object.fromEntries(event.tags)).toEqual({
      git_commit: 'c0deb10c4',
      level: 'error',
      logger: 'javascript',
      transaction: 'http://localhost:5001/error.js',
      release: 'randomRelease',
      environment: 'development',
      url: 'http://localhost:5001/',
      browser: 'Chrome 64.0.3282',
      'browser.name': 'Chrome',
      os: 'Mac OS X 10.12.6',
      'os.name': 'Mac OS X',
      handled: 'yes',
      mechanism: 'generic',
      user: `ip:${CLIENT_IP}`,
    });
  });

  it('relay-legacy_node_promise.json: flat exception list, zone-less timestamp, null lineno, message string', () => {
    const ts = Date.UTC(2018, 6, 24, 14, 53, 50) / 1000;
    const event = normalizeEvent(payload('relay-legacy_node_promise.json'), { receivedAt: ts + 2, clientIp: CLIENT_IP });
    expect(event.errors).toEqual([]);
    expect(event.timestamp).toBe(ts); // "2018-07-24T14:53:50" read as UTC
    expect(event.exception?.values).toHaveLength(1);
    const frames = event.exception!.values[0].stacktrace!.frames;
    expect(frames).toHaveLength(11);
    expect(frames[9]).toEqual({ colno: null, filename: '', function: 'new Promise', in_app: false, lineno: null });
    expect(frames[10].pre_context).toHaveLength(7);
    expect(event.logentry).toEqual({ formatted: 'Error: promise rejection' });
    expect(event.user).toBeUndefined(); // node platform, no {{auto}}: no IP (Relay legacy rule)
    expect(event.request).toBeUndefined(); // {} carries nothing
    expect(event.breadcrumbs).toEqual({ values: [] });
    expect(tag(event, 'server_name')).toBe('Kamils-MacBook-Pro.local');
    expect(tag(event, 'git_commit')).toBe('c0deb10c4');
  });

  it('relay-legacy_node_promise.json received years later: past_timestamp, clamped (Relay normalize_timestamps)', () => {
    const event = normalizeEvent(payload('relay-legacy_node_promise.json'), { receivedAt: 1_800_000_000 });
    expect(event.timestamp).toBe(1_800_000_000);
    expect(event.errors).toEqual([{ type: 'past_timestamp', name: 'timestamp', value: '2018-07-24T14:53:50' }]);
  });

  it('sentry-cli-fixture-event.json: dashed event_id, debug level, dist', () => {
    const event = normalizeEvent(payload('sentry-cli-fixture-event.json'), { receivedAt: 1_700_000_000 });
    expect(event.errors).toEqual([]);
    expect(event.event_id).toBe('7c2cd07e4c0b474894dbd6b7fc632dab');
    expect(event.platform).toBe('other');
    expect(event.level).toBe('debug');
    expect(event.logentry).toEqual({ formatted: 'hello there' });
    expect(event.tags).toEqual([
      ['level', 'debug'],
      ['release', 'my-release'],
      ['dist', 'my-dist'],
      ['environment', 'production'],
    ]);
  });
});
