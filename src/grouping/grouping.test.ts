/** Behaviour tests for the grouping engine beyond Sentry's snapshots: API contracts and edge cases. */
import { createHash } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import type { NormalizedEvent } from '../protocol/event.js';
import { applyInAppDefaults, groupEvent, GroupingRulesError, parameterize, parseFingerprintingRules } from './index.js';
import { normalizeMessage } from './message.js';
import { hashFromValues } from './components.js';

const md5 = (...parts: string[]) => createHash('md5').update(parts.join('')).digest('hex');

function event(extra: Record<string, unknown>): NormalizedEvent {
  return { event_id: 'a'.repeat(32), timestamp: 0, received: 0, type: 'error', platform: 'javascript', level: 'error', tags: [], errors: [], ...extra } as NormalizedEvent;
}

describe('parameterize', () => {
  test.each([
    ['testing testing 1, 2, 3', 'testing testing <int>, <int>, <int>'],
    ['failed at 2024-01-02T03:04:05Z', 'failed at <date>'],
    ['user bob@example.com from 10.0.0.1', 'user <email> from <ip>'],
    ['id 550e8400-e29b-41d4-a716-446655440000', 'id <uuid>'],
    ['ptr 0xdeadbeef took 15ms', 'ptr <hex> took <duration>'],
    ["key='abc' flag=true", 'key=<quoted_str> flag=<bool>'],
    ['GET https://example.com/a?b=1 failed', 'GET <url> failed'],
  ])('%s', (input, output) => expect(parameterize(input)).toBe(output));

  test('messages keep their first two non-empty lines', () => {
    expect(normalizeMessage('a\n\nb\nc')).toBe('a\nb...');
    expect(normalizeMessage('only line')).toBe('only line');
  });

  test('is fast on huge input', () => {
    const start = Date.now();
    parameterize('x1 '.repeat(100_000));
    expect(Date.now() - start).toBeLessThan(5000);
  });
});

