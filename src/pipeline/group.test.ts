/**
 * Grouping memoization (group.ts + grouping/input-key.ts): a memoized result must be exactly what
 * grouping the event afresh gives, for every one of Sentry's snapshot inputs, and the digest must
 * change with every field grouping reads and with none it ignores.
 */
import { readFileSync } from 'node:fs';
import { beforeEach, describe, expect, test } from 'vitest';
import { groupEvent } from '../grouping/index.js';
import { groupingInputKey, valueMayBeIgnored } from '../grouping/input-key.js';
import { toNormalizedEvent } from '../grouping/testdata/normalize.js';
import type { NormalizedEvent } from '../protocol/event.js';
import { clearGroupingMemo, groupingMemoSize, groupNormalizedEvent } from './group.js';
import type { ProjectSettings } from './context.js';

const dir = new URL('../grouping/testdata/', import.meta.url);
const expected = JSON.parse(readFileSync(new URL('expected.json', dir), 'utf8')) as Record<string, { _rules?: string }>;

function project(rules: { fingerprintingRules?: string; groupingEnhancements?: string } = {}): ProjectSettings {
  return { id: 1, organizationId: 1, slug: 'p', hasAlertRules: false, alertRules: [], fingerprintingRules: rules.fingerprintingRules ?? '', groupingEnhancements: rules.groupingEnhancements ?? '', options: {} as ProjectSettings['options'] };
}

function load(name: string): { event: () => NormalizedEvent; rules: { fingerprintingRules?: string; groupingEnhancements?: string } } {
  const input = JSON.parse(readFileSync(new URL(`inputs/${name}.json`, dir), 'utf8')) as Record<string, unknown>;
  const grouping = input._grouping as { enhancements?: string } | undefined;
  return { event: () => toNormalizedEvent(structuredClone(input)), rules: { fingerprintingRules: expected[name]._rules, groupingEnhancements: grouping?.enhancements } };
}

function pick(e: NormalizedEvent) {
  // The stacks too: a hit replays the in_app defaults instead of computing them.
  return { hashes: e.hashes, title: e.title, culprit: e.culprit, metadata: e.metadata, location: e.location, errors: e.errors, exception: e.exception, stacktrace: e.stacktrace, threads: e.threads };
}

beforeEach(() => clearGroupingMemo());

describe('memoized grouping', () => {
  test.each(Object.keys(expected))('%s: a memo hit equals grouping afresh', (name) => {
    const { event, rules } = load(name);
    const first = event();
    const miss = groupNormalizedEvent(first, project(rules));
    const second = event();
    second.event_id = 'f'.repeat(32);
    const hit = groupNormalizedEvent(second, project(rules));
    expect(hit.hashes).toEqual(miss.hashes);
    expect(pick(second)).toEqual(pick(first));
    // And both equal a direct, unmemoized grouping.
    const direct = event();
    const want = groupEvent(direct, { fingerprintingRules: rules.fingerprintingRules, stacktraceRules: rules.groupingEnhancements });
    expect(miss.hashes).toEqual(want.hashes);
    expect(miss.title).toEqual(want.title);
  });

  test('a hit hands out copies: changing one event leaves the next alone', () => {
    const { event } = load(Object.keys(expected).find((n) => n.startsWith('javascript'))!);
    const a = event();
    groupNormalizedEvent(a, project());
    (a.metadata as Record<string, unknown>).type = 'changed';
    (a.hashes as string[]).push('x');
    const b = event();
    groupNormalizedEvent(b, project());
    expect((b.metadata as Record<string, unknown>).type).not.toBe('changed');
    expect(b.hashes).not.toContain('x');
  });
});

/** The event's exception values, or null when it has none. */
function exceptionValues(e: NormalizedEvent): Record<string, unknown>[] | null {
  const exc = e.exception as { values?: Record<string, unknown>[] } | undefined;
  return Array.isArray(exc?.values) ? exc.values : null;
}

