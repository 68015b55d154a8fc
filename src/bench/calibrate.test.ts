import { describe, expect, test } from 'vitest';
import { yardstickMs, yardstickWork } from './calibrate.js';

describe('the machine yardstick', () => {
  test('does the same work every time (same digest), so its time measures only the machine', () => {
    expect(yardstickWork(3)).toBe(yardstickWork(3));
    expect(yardstickWork(3)).not.toBe(yardstickWork(4));
  });

  test('reports a time in milliseconds', () => {
    const ms = yardstickMs();
    expect(Number.isFinite(ms)).toBe(true);
    expect(ms).toBeGreaterThan(0);
  });
});
