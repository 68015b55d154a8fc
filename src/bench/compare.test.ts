/** `bench --compare`: drains of one filled queue by each checkout's real `faultline worker`. */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, test } from 'vitest';
import { compareDrains, parseContender, summarize } from './compare.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

test('drains the same queued events with each checkout in turn, every event stored each time', async () => {
  const contenders = [parseContender(root), parseContender(`${root}::--max-semi-space-size=8`)];
  expect(contenders[1].nodeFlags).toEqual(['--max-semi-space-size=8']);
  const logged: string[] = [];
  const drains = await compareDrains(contenders, { events: 150, rounds: 2, issues: 20, corpusSize: 40 }, (m) => logged.push(m));
  // Alternating: a, b, a, b.
  expect(drains.map((d) => [d.label, d.round])).toEqual([
    [root, 1],
    [`${root}::--max-semi-space-size=8`, 1],
    [root, 2],
    [`${root}::--max-semi-space-size=8`, 2],
  ]);
  for (const d of drains) {
    expect(d.cpuMsPerEvent).toBeGreaterThan(0);
    expect(d.eventsPerSec).toBeGreaterThan(0);
  }
  const lines = summarize(drains);
  expect(lines).toHaveLength(2);
  expect(lines[0]).toMatch(/ms of CPU per event \(median of 2; [\d.]+–[\d.]+\), \d+ events\/s$/);
  expect(logged.filter((m) => / round \d: /.test(m))).toHaveLength(4);
}, 120_000);

test('refuses a directory that is not a built checkout', () => {
  expect(() => parseContender(path.join(root, 'docs'))).toThrow(/not a built Faultline checkout/);
});