describe('memoized grouping across exception messages', () => {
  // Messages a real SDK sends for the same failure, differing in ids, counts and lines.
  const messages = ['user 4711 not found', 'user 99 not found', '', 'a much longer message\nwith a second line', 'x'.repeat(300), 'order 0xdeadbeef failed at 2026-12-03T12:00:00Z'];
  const single = Object.keys(expected).filter((name) => exceptionValues(load(name).event())?.length === 1);

  test('covers many snapshot inputs', () => {
    expect(single.length).toBeGreaterThanOrEqual(15);
  });

  test.each(single)('%s: an event with another message equals grouping it afresh', (name) => {
    const { event, rules } = load(name);
    const options = { fingerprintingRules: rules.fingerprintingRules, stacktraceRules: rules.groupingEnhancements };
    groupNormalizedEvent(event(), project(rules)); // fills the memo
    for (const message of messages) {
      const memoized = event();
      exceptionValues(memoized)![0].value = message;
      const got = groupNormalizedEvent(memoized, project(rules));
      const direct = event();
      exceptionValues(direct)![0].value = message;
      const want = groupEvent(direct, options);
      expect(got.hashes).toEqual(want.hashes);
      expect({ title: memoized.title, culprit: memoized.culprit, metadata: memoized.metadata, location: memoized.location ?? null }).toEqual({
        title: want.title,
        culprit: want.culprit,
        metadata: want.metadata,
        location: want.location ?? null,
      });
    }
  });

  test('an in-app stack is grouped once for all its messages', () => {
    groupNormalizedEvent(jsEvent(), project());
    const entries = groupingMemoSize();
    for (const message of messages) {
      const e = jsEvent();
      exceptionValues(e)![0].value = message;
      groupNormalizedEvent(e, project());
    }
    // One entry per shape: only the empty message has another (its title has no ": value").
    expect(groupingMemoSize()).toBe(entries + 1);
  });

  // Chained exceptions as the SDKs send them (the cause first, mechanism ids linking them).
  const frames = (fn: string) => ({ frames: [{ function: 'main', filename: 'app.js', lineno: 1, in_app: true }, { function: fn, filename: 'lib.js', lineno: 9, in_app: true }] });
  const chains: [string, () => NormalizedEvent, boolean][] = [
    ['a JavaScript error with a cause', () => toNormalizedEvent({ platform: 'javascript', exception: { values: [
      { type: 'Error', value: 'connect ECONNREFUSED 10.0.0.7:5432', stacktrace: frames('connect'), mechanism: { type: 'chained', source: 'cause', exception_id: 1, parent_id: 0 } },
      { type: 'QueryError', value: 'query 77 failed', stacktrace: frames('query'), mechanism: { type: 'generic', handled: true, exception_id: 0 } },
    ] } }), true],
    ['a Python chain of three', () => toNormalizedEvent({ platform: 'python', sdk: { name: 'sentry.python', version: '2.40.0' }, exception: { values: [
      { type: 'KeyError', value: "'user-4711'", module: null, stacktrace: frames('lookup'), mechanism: { type: 'chained', source: '__context__', exception_id: 2, parent_id: 1 } },
      { type: 'ValueError', value: 'bad user 4711', stacktrace: frames('parse'), mechanism: { type: 'chained', source: '__cause__', exception_id: 1, parent_id: 0 } },
      { type: 'RuntimeError', value: 'request 4711 failed', stacktrace: frames('handle'), mechanism: { type: 'django', handled: false, exception_id: 0 } },
    ] } }), true],
    ['a chain whose cause has no stack', () => toNormalizedEvent({ platform: 'javascript', exception: { values: [
      { type: 'Error', value: 'timeout after 3000 ms', mechanism: { type: 'chained', source: 'cause', exception_id: 1, parent_id: 0 } },
      { type: 'FetchError', value: 'GET /users/4711 failed', stacktrace: frames('fetchUser'), mechanism: { type: 'generic', exception_id: 0 } },
    ] } }), false],
  ];

  test.each(chains)('%s: other messages equal grouping afresh', (_label, make, stackDecides) => {
    groupNormalizedEvent(make(), project());
    const entries = groupingMemoSize();
    // Every exception of the chain gets a new message ('' for all of them with the empty one).
    const withMessage = (e: NormalizedEvent, message: string) => {
      for (const [i, v] of exceptionValues(e)!.entries()) v.value = message && `${message} (${i})`;
      return e;
    };
    for (const message of messages) {
      const memoized = withMessage(make(), message);
      const got = groupNormalizedEvent(memoized, project());
      const want = groupEvent(withMessage(make(), message), {});
      expect(got.hashes).toEqual(want.hashes);
      expect({ title: memoized.title, metadata: memoized.metadata, culprit: memoized.culprit }).toEqual({ title: want.title, metadata: want.metadata, culprit: want.culprit });
    }
    // Where the stacks decide, one entry serves every message (plus one for the empty shape);
    // a cause without a stack lets its message in, so each message is grouped and kept apart.
    if (stackDecides) expect(groupingMemoSize()).toBe(entries + 1);
    else expect(groupingMemoSize()).toBeGreaterThan(entries + 2);
  });

  test('exception groups and React causes keep their messages in the digest', () => {
    const group = chains[0][1]();
    (exceptionValues(group)![1].mechanism as Record<string, unknown>).is_exception_group = true;
    expect(valueMayBeIgnored(group)).toBe(false);
    const react = chains[0][1]();
    exceptionValues(react)![1].value = 'There was an error while hydrating but React was able to recover by instead client rendering from the nearest Suspense boundary.';
    expect(valueMayBeIgnored(react)).toBe(false);
    expect(valueMayBeIgnored(chains[1][1]())).toBe(true);
  });

  test('a stack that lets the value into the hash keeps messages apart', () => {
    const noFrames = () => toNormalizedEvent({ platform: 'javascript', exception: { values: [{ type: 'Error', value: 'user 1 not found' }] } });
    const a = noFrames();
    const b = noFrames();
    (exceptionValues(b)![0]).value = 'connection refused';
    expect(groupNormalizedEvent(a, project()).hashes).not.toEqual(groupNormalizedEvent(b, project()).hashes);
    expect(b.title).toBe('Error: connection refused');
  });

  test('one digest for a stack whatever its message, unless rules read error.value', () => {
    const e = jsEvent();
    const other = jsEvent();
    exceptionValues(other)![0].value = 'y is undefined';
    expect(groupingInputKey(other, {}, true)).toBe(groupingInputKey(e, {}, true));
    const empty = jsEvent();
    exceptionValues(empty)![0].value = '';
    expect(groupingInputKey(empty, {}, true)).not.toBe(groupingInputKey(e, {}, true));
    expect(valueMayBeIgnored(e)).toBe(true);
    expect(valueMayBeIgnored(e, { stacktraceRules: 'error.value:"*not found*" -app' })).toBe(false);
  });
});

