import { describe, expect, test } from 'vitest';
import { resultsMarkdown } from './report.js';
import type { BenchResult } from './run.js';

function result(over: Partial<BenchResult>): BenchResult {
  return {
    layout: 'embedded',
    options: { layout: 'embedded', durationMs: 20_000, concurrency: 32, issues: 1000, corpusSize: 2000, gzipShare: 0.1, largeShare: 0.05 },
    sent: 80_000,
    accepted: 80_000,
    rejected: {},
    acceptedPerSec: 4000,
    processedPerSec: 2900,
    latencyMs: { p50: 6, p90: 11, p99: 27, max: 80 },
    peakRssMb: { start: 226 },
    cpuSecondsPer1000: 0.48,
    bytesStoredPerEvent: 1465,
    bytesSentPerEvent: 14_787,
    drainMs: 8000,
    generatorCpuMsPerRequest: 0.09,
    ...over,
  };
}

describe('the results block', () => {
  test("says how the worker thread spent the load and the drain, beside ingest's thread", () => {
    const md = resultsMarkdown(
      [
        result({
          threadTime: {
            ingest: { load: { running: 0.557, waiting: 0.286 }, drain: { running: 0.014, waiting: 0.007 } },
            worker: { load: { running: 0.784, waiting: 0.165 }, drain: { running: 0.973, waiting: 0.009 } },
          },
        }),
      ],
      new Date('2026-12-07T22:00:00Z'),
    );
    expect(md).toContain("the worker thread ran 78 % of the load's time and waited for a core 17 % (ingest's thread ran 56 % and waited 29 %); while the backlog drained after it, 97 % and 1 %.");
  });

  test('leaves the sentence out for a run that could not read the worker thread (another layout, no /proc)', () => {
    const md = resultsMarkdown([result({ layout: 'postgres-redis' }), result({ threadTime: { ingest: { load: { running: 0.5, waiting: 0.2 }, drain: { running: 0, waiting: 0 } } } })], new Date());
    expect(md).not.toContain('worker thread ran');
  });
});
