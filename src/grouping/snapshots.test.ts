/**
 * Sentry's own grouping snapshot cases (tests/sentry/grouping/grouping_inputs/*.json with the
 * hashes from snapshots/test_variants/test_event_hash_variant/newstyle@2023_01_11/*.pysnap):
 * each input must produce exactly the hash Sentry recorded for every variant. Sources and commits
 * are listed in testdata/SOURCES.md.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { groupEvent } from './index.js';
import { toNormalizedEvent } from './testdata/normalize.js';

const dir = new URL('./testdata/', import.meta.url);
const expected = JSON.parse(readFileSync(new URL('expected.json', dir), 'utf8')) as Record<
  string,
  Record<string, string | null> & { _rules?: string }
>;

describe('Sentry newstyle:2023-01-11 snapshots', () => {
  for (const [name, variants] of Object.entries(expected)) {
    test(name, () => {
      const input = JSON.parse(readFileSync(new URL(`inputs/${name}.json`, dir), 'utf8')) as Record<string, unknown>;
      const { _rules, ...want } = variants;
      const grouping = input._grouping as { enhancements?: string } | undefined;
      const result = groupEvent(toNormalizedEvent(input), { fingerprintingRules: _rules, stacktraceRules: grouping?.enhancements });
      const got: Record<string, string | null> = {};
      for (const key of Object.keys(want)) got[key] = result.variants[key]?.hash ?? null;
      expect(got).toEqual(want);
      // What the pipeline asks for: the same hashes, title and metadata without the trees' extras.
      const lean = groupEvent(toNormalizedEvent(input), { fingerprintingRules: _rules, stacktraceRules: grouping?.enhancements, hashesOnly: true });
      for (const key of Object.keys(want)) got[key] = lean.variants[key]?.hash ?? null;
      expect(got).toEqual(want);
      expect({ hashes: lean.hashes, title: lean.title, culprit: lean.culprit, metadata: lean.metadata }).toEqual({ hashes: result.hashes, title: result.title, culprit: result.culprit, metadata: result.metadata });
    });
  }
});