function jsEvent(): NormalizedEvent {
  return toNormalizedEvent({
    platform: 'javascript',
    exception: {
      values: [
        {
          type: 'TypeError',
          value: 'x is undefined',
          stacktrace: {
            frames: [
              { function: 'main', filename: 'app.js', abs_path: 'http://x/app.js', lineno: 3, colno: 7, context_line: 'main()', pre_context: ['a'], post_context: ['b'], vars: { a: 1 }, in_app: true },
              { function: 'run', filename: 'lib.js', abs_path: 'http://x/lib.js', lineno: 9, colno: 1, context_line: 'run(x)', in_app: true },
            ],
          },
        },
      ],
    },
    breadcrumbs: { values: [{ message: 'clicked' }] },
    tags: { browser: 'Chrome' },
    user: { id: '1' },
    release: 'r1',
  });
}

describe('grouping input digest', () => {
  const base = groupingInputKey(jsEvent());
  const frame = (e: NormalizedEvent, i: number) => ((e.exception as { values: { stacktrace: { frames: Record<string, unknown>[] } }[] }).values[0].stacktrace.frames[i]);

  test.each<[string, (e: NormalizedEvent) => void]>([
    ['event id and timestamps', (e) => Object.assign(e, { event_id: '1'.repeat(32), timestamp: 99, received: 100 })],
    ['breadcrumbs, user, tags, release', (e) => Object.assign(e, { breadcrumbs: null, user: { id: '2' }, tags: [['a', 'b']], release: 'r2' })],
    ['source context and locals', (e) => Object.assign(frame(e, 0), { pre_context: ['z'], post_context: [], vars: { b: 2 } })],
  ])('ignores %s', (_label, change) => {
    const e = jsEvent();
    change(e);
    expect(groupingInputKey(e)).toBe(base);
  });

  test.each<[string, (e: NormalizedEvent) => void]>([
    ['a frame function', (e) => (frame(e, 1).function = 'other')],
    ['a frame context line', (e) => (frame(e, 1).context_line = 'run(y)')],
    ['in_app', (e) => (frame(e, 0).in_app = false)],
    ['a line number', (e) => (frame(e, 0).lineno = 4)],
    ['the exception value', (e) => ((e.exception as { values: Record<string, unknown>[] }).values[0].value = 'y')],
    ['the platform', (e) => (e.platform = 'node')],
    ['the transaction (culprit)', (e) => (e.transaction = '/checkout')],
    ['a literal fingerprint', (e) => (e.fingerprint = ['my-group'])],
  ])('changes with %s', (_label, change) => {
    const e = jsEvent();
    change(e);
    expect(groupingInputKey(e)).not.toBe(base);
  });

  test('changes with the project stack trace rules', () => {
    expect(groupingInputKey(jsEvent(), { stacktraceRules: 'function:run -app' })).not.toBe(base);
  });

  test('is null when the result may read more of the event', () => {
    const withVar = jsEvent();
    withVar.fingerprint = ['{{ default }}', '{{ tags.browser }}'];
    expect(groupingInputKey(withVar)).toBeNull();
    const withDefault = jsEvent();
    withDefault.fingerprint = ['{{ default }}', 'extra'];
    expect(groupingInputKey(withDefault)).not.toBeNull();
    expect(groupingInputKey(jsEvent(), { fingerprintingRules: 'tags.browser:Chrome -> chrome' })).toBeNull();
  });

  test('keeps apart frames whose fields differ only in where one ends and the next begins', () => {
    const split = (path: string, file: string) => {
      const e = jsEvent();
      Object.assign(frame(e, 1), { abs_path: path, filename: file }); // two fields read one after the other
      return groupingInputKey(e);
    };
    expect(split('ab', 'c')).not.toBe(split('a', 'bc'));
    expect(split('a', 's:b')).not.toBe(split('as:', 'b'));
    expect(split('a', 's1:b')).not.toBe(split('as1:', 'b'));
  });

  test.each<[string, unknown, unknown]>([
    ['a string and a number', '4', 4],
    ['true and a string', true, 't'],
    ['half a surrogate pair and the replacement character', '\uD83D', '\uFFFD'],
    ['an object and its JSON', { a: 1 }, '{"a":1}'],
  ])('keeps apart %s in the same field', (_label, a, b) => {
    const withValue = (v: unknown) => {
      const e = jsEvent();
      frame(e, 0).lineno = v;
      frame(e, 1).context_line = v;
      return groupingInputKey(e);
    };
    expect(withValue(a)).not.toBe(withValue(b));
  });

  test('takes null and a missing field as the same', () => {
    const e = jsEvent();
    frame(e, 0).module = null;
    expect(groupingInputKey(e)).toBe(base);
  });
});
