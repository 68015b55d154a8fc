/** The benchmark corpus: each send is a valid envelope with its own id, message number and timestamp. */
import { describe, expect, it } from 'vitest';
import { parseEnvelope } from '../protocol/index.js';
import { buildCorpus } from './corpus.js';
import { envelopeFor } from './load.js';

describe('bench corpus', () => {
  it('patches id, message number and timestamp in place, leaving valid JSON', () => {
    const templates = buildCorpus({ size: 60, issues: 20, gzipShare: 0, largeShare: 0.1 });
    const now = Date.UTC(2026, 11, 3, 12, 0, 0, 250);
    const ids = new Set<string>();
    for (const t of templates) {
      const a = parseEnvelope(envelopeFor(t, now));
      const b = parseEnvelope(envelopeFor(t, now + 1_000));
      const [ea, eb] = [a, b].map((env) => JSON.parse(env.items[0].payload.toString('utf8')) as { timestamp: number; exception: { values: { value: string }[] } });
      expect(ea.timestamp).toBe(now / 1000);
      expect(eb.timestamp).toBe(now / 1000 + 1);
      expect(ea.exception.values[0].value).toMatch(/^\w+ \d{6} failed$/);
      ids.add(String(a.headers.event_id));
      ids.add(String(b.headers.event_id));
    }
    expect(ids.size).toBe(templates.length * 2);
  });
});
