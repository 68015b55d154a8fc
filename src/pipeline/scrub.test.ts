/** Data scrubbing rules, on normalized events (defaults from Sentry's data scrubber docs and Relay's legacy config). */
import { describe, expect, it } from 'vitest';
import { parseProjectOptions } from '../db/models/project-options.js';
import { normalizeEvent } from '../protocol/index.js';
import { DEFAULT_SENSITIVE_FIELDS, FILTERED, scrubEvent } from './scrub.js';

const opts = (o: Record<string, unknown> = {}) => parseProjectOptions(JSON.stringify(o));
const event = (raw: Record<string, unknown>) => normalizeEvent(raw, { receivedAt: Date.now() / 1000, clientIp: '203.0.113.9' });

describe('scrubEvent', () => {
  it('filters every default sensitive key name, wherever it sits, and records why in _meta', () => {
    const extra = Object.fromEntries(DEFAULT_SENSITIVE_FIELDS.map((f) => [`my_${f.toUpperCase()}`, 'hunter2']));
    const e = event({ message: 'x', extra: { ...extra, harmless: 'keep me' }, contexts: { app: { db_password: 'pw' } } });
    scrubEvent(e, opts());
    for (const k of Object.keys(extra)) expect(e.extra![k], k).toBe(FILTERED);
    expect(e.extra!.harmless).toBe('keep me');
    expect((e.contexts!.app as any).db_password).toBe(FILTERED);
    expect((e._meta as any).extra.my_PASSWORD['']).toEqual({ rem: [['@password:filter', 's']], len: 7 });
  });

  it('filters Luhn-valid card numbers inside values but leaves other long numbers', () => {
    const e = event({ message: 'paid with 4111 1111 1111 1111 order 1234567890123', breadcrumbs: [{ message: 'card 5500-0000-0000-0004' }] });
    scrubEvent(e, opts());
    expect(e.logentry!.formatted).toBe(`paid with ${FILTERED} order 1234567890123`);
    expect(e.breadcrumbs!.values[0].message).toBe(`card ${FILTERED}`);
    expect((e._meta as any).logentry.formatted[''].rem[0][0]).toBe('@creditcard:filter');
  });

  it('scrubs and notes a value again in every event that repeats it, at its own place', () => {
    const o = opts();
    const crumb = () => ({ message: 'retry with api_key=abc123', category: 'card 4111 1111 1111 1111' });
    const stack = () => ({ values: [{ type: 'E', stacktrace: { frames: [{ function: 'pay', context_line: 'charge("4111 1111 1111 1111")', pre_context: ['ok()'] }] } }] });
    const first = event({ message: 'm', breadcrumbs: [crumb()], exception: stack() });
    const second = event({ message: 'm', breadcrumbs: [{ message: 'ok' }, crumb()], exception: stack() });
    scrubEvent(first, o);
    scrubEvent(second, o);
    for (const e of [first, second]) {
      expect(e.exception!.values[0].stacktrace!.frames[0].context_line).toBe(`charge("${FILTERED}")`);
      expect((e._meta as any).exception.values['0'].stacktrace.frames['0'].context_line[''].rem).toEqual([['@creditcard:filter', 's']]);
    }
    for (const [e, i] of [[first, 0], [second, 1]] as const) {
      const b = e.breadcrumbs!.values[i];
      expect(b.message).toBe(`retry with api_key=${FILTERED}`);
      expect(b.category).toBe(`card ${FILTERED}`);
      const meta = (e._meta as any).breadcrumbs.values[String(i)];
      expect(meta.message['']).toEqual({ rem: [['@password:filter', 's']], len: crumb().message.length });
      expect(meta.category[''].rem).toEqual([['@creditcard:filter', 's']]);
    }
    expect(second.breadcrumbs!.values[0].message).toBe('ok');
    expect((second._meta as any).breadcrumbs.values['0']).toBeUndefined();
  });

  it('filters credentials in headers, cookies, query strings, URLs and free text', () => {
    const e = event({
      message: 'login failed: password=letmein user=bob',
      request: {
        url: 'https://api.example.com/x?token=abc&page=2',
        headers: { Authorization: 'Bearer eyJhbGci', 'X-Request-Id': 'r1' },
        cookies: 'sessionid=s1; csrftoken=c1',
        data: { username: 'bob', password: 'pw' },
        env: { DATABASE_URL: 'postgres://app:s3cret@db/app' },
      },
    });
    scrubEvent(e, opts());
    const headers = Object.fromEntries(e.request!.headers!);
    expect(headers.Authorization).toBe(FILTERED);
    expect(headers['X-Request-Id']).toBe('r1');
    const cookies = Object.fromEntries(e.request!.cookies!);
    expect(cookies.csrftoken).toBe(FILTERED);
    const query = Object.fromEntries(e.request!.query_string as [string, string][]);
    expect(query).toEqual({ token: FILTERED, page: '2' });
    expect((e.request!.data as any).password).toBe(FILTERED);
    expect(e.request!.env!.DATABASE_URL).toBe(`postgres://app:${FILTERED}@db/app`);
    expect(e.logentry!.formatted).toBe(`login failed: password=${FILTERED} user=bob`);
  });

  it('scrubs frame variables but not code locations', () => {
    const e = event({
      exception: { values: [{ type: 'Error', value: 'boom', stacktrace: { frames: [{ function: 'auth_token_check', filename: 'auth.py', vars: { api_key: 'k', n: 1 } }] } }] },
    });
    scrubEvent(e, opts());
    const f = e.exception!.values[0].stacktrace!.frames[0];
    expect(f.function).toBe('auth_token_check');
    expect(f.filename).toBe('auth.py');
    expect(f.vars).toEqual({ api_key: FILTERED, n: 1 });
  });

  it('scrubs card numbers and credentials in source context but keeps code, also in a frame whose lines were clean before', () => {
    const o = opts(); // one project: its scrubber remembers source lines between events
    const frame = (pre1: string, line = 'charge(order.card);') => ({
      function: 'pay', filename: 'pay.js', lineno: 3,
      pre_context: ['const password = input.password;', pre1], context_line: line, post_context: ['}'],
    });
    const scrubbed = (f: Record<string, unknown>) => {
      const e = event({ exception: { values: [{ type: 'Error', value: 'declined', stacktrace: { frames: [f] } }] } });
      scrubEvent(e, o);
      const out = e.exception!.values[0].stacktrace!.frames[0];
      return { pre: out.pre_context, line: out.context_line, meta: (e._meta as any)?.exception?.values?.['0']?.stacktrace?.frames?.['0'] };
    };
    // A later step (source maps) rewrites the lines of an event already scrubbed: what the
    // scrubber remembered as clean must not change with them.
    const first = event({ exception: { values: [{ type: 'Error', value: 'declined', stacktrace: { frames: [frame('const x = 0;', 'mapped();')] } }] } });
    scrubEvent(first, o);
    first.exception!.values[0].stacktrace!.frames[0].pre_context![1] = 'const card = "4111 1111 1111 1111";';
    expect(scrubbed(frame('const card = "4111 1111 1111 1111";', 'mapped();')).pre![1]).toBe(`const card = "${FILTERED}";`);

    const clean = scrubbed(frame('const total = 1;'));
    expect(clean.pre).toEqual(['const password = input.password;', 'const total = 1;']); // code, not a credential
    expect(clean.meta).toBeUndefined();
    // The same context line again, now with a card number above it: seen clean before, scrubbed now.
    const card = scrubbed(frame('const card = "4111 1111 1111 1111";'));
    expect(card.pre).toEqual(['const password = input.password;', `const card = "${FILTERED}";`]);
    expect(card.meta.pre_context['1']['']).toEqual({ rem: [['@creditcard:filter', 's']], len: 35 });
    expect(scrubbed(frame('const total = 1;')).meta).toBeUndefined();
    expect(scrubbed(frame('const card = "4111 1111 1111 1111";')).pre![1]).toBe(`const card = "${FILTERED}";`);
    expect(scrubbed(frame('const total = 1;', 'fetch(url, { headers: { Authorization: "Bearer abc.def" } });')).line).toBe(
      `fetch(url, { headers: { Authorization: "Bearer ${FILTERED}" } });`,
    );
  });

  it('honours safe fields, extra sensitive fields and switching the scrubber off', () => {
    const e = event({ message: 'x', extra: { auth_provider: 'github', customer_ssn: '123', password: 'p' } });
    scrubEvent(e, opts({ safeFields: ['auth_provider'], sensitiveFields: ['ssn'] }));
    expect(e.extra).toEqual({ auth_provider: 'github', customer_ssn: FILTERED, password: FILTERED });
    expect((e._meta as any).extra.customer_ssn[''].rem[0][0]).toBe('strip-fields');
    const off = event({ message: 'x', extra: { password: 'p' } });
    scrubEvent(off, opts({ dataScrubber: false }));
    expect(off.extra).toEqual({ password: 'p' });
  });

  it('removes IP addresses and IP-only users with scrubIPAddresses', () => {
    const e = event({ platform: 'javascript', message: 'from 198.51.100.7', user: { ip_address: '{{auto}}' } });
    expect(e.user?.ip_address).toBe('203.0.113.9');
    scrubEvent(e, opts({ scrubIPAddresses: true }));
    expect(e.user?.ip_address).toBeUndefined();
    expect(e.tags.find(([k]) => k === 'user')).toBeUndefined();
    expect(e.logentry!.formatted).toBe('from [ip]');
  });
});
