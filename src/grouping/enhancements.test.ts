/**
 * The built-in stack trace rules as the classifier applies them (rules quoted from Sentry's
 * all-platforms@2023-01-11 config, src/grouping/default-enhancements.ts). Frames are screened
 * once per distinct frame and categories are checked as they stand, so these cover a frame seen
 * again at another place in another stack, and one seen again with a category.
 */
import { expect, test } from 'vitest';
import { classifyFrames, type MatchFrame } from './enhancements.js';

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
