/**
 * Data scrubbing rules, on normalized events (defaults from Sentry's data scrubber docs and Relay's
 * legacy config; which fields they reach from Relay's event schema, relay-event-schema
 * `protocol/*.rs` `metastructure(pii = ...)`, and relay-pii `convert.rs`).
 */
import { describe, expect, it } from 'vitest';
import { parseProjectOptions } from '../db/models/project-options.js';
import { normalizeEvent } from '../protocol/index.js';
import { DEFAULT_SENSITIVE_FIELDS, FILTERED, scrubEvent } from './scrub.js';

const opts = (o: Record<string, unknown> = {}) => parseProjectOptions(JSON.stringify(o));
const event = (raw: Record<string, unknown>) => normalizeEvent(raw, { receivedAt: Date.now() / 1000, clientIp: '203.0.113.9' });

describe('scrubEvent', () => {
  it('filters every default sensitive key name, wherever data sits, and records why in _meta', () => {
    const extra = Object.fromEntries(DEFAULT_SENSITIVE_FIELDS.map((f) => [`my_${f.toUpperCase()}`, 'hunter2']));
    const e = event({
      message: 'x',
      extra: { ...extra, harmless: 'keep me' },
      contexts: { database: { db_password: 'pw', host: 'db1' } },
      user: { id: '1', data: { api_token: 't' } },
      breadcrumbs: [{ message: 'm', data: { auth: 'a', path: '/x' } }],
      exception: { values: [{ type: 'E', value: 'v', mechanism: { type: 'generic', data: { secret: 's' } } }] },
    });
    scrubEvent(e, opts());
    for (const k of Object.keys(extra)) expect(e.extra![k], k).toBe(FILTERED);
    expect(e.extra!.harmless).toBe('keep me');
    // A context of a type Relay does not know is data throughout.
    expect(e.contexts!.database).toMatchObject({ db_password: FILTERED, host: 'db1' });
    expect((e.user!.data as any).api_token).toBe(FILTERED);
    expect(e.breadcrumbs!.values[0].data).toEqual({ auth: FILTERED, path: '/x' });
    expect((e.exception!.values[0].mechanism as any).data).toEqual({ secret: FILTERED });
    expect((e._meta as any).extra.my_PASSWORD['']).toEqual({ rem: [['@password:filter', 's']], len: 7 });
  });

  it('filters Luhn-valid card numbers inside values but leaves other long numbers', () => {
    const e = event({ message: 'x', extra: { note: 'paid with 4111 1111 1111 1111 order 1234567890123' }, breadcrumbs: [{ message: 'card 5500-0000-0000-0004' }] });
    scrubEvent(e, opts());
    expect(e.extra!.note).toBe(`paid with ${FILTERED} order 1234567890123`);
    expect(e.breadcrumbs!.values[0].message).toBe(`card ${FILTERED}`);
    expect((e._meta as any).extra.note[''].rem[0][0]).toBe('@creditcard:filter');
  });

  it("gives a log message only Relay's replace-only rules: emails, card numbers, IBANs, US SSNs, bearer tokens", () => {
    // relay-pii convert.rs: `$logentry.formatted` is out of the legacy rules, with REPLACE_ONLY_SELECTOR's rules instead.
    const e = event({
      message: 'paid with 4111 1111 1111 1111 for jane.doe+shop@mail.example.co.uk from DE89370400440532013000 (ssn 078-05-1120), password=letmein, Authorization: Bearer eyJhbGci.x',
    });
    scrubEvent(e, opts());
    expect(e.logentry!.formatted).toBe('paid with [creditcard] for [email] from [iban] (ssn [us-ssn]), password=letmein, Authorization: Bearer [token]');
    expect((e._meta as any).logentry.formatted[''].rem).toEqual([
      ['@email:replace', 's'], ['@creditcard:replace', 's'], ['@iban:replace', 's'], ['@usssn:replace', 's'], ['@bearer:replace', 's'],
    ]);
    // Not an email, card, IBAN or SSN: a version, an order number, a date.
    const plain = event({ message: 'v1.2.3 order 1234567890123 due 2026-12-07 at user@localhost' });
    scrubEvent(plain, opts());
    expect(plain.logentry!.formatted).toBe('v1.2.3 order 1234567890123 due 2026-12-07 at user@localhost');
    // A long message with no match is scanned in time linear in its length (bounded parts).
    const long = event({ message: `${'a.'.repeat(4000)}@` });
    scrubEvent(long, opts());
    expect(long.logentry!.formatted).toHaveLength(8001);
    // Its parameters are data.
    const params = event({ logentry: { message: 'paid with %s', params: ['4111 1111 1111 1111'] } });
    scrubEvent(params, opts());
    expect(params.logentry!.params).toEqual([FILTERED]);
  });

  it('scrubs and notes a value again in every event that repeats it, at its own place', () => {
    const o = opts();
    const crumb = () => ({ message: 'retry with api_key=abc123', data: { card: 'card 4111 1111 1111 1111' } });
    const stack = () => ({ values: [{ type: 'E', value: 'v', stacktrace: { frames: [{ function: 'pay', vars: { note: 'charge 4111 1111 1111 1111' } }] } }] });
    const first = event({ message: 'm', breadcrumbs: [crumb()], exception: stack() });
    const second = event({ message: 'm', breadcrumbs: [{ message: 'ok' }, crumb()], exception: stack() });
    scrubEvent(first, o);
    scrubEvent(second, o);
    for (const e of [first, second]) {
      expect((e.exception!.values[0].stacktrace!.frames[0].vars as any).note).toBe(`charge ${FILTERED}`);
      expect((e._meta as any).exception.values['0'].stacktrace.frames['0'].vars.note[''].rem).toEqual([['@creditcard:filter', 's']]);
    }
    for (const [e, i] of [[first, 0], [second, 1]] as const) {
      const b = e.breadcrumbs!.values[i];
      expect(b.message).toBe(`retry with api_key=${FILTERED}`);
      expect((b.data as any).card).toBe(`card ${FILTERED}`);
      const meta = (e._meta as any).breadcrumbs.values[String(i)];
      expect(meta.message['']).toEqual({ rem: [['@password:filter', 's']], len: crumb().message.length });
      expect(meta.data.card[''].rem).toEqual([['@creditcard:filter', 's']]);
    }
    expect(second.breadcrumbs!.values[0].message).toBe('ok');
    expect((second._meta as any).breadcrumbs.values['0']).toBeUndefined();
  });

  it('filters credentials in headers, cookies, query strings, bodies and the environment, never their names', () => {
    const e = event({
      request: {
        url: 'https://api.example.com/x?token=abc&page=2',
        headers: { Authorization: 'Bearer eyJhbGci', 'X-Request-Id': 'r1', 'User-Agent': 'Mozilla/5.0 token=1' },
        cookies: 'sessionid=s1; csrftoken=c1; XSRF-TOKEN=x1; theme=dark',
        data: { username: 'bob', password: 'pw' },
        env: { DATABASE_URL: 'postgres://app:s3cret@db/app' },
      },
    });
    scrubEvent(e, opts());
    const headers = Object.fromEntries(e.request!.headers!);
    expect(headers).toEqual({ Authorization: FILTERED, 'X-Request-Id': 'r1', 'User-Agent': 'Mozilla/5.0 token=1' });
    // Session and CSRF cookies by name (Relay's SENSITIVE_COOKIES), the rest by the key rules.
    expect(Object.fromEntries(e.request!.cookies!)).toEqual({ sessionid: FILTERED, csrftoken: FILTERED, 'XSRF-TOKEN': FILTERED, theme: 'dark' });
    const cookieMeta = (e._meta as any).request.cookies;
    expect(cookieMeta['0']['1']['']).toEqual({ rem: [['@anything:filter', 's']], len: 2 });
    expect(cookieMeta['1']['1'][''].rem).toEqual([['@password:filter', 's']]);
    const query = Object.fromEntries(e.request!.query_string as [string, string][]);
    expect(query).toEqual({ token: FILTERED, page: '2' });
    expect((e.request!.data as any).password).toBe(FILTERED);
    expect(e.request!.env!.DATABASE_URL).toBe(`postgres://app:${FILTERED}@db/app`);
    // A response context's cookies and headers, as an object, by the same rules.
    const r = event({ message: 'x', contexts: { response: { status_code: 401, cookies: { PHPSESSID: 'p', theme: 'dark' }, headers: { 'user-agent': 'x token=1', 'X-Auth': 'a' } } } });
    scrubEvent(r, opts());
    expect(r.contexts!.response).toMatchObject({ status_code: 401, cookies: { PHPSESSID: FILTERED, theme: 'dark' }, headers: { 'user-agent': 'x token=1', 'X-Auth': FILTERED } });
    expect((r._meta as any).contexts.response.cookies.PHPSESSID[''].rem).toEqual([['@anything:filter', 's']]);
  });

  it('scrubs frame variables, never code: locations, functions and source context', () => {
    const frame = {
      function: 'auth_token_check', filename: 'auth.py', module: 'billing.password_reset', vars: { api_key: 'k', n: 1 },
      pre_context: ['const password = input.password;'], context_line: 'charge("4111 1111 1111 1111");', post_context: ['}'],
    };
    const e = event({ exception: { values: [{ type: 'Error', value: 'boom', stacktrace: { frames: [frame] } }] } });
    scrubEvent(e, opts());
    const f = e.exception!.values[0].stacktrace!.frames[0];
    expect(f.vars).toEqual({ api_key: FILTERED, n: 1 });
    // Relay's Frame: source context and code locations are `pii = "false"` (filename and module "maybe").
    expect(f).toMatchObject({ function: 'auth_token_check', filename: 'auth.py', module: 'billing.password_reset', pre_context: frame.pre_context, context_line: frame.context_line });
    expect(Object.keys((e._meta as any).exception.values['0'].stacktrace.frames['0'])).toEqual(['vars']);
  });

  it("never scrubs what Relay's schema says is no one's data: ids, names, versions, types, tags, known contexts, exception values", () => {
    const ids = { trace_id: '4111111111111111aaaaaaaaaaaaaaaa', span_id: '4111111111111111', parent_span_id: '5500000000000004' };
    const e = event({
      level: 'error',
      exception: { values: [{ type: 'CardDeclined', value: 'card 4111 1111 1111 1111 declined, password=x', mechanism: { type: 'auth_token', handled: true } }] },
      breadcrumbs: [{ category: 'auth.token', type: 'http', level: 'info', message: 'ok' }],
      tags: { card: '4111 1111 1111 1111', auth_provider: 'github' },
      contexts: {
        trace: { ...ids, op: 'auth.password_reset', status: 'ok', data: { 'http.query': 'token=abc', retries: 2 } },
        os: { name: 'Linux', version: '6.1', build: '4111111111111111', secret_sauce: 'x' },
        runtime: { name: 'node', version: 'v20.20.2' },
        device: { model: 'x', device_unique_identifier: '4111 1111 1111 1111' },
        app: { app_version: '1.0', db_password: 'pw' },
      },
    });
    scrubEvent(e, opts());
    // A 16-digit span id passes the card check one time in about 18,000.
    expect(e.contexts!.trace).toMatchObject({ ...ids, op: 'auth.password_reset' });
    // ...but a trace's span data is data (SpanData's undeclared keys are `pii = "true"`).
    expect(e.contexts!.trace.data).toEqual({ 'http.query': `token=${FILTERED}`, retries: 2 });
    expect(e.contexts!.os).toMatchObject({ build: '4111111111111111', secret_sauce: 'x' });
    expect(e.contexts!.app).toMatchObject({ db_password: 'pw' });
    expect(e.contexts!.device.device_unique_identifier).toBe(FILTERED);
    expect(e.exception!.values[0].value).toBe('card 4111 1111 1111 1111 declined, password=x');
    expect(e.exception!.values[0].mechanism).toMatchObject({ type: 'auth_token' });
    expect(e.breadcrumbs!.values[0]).toMatchObject({ category: 'auth.token', type: 'http' });
    expect(e.tags).toEqual(expect.arrayContaining([['card', '4111 1111 1111 1111'], ['auth_provider', 'github']]));
    expect(Object.keys(e._meta as any)).toEqual(['contexts']);
    expect(Object.keys((e._meta as any).contexts)).toEqual(['trace', 'device']);
    expect(Object.keys((e._meta as any).contexts.trace)).toEqual(['data']);
  });

  it("filters Relay's whole-key defaults and dashed spellings, but not keys that merely contain them", () => {
    // relay-pii regexes.rs PASSWORD_KEY_REGEX: `api[-_]key`, `private[-_]key`, `^otp$`, `^two[-_]factor$`.
    const e = event({ message: 'x', extra: { otp: '123456', 'Two-Factor': 'x', two_factor: 'y', 'x-api-key': 'k', 'private-key': 'p', hotpath: 'keep', otp_length: 6 } });
    scrubEvent(e, opts());
    expect(e.extra).toEqual({ otp: FILTERED, 'Two-Factor': FILTERED, two_factor: FILTERED, 'x-api-key': FILTERED, 'private-key': FILTERED, hotpath: 'keep', otp_length: 6 });
    const noDefaults = event({ message: 'x', extra: { otp: '123456' } });
    scrubEvent(noDefaults, opts({ dataScrubberDefaults: false }));
    expect(noDefaults.extra).toEqual({ otp: '123456' });
  });

  it('honours safe fields, extra sensitive fields and switching the scrubber off', () => {
    const e = event({ message: 'x', extra: { auth_provider: 'github', customer_ssn: '123', password: 'p', note: '4111 1111 1111 1111' } });
    scrubEvent(e, opts({ safeFields: ['auth_provider', 'Note'], sensitiveFields: ['ssn'] }));
    expect(e.extra).toEqual({ auth_provider: 'github', customer_ssn: FILTERED, password: FILTERED, note: '4111 1111 1111 1111' });
    expect((e._meta as any).extra.customer_ssn[''].rem[0][0]).toBe('strip-fields');
    const off = event({ message: 'x', extra: { password: 'p' } });
    scrubEvent(off, opts({ dataScrubber: false }));
    expect(off.extra).toEqual({ password: 'p' });
  });

  it('removes IP addresses and IP-only users with scrubIPAddresses', () => {
    const e = event({
      platform: 'javascript', message: 'from 198.51.100.7', user: { ip_address: '{{auto}}' }, sdk: { name: 's', version: '1', client_ip: '198.51.100.8' },
      extra: { peer: 'from 198.51.100.7' }, tags: { peer: '198.51.100.7' },
    });
    expect(e.user?.ip_address).toBe('203.0.113.9');
    scrubEvent(e, opts({ scrubIPAddresses: true }));
    expect(e.user?.ip_address).toBeUndefined();
    expect(e.sdk?.client_ip).toBeUndefined();
    expect(e.tags.find(([k]) => k === 'user')).toBeUndefined();
    expect(e.extra!.peer).toBe('from [ip]');
    // IPv6 in full and compressed forms, as Relay's IPV6_REGEX finds them; not times of day or MAC addresses.
    const v6 = event({
      message: 'x',
      extra: {
        full: 'from 2001:0db8:85a3:0000:0000:8a2e:0370:7334 ok', short: 'peer [2001:db8::8a2e:370:7334]:443', loopback: 'via ::1', link: 'fe80::1%eth0',
        time: 'retried at 10:32:07', mac: 'nic 4a:00:04:10:9b:50',
      },
    });
    scrubEvent(v6, opts({ scrubIPAddresses: true }));
    expect(v6.extra).toEqual({ full: 'from [ip] ok', short: 'peer [[ip]]:443', loopback: 'via [ip]', link: '[ip]', time: 'retried at 10:32:07', mac: 'nic 4a:00:04:10:9b:50' });
    // Relay's `@ip:replace` goes with the legacy rules, which leave log messages and tags alone.
    expect(e.logentry!.formatted).toBe('from 198.51.100.7');
    expect(e.tags).toContainEqual(['peer', '198.51.100.7']);
  });
});
