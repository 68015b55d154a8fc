/**
 * A yardstick for the machine: this benchmark's host shares its CPU with other tenants, and its
 * speed changes by half within a day. Timing the same fixed work before and after a run (JSON
 * parsing and writing and hashing of corpus events, what Faultline's own work is made of) tells a
 * slow hour from a slower Faultline when runs are compared.
 */
import { createHash } from 'node:crypto';
import { buildCorpus } from './corpus.js';

const events = buildCorpus({ size: 40, issues: 40, gzipShare: 0, largeShare: 0, seed: 7 }).map((t) => t.text.toString('utf8').split('\n')[2]);

/** One pass of the fixed work; returns a digest so that none of it can be optimized away. */
export function yardstickWork(rounds = 25): string {
  const hash = createHash('sha1');
  for (let r = 0; r < rounds; r++) {
    for (const text of events) {
      const event = JSON.parse(text) as Record<string, unknown>;
      event.round = r;
      hash.update(JSON.stringify(event));
    }
  }
  return hash.digest('hex');
}

/** Milliseconds the fixed work takes here now: the best of five passes (the least disturbed). */
export function yardstickMs(): number {
  yardstickWork(2); // warm up the JIT
  let best = Infinity;
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    yardstickWork();
    best = Math.min(best, performance.now() - t0);
  }
  return Math.round(best * 10) / 10;
}