describe('parseFingerprintingRules', () => {
  test('parses matchers, negation, quotes, variables, title and comments', () => {
    const rules = parseFingerprintingRules(
      '# comment\nerror.type:"DatabaseError" !logger:foo* -> db, {{ transaction }} title="DB: {{ error.value }}"\n\ntags.server:"a b" -> x',
    );
    expect(rules).toHaveLength(2);
    expect(rules[0].matchers).toEqual([
      { key: 'type', pattern: 'DatabaseError', negated: false },
      { key: 'logger', pattern: 'foo*', negated: true },
    ]);
    expect(rules[0].fingerprint).toEqual(['db', '{{ transaction }}']);
    expect(rules[0].attributes.title).toBe('DB: {{ error.value }}');
    expect(rules[1].matchers[0]).toEqual({ key: 'tags.server', pattern: 'a b', negated: false });
  });

  test('reports the line of a syntax error', () => {
    let error: unknown;
    try {
      parseFingerprintingRules('type:Foo -> foo\nthis is not a rule');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(GroupingRulesError);
    expect((error as GroupingRulesError).line).toBe(2);
    expect(() => parseFingerprintingRules('bogus:x -> y')).toThrow(/Unknown matcher 'bogus'/);
    expect(() => parseFingerprintingRules('type:x -> y color="red"')).toThrow(/Unknown attribute/);
  });
});

describe('fingerprints', () => {
  const exc = { exception: { values: [{ type: 'SoftTimeLimitExceeded', value: 'SoftTimeLimitExceeded()' }] }, platform: 'python' };

  test('server rule hash matches Sentry (custom_fingerprint_server_rule.pysnap)', () => {
    const r = groupEvent(event(exc), { fingerprintingRules: 'type:SoftTimeLimitExceeded -> soft-timelimit-exceeded' });
    expect(r.hashes).toEqual(['554e214208f0372603dc9fa6c1c0965f']);
    expect(r.variants.custom_fingerprint.type).toBe('custom_fingerprint');
    expect(r.variants.app.hash).toBeNull();
    expect(r.fingerprintInfo?.matchedRule).toBe('type:"SoftTimeLimitExceeded" -> "soft-timelimit-exceeded"');
  });

  test('invalid project rules are ignored, not fatal', () => {
    const r = groupEvent(event(exc), { fingerprintingRules: 'nonsense' });
    expect(r.variants.custom_fingerprint).toBeUndefined();
  });

  test('built-in ChunkLoadError rule', () => {
    const r = groupEvent(event({ exception: { values: [{ type: 'ChunkLoadError', value: 'Loading chunk 3 failed' }] } }));
    expect(r.variants.built_in_fingerprint.hash).toBe(md5('chunkloaderror'));
    expect(r.hashes).toEqual([md5('chunkloaderror')]);
  });

  test('client variables resolve, with placeholders when missing', () => {
    const r = groupEvent(event({ ...exc, fingerprint: ['{{ type }}', '{{ tags.server }}', '{{ transaction }}', '{{ unknown }}'] }));
    expect(r.variants.custom_fingerprint.values).toEqual(['SoftTimeLimitExceeded', '<no-value-for-tag-server>', '<no-transaction>', '{{ unknown }}']);
    expect(r.fingerprintInfo?.clientFingerprint).toHaveLength(4);
  });

  test('hybrid fingerprint salts the default hash', () => {
    const r = groupEvent(event({ ...exc, fingerprint: ['{{ default }}', 'extra'] }));
    expect(r.variants.app.type).toBe('salted_component');
    expect(r.hashes).toEqual([md5('SoftTimeLimitExceeded', 'SoftTimeLimitExceeded()', 'extra')]);
  });
});

describe('title, culprit, metadata', () => {
  test('error title and culprit from the crashing in-app frame', () => {
    const r = groupEvent(
      event({
        platform: 'node',
        exception: {
          values: [
            {
              type: 'TypeError',
              value: 'x is undefined\nmore',
              stacktrace: { frames: [{ function: 'lib', filename: 'node_modules/lib.js', in_app: false }, { function: 'handler', filename: 'app.js', module: 'app', in_app: true }] },
            },
          ],
        },
      }),
    );
    expect(r.title).toBe('TypeError: x is undefined');
    expect(r.culprit).toBe('handler(app)');
    expect(r.metadata).toMatchObject({ type: 'TypeError', value: 'x is undefined\nmore', filename: 'app.js', function: 'handler', in_app_frame_mix: 'mixed' });
  });

  test('an exception without a type is titled by its value (@sentry/node captureMessage)', () => {
    const r = groupEvent(event({ platform: 'node', exception: { values: [{ value: 'hello world' }] } }));
    expect(r.title).toBe('hello world');
  });

  test('message events use the message, and the transaction wins as culprit', () => {
    const r = groupEvent(event({ type: 'default', logentry: { formatted: 'Disk 93% full on host-1\nsecond' }, transaction: '/api/x' }));
    expect(r.title).toBe('Disk 93% full on host-1');
    expect(r.culprit).toBe('/api/x');
    expect(r.metadata).toEqual({ title: 'Disk 93% full on host-1' });
    expect(r.hashes).toEqual([md5('Disk <int>% full on host-<int>\nsecond')]);
  });

  test('rule title attribute overrides the title', () => {
    const r = groupEvent(event({ exception: { values: [{ type: 'E', value: 'v' }] } }), { fingerprintingRules: 'type:E -> e title="Custom {{ type }}"' });
    expect(r.title).toBe('Custom E');
  });
});

describe('hashesOnly', () => {
  const frames = [
    { function: 'main', filename: 'app.js', module: 'app', in_app: true, lineno: 1 },
    { function: 'loadUser', filename: 'users.js', module: 'users', in_app: true, lineno: 9 },
  ];
  type Node = { id: string; values: (Node | string)[] };
  const valueOf = (node: unknown): unknown[] | undefined => {
    const n = node as Node;
    if (n.id === 'value') return n.values;
    for (const child of n.values) {
      const found = typeof child === 'object' ? valueOf(child) : undefined;
      if (found) return found;
    }
    return undefined;
  };

  test('leaves out the normalized value a stack trace takes precedence over, with the same hashes and title', () => {
    const e = () => event({ exception: { values: [{ type: 'NotFound', value: 'user 4711 not found', stacktrace: { frames } }] } });
    const full = groupEvent(e());
    const lean = groupEvent(e(), { hashesOnly: true });
    expect(valueOf(full.variants.app.component)).toEqual(['user <int> not found']);
    expect(valueOf(lean.variants.app.component)).toEqual([]);
    expect(lean.hashes).toEqual(full.hashes);
    expect([lean.title, lean.metadata]).toEqual([full.title, full.metadata]);
    // Grouping-info shows the description; the pipeline never reads it.
    expect(full.variants.app.description).toBe('in-app exception stack-trace');
    expect(lean.variants.app.description).toBe('');
  });

  test('still normalizes a value that contributes', () => {
    const e = () => event({ exception: { values: [{ type: 'NotFound', value: 'user 4711 not found' }] } });
    const full = groupEvent(e());
    const lean = groupEvent(e(), { hashesOnly: true });
    expect(lean.hashes).toEqual(full.hashes);
    expect(lean.hashes).toEqual([md5('NotFound', 'user <int> not found')]);
  });
});

describe('robustness', () => {
  test('never throws on malformed input and notes what it dropped', () => {
    const e = event({
      exception: { values: [null, 'junk', { type: 5, value: { a: 1 }, stacktrace: { frames: [null, 42, 'x', { function: 7, filename: 'a.js', in_app: true }] } }] },
      logentry: 'nope',
      threads: { values: 'nope' },
      fingerprint: [{}, 3],
      tags: 'bad',
      checksum: 12,
    });
    const before = JSON.stringify({ ...e, errors: [] });
    const r = groupEvent(e);
    expect(r.hashes.length).toBeGreaterThan(0);
    expect(JSON.stringify({ ...e, errors: [] })).toBe(before);
    expect(e.errors.some((x) => x.type === 'grouping')).toBe(true);
  });

  test('an empty event falls back to md5("")', () => {
    const e = event({});
    const r = groupEvent(e);
    expect(r.hashes).toEqual(['d41d8cd98f00b204e9800998ecf8427e']);
    expect(r.variants.fallback).toBeDefined();
    expect(e.errors).toEqual([]);
  });

  test('cross-browser JS traces group together', () => {
    const frames = (names: string[]) => names.map((fn) => ({ function: fn, filename: '/tmp/test.html', abs_path: 'file:///tmp/test.html', in_app: true }));
    const a = groupEvent(event({ exception: { values: [{ type: 'Error', value: 'bad', stacktrace: { frames: frames(['Object.aha', 'Foo.testMethod']) } }] } }));
    const b = groupEvent(event({ exception: { values: [{ type: 'Error', value: 'bad', stacktrace: { frames: frames(['aha', 'testMethod']) } }] } }));
    expect(a.hashes[0]).toBe(b.hashes[0]);
  });
});

describe('applyInAppDefaults', () => {
  test('fills only frames the SDK left unset', () => {
    const frames: Record<string, unknown>[] = [
      { filename: '/app/node_modules/express/index.js', abs_path: '/app/node_modules/express/index.js' },
      { filename: 'node:internal/process/task_queues', function: 'processTicksAndRejections' },
      { filename: '/usr/lib/python3.11/json/decoder.py', platform: 'python' },
      { module: 'java.lang.Thread', function: 'run', platform: 'java' },
      { filename: '/app/src/index.js', in_app: true },
      { filename: '/app/node_modules/x.js', in_app: true },
      { filename: '/app/src/other.js' },
    ];
    const e = event({ platform: 'node', exception: { values: [{ type: 'E', stacktrace: { frames } }] } });
    applyInAppDefaults(e);
    expect(frames.map((f) => f.in_app)).toEqual([false, false, false, false, true, true, undefined]);
  });
});

describe('hashFromValues', () => {
  // The reference: one md5 update per value, each value encoded as UTF-8 on its own (Sentry's
  // `hash_from_values` updates with each value's UTF-8 bytes).
  const oneByOne = (values: string[]) => {
    const md5 = createHash('md5');
    for (const v of values) md5.update(v, 'utf8');
    return md5.digest('hex');
  };
  test('is md5 of the values run together', () => {
    expect(hashFromValues([])).toBe('d41d8cd98f00b204e9800998ecf8427e');
    expect(hashFromValues(['foo', 'bar'])).toBe('3858f62230ac3c915f300c664312c63f'); // md5("foobar")
    expect(hashFromValues(new Set(['foo', 'bar']))).toBe('3858f62230ac3c915f300c664312c63f');
  });
  test('encodes each value on its own, also where two values hold the halves of one character', () => {
    const cases = [
      ['caf\u00e9', '\u{1F600} ok', ''],
      ['a\uD83D', '\uDE00b'], // a pair split across two values: two U+FFFD, not one emoji
      ['a\uD83D', '', '\uDE00b'],
      ['\uDE00', '\uD83D'], // halves in the other order pair with nothing
      ['x\uD83D'],
    ];
    for (const values of cases) expect(hashFromValues(values), JSON.stringify(values)).toBe(oneByOne(values));
    expect(hashFromValues(['a\uD83D', '\uDE00b'])).not.toBe(oneByOne(['a\uD83D\uDE00b']));
  });
});

describe("a frame's context line", () => {
  type Node = { id: string; contributes: boolean; values: (Node | string)[] };
  const contextLine = (node: Node): Node | undefined => {
    if (node.id === 'context-line') return node;
    for (const v of node.values) {
      const found = typeof v === 'object' ? contextLine(v) : undefined;
      if (found) return found;
    }
    return undefined;
  };
  const lineOf = (line: string) => {
    const frame = { function: 'checkout', filename: 'app.js', abs_path: '/srv/app.js', in_app: true, lineno: 3, context_line: line };
    const result = groupEvent(event({ platform: 'javascript', exception: { values: [{ type: 'Error', value: 'x', stacktrace: { frames: [frame] } }] } }));
    return contextLine(result.variants.app.component as unknown as Node)!;
  };

  test('has its runs of whitespace made one space and its ends trimmed', () => {
    expect(lineOf(' \t  cart.total(\u00a0items ,\n tax)  ').values).toEqual(['cart.total( items , tax)']);
  });

  test('is left out past 120 characters, counted as code points as Sentry does (not UTF-16 units)', () => {
    expect(lineOf('😀'.repeat(120)).contributes).toBe(true); // 240 UTF-16 units
    expect(lineOf('😀'.repeat(121)).contributes).toBe(false);
    expect(lineOf('x'.repeat(121)).contributes).toBe(false);
  });
});
