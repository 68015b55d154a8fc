/** The similarity score: numbers, scalars, sets, sequences, mappings, recursion, Buffers. */
import { describe, expect, it } from 'vitest';
import { similarity } from './similarity.js';

describe('similarity', () => {
  it('scores numbers by relative difference and scalars by equality', () => {
    expect(similarity(8, 8)).toBe(1);
    expect(similarity(8, 6)).toBe(0.75);
    expect(similarity(0, 0)).toBe(1);
    expect(similarity(0, 5)).toBe(0);
    expect(similarity('a', 'a')).toBe(1);
    expect(similarity('a', 'b')).toBe(0);
    expect(similarity(true, false)).toBe(0);
    expect(similarity(null, null)).toBe(1);
    expect(similarity(null, { a: 1 })).toBe(0);
    expect(similarity('1', 1)).toBe(0);
  });

  it('scores sets and map keys by the Jaccard index, sequences pairwise, mappings key by key', () => {
    expect(similarity(new Set([1, 2, 3]), new Set([2, 3, 4]))).toBe(0.5);
    expect(similarity(new Set([{ a: 1 }]), new Set([{ a: 1 }]))).toBe(1);
    expect(similarity(new Map([['a', 1], ['b', 2]]), new Map([['a', 1], ['c', 2]]))).toBeCloseTo(1 / 3);
    expect(similarity([1, 2, 3, 4], [1, 2, 3])).toBe(0.75);
    expect(similarity({ a: 1, b: 'x' }, { a: 1, b: 'y' })).toBe(0.5);
    // Sentry's example: 16 buckets, 14 equal — 0.875.
    const sums = Array.from({ length: 16 }, (_, i) => i + 1);
    expect(similarity(sums, sums.map((v, i) => (i < 2 ? 0 : v)))).toBe(0.875);
  });

  it('recurses, and compares Buffers by equality', () => {
    const a = new Map([['e:1', { tags: [['level', 'error']], n: 10 }]]);
    const b = new Map([['e:1', { tags: [['level', 'error']], n: 5 }]]);
    expect(similarity(a, b)).toBe(0.75);
    expect(similarity(Buffer.from('ab'), Buffer.from('ab'))).toBe(1);
    expect(similarity(Buffer.from('ab'), Buffer.from('ac'))).toBe(0);
    expect(similarity([], [])).toBe(1);
    expect(similarity({}, {})).toBe(1);
  });
});
