import { describe, expect, it } from 'vitest';
import { extractAuth, parseAuthHeader } from './auth.js';
import { ProtocolError, type ProtocolErrorReason } from './errors.js';

const KEY = '0123456789abcdef0123456789abcdef';

function reasonOf(fn: () => unknown): ProtocolErrorReason | undefined {
  try {
    fn();
  } catch (err) {
    if (err instanceof ProtocolError) return err.reason;
    throw err;
  }
  return undefined;
}

describe('extractAuth', () => {
  it('reads the @sentry/node query carrier (captures/node-exception.jsonl)', () => {
    const query = { sentry_version: '7', sentry_key: KEY, sentry_client: 'sentry.javascript.node/11.12.0' };
    expect(extractAuth({ headers: { 'user-agent': 'sentry.javascript.node/11.12.0' }, query })).toEqual({
      publicKey: KEY,
      version: 7,
      client: 'sentry.javascript.node/11.12.0',
      source: 'query',
    });
  });

  it('reads sentry-cli X-Sentry-Auth and ignores sentry_timestamp (captures/sentry-cli-send-event.jsonl)', () => {
    const header = `Sentry sentry_key=${KEY}, sentry_version=7, sentry_timestamp=1795391435.029064, sentry_client=sentry-cli/x86_64`;
    const auth = extractAuth({ headers: { 'x-sentry-auth': header }, query: {} });
    expect(auth).toEqual({ publicKey: KEY, version: 7, client: 'sentry-cli/x86_64', source: 'header' });
  });

  it('matches header names case-insensitively and accepts Authorization: Sentry', () => {
    expect(extractAuth({ headers: { 'X-Sentry-Auth': `sentry sentry_key=${KEY}` }, query: {} }).publicKey).toBe(KEY);
    expect(extractAuth({ headers: { authorization: `Sentry sentry_key=${KEY}, sentry_secret=s3` }, query: {} })).toMatchObject({
      publicKey: KEY,
      secretKey: 's3',
    });
  });

  it('ignores Authorization: Bearer (API auth, not ingest auth)', () => {
    expect(reasonOf(() => extractAuth({ headers: { authorization: 'Bearer abc' }, query: {} }))).toBe('missing_auth');
  });

  it('reads the tunnel envelope dsn and reports its project (protocol.md §2.6)', () => {
    const auth = extractAuth({ headers: {}, query: {}, envelopeDsn: `https://${KEY}@o1.example.com/42` });
    expect(auth).toEqual({ publicKey: KEY, source: 'envelope', dsnProjectId: '42' });
  });

  it('accepts agreeing carriers and merges their fields, header first', () => {
    const auth = extractAuth({
      headers: { 'x-sentry-auth': `Sentry sentry_key=${KEY}, sentry_client=a/1` },
      query: { sentry_key: KEY, sentry_version: '7', sentry_client: 'b/2' },
      envelopeDsn: `http://${KEY}@127.0.0.1:9000/1`,
    });
    expect(auth).toEqual({ publicKey: KEY, client: 'a/1', version: 7, source: 'header', dsnProjectId: '1' });
  });

  it('rejects carriers naming different keys', () => {
    const headers = { 'x-sentry-auth': `Sentry sentry_key=${KEY}` };
    expect(reasonOf(() => extractAuth({ headers, query: { sentry_key: 'other' } }))).toBe('conflicting_auth');
    expect(reasonOf(() => extractAuth({ headers, query: {}, envelopeDsn: 'https://other@h/1' }))).toBe('conflicting_auth');
  });

  it('answers missing_auth (401) with no carrier', () => {
    try {
      extractAuth({ headers: { 'user-agent': 'x' }, query: { sentry_version: '7' } });
      expect.unreachable();
    } catch (err) {
      expect(err).toMatchObject({ reason: 'missing_auth', status: 401 });
    }
  });

  it('rejects newer protocol versions, bad versions and keys (Relay request_meta.rs)', () => {
    expect(reasonOf(() => extractAuth({ headers: {}, query: { sentry_key: KEY, sentry_version: '8' } }))).toBe('invalid_auth');
    expect(reasonOf(() => extractAuth({ headers: {}, query: { sentry_key: KEY, sentry_version: 'x' } }))).toBe('invalid_auth');
    expect(reasonOf(() => extractAuth({ headers: {}, query: { sentry_key: '' } }))).toBe('invalid_auth');
    expect(reasonOf(() => extractAuth({ headers: {}, query: { sentry_key: 'a b' } }))).toBe('invalid_auth');
    expect(reasonOf(() => extractAuth({ headers: { 'x-sentry-auth': 'Basic abc' }, query: {} }))).toBe('invalid_auth');
    expect(reasonOf(() => extractAuth({ headers: { 'x-sentry-auth': 'Sentry sentry_version=7' }, query: {} }))).toBe('invalid_auth');
  });

  it('reports a malformed envelope dsn as invalid_dsn', () => {
    expect(reasonOf(() => extractAuth({ headers: {}, query: {}, envelopeDsn: 'nope' }))).toBe('invalid_dsn');
  });

  it('takes the first value of repeated query parameters and headers', () => {
    expect(extractAuth({ headers: {}, query: { sentry_key: [KEY, 'x'] } }).publicKey).toBe(KEY);
    expect(extractAuth({ headers: { 'x-sentry-auth': [`Sentry sentry_key=${KEY}`] }, query: {} }).publicKey).toBe(KEY);
  });
});

describe('parseAuthHeader', () => {
  it('splits trimmed pairs', () => {
    expect(parseAuthHeader('Sentry  sentry_key = k ,sentry_version=7,junk')).toEqual({ sentry_key: 'k', sentry_version: '7' });
  });
});
