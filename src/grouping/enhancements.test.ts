/**
 * The built-in stack trace rules as the classifier applies them (rules quoted from Sentry's
 * all-platforms@2023-01-11 config, src/grouping/default-enhancements.ts). Frames are screened
 * once per distinct frame and categories are checked as they stand, so these cover a frame seen
 * again at another place in another stack, and one seen again with a category.
 */
import { expect, test } from 'vitest';
import { classifyFrames, DEFAULT_RULES, type MatchFrame } from './enhancements.js';

const NO_EXCEPTION = {};
const frame = (over: Partial<MatchFrame>): MatchFrame => ({
  family: 'native',
  function: 'handler',
  module: null,
  package: '/app/bin/server',
  path: null,
  filename: null,
  inApp: true,
  category: null,
  ...over,
});

test('a rule matches a frame wherever it stands, in every stack it appears in', () => {
  // `family:native package:/usr/lib/** -app`
  const libc = () => frame({ function: 'abort', package: '/usr/lib/libc.so.6' });
  expect(classifyFrames([libc(), frame({ function: 'main' })], NO_EXCEPTION).map((r) => r.inApp)).toEqual([false, null]);
  const stack = [frame({ function: 'main' }), frame({ function: 'run' }), libc()];
  expect(classifyFrames(stack, NO_EXCEPTION).map((r) => r.inApp)).toEqual([null, null, false]);
  expect(stack.map((f) => f.inApp)).toEqual([true, true, false]);
});

test('a rule that reads the category sees the category the frame has', () => {
  // `category:system -app`
  expect(classifyFrames([frame({ function: 'poll' })], NO_EXCEPTION).map((r) => r.inApp)).toEqual([null]);
  expect(classifyFrames([frame({ function: 'poll', category: 'system' })], NO_EXCEPTION).map((r) => r.inApp)).toEqual([false]);
  // `family:native function:malloc category=malloc`, then `[ category:malloc ] | category:malloc category=internals`
  const stack = [frame({ function: 'malloc', package: '/usr/lib/libc.so.6' }), frame({ function: 'malloc', package: '/usr/lib/libc.so.6' })];
  classifyFrames(stack, NO_EXCEPTION);
  expect(stack.map((f) => f.category)).toEqual(['malloc', 'internals']);
});

test('the screen index leaves out no frame that a built-in rule matches', () => {
  // For every name or place pattern of a built-in rule, values it matches (wildcards filled in),
  // written as clients do: with and without a leading slash, in capitals, with backslashes. Each
  // is classified through the screens and through copies of the rules, which are not screened.
  const fill = (pattern: string) => pattern.replace(/\\(.)/g, '$1').replace(/\*\*/g, 'a/b').replace(/\*/g, 'x').replace(/\?/g, 'q').replace(/\[!?\^?([^\]])[^\]]*\]/g, '$1');
  const families = new Set(['javascript', 'native', 'python', 'other']);
  const values: { key: 'function' | 'module' | 'package' | 'path' | 'filename'; value: string }[] = [];
  for (const rule of DEFAULT_RULES) {
    for (const m of rule.matchers) {
      if (m.key === 'family') for (const f of m.pattern.split(',')) families.add(f);
      if (!['function', 'module', 'package', 'path', 'filename'].includes(m.key)) continue;
      const v = fill(m.pattern);
      const key = m.key as (typeof values)[number]['key'];
      values.push({ key, value: v });
      if (['package', 'path', 'filename'].includes(key)) {
        values.push({ key, value: v.startsWith('/') ? v.slice(1) : `/${v}` }, { key, value: v.toUpperCase() }, { key, value: v.replace(/\//g, '\\') });
      }
    }
  }
  const unscreened = DEFAULT_RULES.map((r) => structuredClone(r));
  let matched = 0;
  for (const family of families) {
    for (const { key, value } of values) {
      const make = () => [frame({ family, function: 'main', package: null, [key]: value }), frame({ family, function: 'run', package: null, path: value })];
      const a = make();
      const b = make();
      const screened = classifyFrames(a, NO_EXCEPTION);
      expect(screened, `${family} ${key}=${value}`).toEqual(classifyFrames(b, NO_EXCEPTION, unscreened));
      // The frames' own fields agree (not what the matchers kept on them, which only screened frames have).
      const fields = (fs: MatchFrame[]) => fs.map(({ paths: _p, passes: _s, ...f }) => f);
      expect(fields(a)).toEqual(fields(b));
      if (screened.some((r) => r.inApp !== null || r.category !== null)) matched++;
    }
  }
  expect(matched).toBeGreaterThan(500); // the values do reach the rules
});
