import { describe, expect, it } from 'vitest';
import { formatDsn, parseDsn } from './dsn.js';
import { ProtocolError } from './errors.js';

describe('parseDsn', () => {
  it('parses the capture DSN (test/fixtures/captures/README.md)', () => {
    expect(parseDsn('http://0123456789abcdef0123456789abcdef@127.0.0.1:9000/1')).toEqual({
      protocol: 'http',
      publicKey: '0123456789abcdef0123456789abcdef',
      host: '127.0.0.1',
      port: 9000,
      path: '',
      projectId: '1',
    });
  });

  it('keeps a path prefix (protocol.md §1.1: https://k@host/sentry/42)', () => {
    const dsn = parseDsn('https://k@host/sentry/42');
    expect(dsn.path).toBe('/sentry');
    expect(dsn.projectId).toBe('42');
    expect(dsn.port).toBeUndefined();
  });

  it('accepts an empty secret (develop envelopes.mdx example) and a real one', () => {
    expect(parseDsn('https://e12d836b15bb49d7bbf99e64295d995b:@sentry.io/42').secretKey).toBeUndefined();
    expect(parseDsn('https://pub:sec@sentry.io/42').secretKey).toBe('sec');
  });

  it('parses IPv6 hosts', () => {
    expect(parseDsn('http://k@[::1]:8000/3')).toMatchObject({ host: '[::1]', port: 8000, projectId: '3' });
  });

  it.each([
    ['ftp://k@host/1', 'protocol'],
    ['https://host/1', 'public key'],
    ['https://k@host/', 'project id'],
    ['https://k@host/abc', 'numeric'],
    ['https://k-ey@host/1', 'letters'],
    ['not a dsn', 'URL'],
    ['', 'empty'],
  ])('rejects %s', (dsn, why) => {
    try {
      parseDsn(dsn);
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ProtocolError);
      expect((err as ProtocolError).reason).toBe('invalid_dsn');
      expect((err as ProtocolError).status).toBe(400);
      expect((err as Error).message).toContain(why);
    }
  });

  it('never echoes the secret key in errors', () => {
    expect(() => parseDsn('ftp://pub:supersecret@host/1')).toThrow(/pub:\*\*\*@/);
  });
});

describe('formatDsn', () => {
  it('round-trips through parseDsn', () => {
    for (const s of ['https://abc@o1.ingest.example.com/42', 'http://k@host:9000/sentry/7', 'http://k@[::1]:8000/3']) {
      expect(formatDsn(parseDsn(s))).toBe(s);
    }
  });

  it('normalizes the path prefix', () => {
    expect(formatDsn({ protocol: 'https', publicKey: 'k', host: 'h', path: 'sub/', projectId: 5 })).toBe('https://k@h/sub/5');
  });
});
