/** Project stack trace rules: strict parsing (with line/column errors) and their effect on grouping. */
import { createHash } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import type { NormalizedEvent } from '../protocol/event.js';
import { groupEvent, GroupingRulesError, parseStacktraceRules } from './index.js';

const md5 = (...parts: string[]) => createHash('md5').update(parts.join('')).digest('hex');

function nodeEvent(): NormalizedEvent {
  const frame = (fn: string, file: string, inApp: boolean) => ({ function: fn, filename: file, abs_path: `/app/${file}`, in_app: inApp });
  return {
    event_id: 'a'.repeat(32),
    timestamp: 0,
    received: 0,
    type: 'error',
    platform: 'node',
    level: 'error',
    tags: [],
    errors: [],
    exception: {
      values: [
        {
          type: 'TypeError',
          value: 'x is undefined',
          stacktrace: { frames: [frame('main', 'index.js', true), frame('helper', 'lib/helper.js', false), frame('handler', 'routes/user.js', true)] },
        },
      ],
    },
  } as unknown as NormalizedEvent;
}

describe('parseStacktraceRules', () => {
  test('parses every matcher and action kind', () => {
    const rules = parseStacktraceRules(
      [
        '# comment',
        'stack.function:foo* stack.module:"a b" -group',
        'path:**/node_modules/** package:x family:native,javascript app:no category:std +app ^-group v+group',
        'error.type:TypeError error.value:"x*" error.mechanism:onerror max-frames=3 min-frames=2 invert-stacktrace=1',
        '[ function:caller ] | function:me | [ !function:callee ] category=internals',
        '',
      ].join('\n'),
    );
    expect(rules).toHaveLength(4);
    expect(rules[0].matchers.map((m) => m.key)).toEqual(['function', 'module']);
    expect(rules[0].matchers[1].pattern).toBe('a b');
    expect(rules[1].actions).toContainEqual({ kind: 'flag', key: 'group', flag: false, range: 'up' });
    expect(rules[3].matchers.map((m) => m.offset)).toEqual([-1, 0, 1]);
    expect(rules[3].description).toBe('[ function:caller ] | function:me | [ !function:callee ] category=internals');
  });

  test.each([
    ['function:foo', 1, 13, /needs at least one action/],
    ['function:foo -group\nbogus:x -group', 2, 1, /unknown matcher "bogus"/],
    ['function:foo +frobnicate', 1, 14, /expected an action/],
    ['function:foo max-frames=abc', 1, 25, /needs a number/],
    ['function:foo colour=red', 1, 14, /unknown action "colour"/],
    ['-group', 1, 1, /at least one frame matcher/],
    ['function:"foo -group', 1, 10, /unterminated/],
    ['[ function:a | function:b -group', 1, 14, /expected "\]"/],
  ])('%j fails at line %i, column %i', (text, line, column, message) => {
    let error: unknown;
    try {
      parseStacktraceRules(text);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(GroupingRulesError);
    expect((error as GroupingRulesError).line).toBe(line);
    expect((error as GroupingRulesError).column).toBe(column);
    expect((error as Error).message).toMatch(message);
  });
});

describe('stack trace rules in grouping', () => {
  const base = groupEvent(nodeEvent());

  test('without rules the in-app frames group', () => {
    expect(base.variants.app.hash).toBe(md5('index.js', 'main', 'user.js', 'handler', 'TypeError'));
  });

  test('-group removes a frame from the hash and says why', () => {
    const r = groupEvent(nodeEvent(), { stacktraceRules: 'function:main -group' });
    expect(r.variants.app.hash).toBe(md5('user.js', 'handler', 'TypeError'));
    expect(JSON.stringify(r.variants.app.component)).toContain('ignored by stack trace rule (function:main -group)');
  });

  test('+app brings a library frame into the app variant', () => {
    const r = groupEvent(nodeEvent(), { stacktraceRules: 'path:**/lib/** +app' });
    expect(r.variants.app.hash).toBe(md5('index.js', 'main', 'helper.js', 'helper', 'user.js', 'handler', 'TypeError'));
  });

  test('caller context, error matchers and max-frames', () => {
    const callee = groupEvent(nodeEvent(), { stacktraceRules: '[ function:helper ] | function:handler -group' });
    expect(callee.variants.app.hash).toBe(md5('index.js', 'main', 'TypeError'));
    const wrongType = groupEvent(nodeEvent(), { stacktraceRules: 'error.type:RangeError function:main -group' });
    expect(wrongType.variants.app.hash).toBe(base.variants.app.hash);
    const max = groupEvent(nodeEvent(), { stacktraceRules: 'error.type:TypeError max-frames=1' });
    expect(max.variants.app.hash).toBe(md5('user.js', 'handler', 'TypeError'));
  });

  test('project rules run after the built-in ones; broken rules are ignored', () => {
    const r = groupEvent(nodeEvent(), { stacktraceRules: 'path:**/app/** -app' });
    expect(r.variants.app.hash).toBeNull();
    expect(groupEvent(nodeEvent(), { stacktraceRules: 'nonsense' }).hashes).toEqual(base.hashes);
  });
});
