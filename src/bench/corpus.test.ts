/** The benchmark corpus: each send is a valid envelope with its own ids, message number and timestamp. */
import { describe, expect, it } from 'vitest';
import { parseEnvelope } from '../protocol/index.js';
import { buildCorpus } from './corpus.js';
import { envelopeFor } from './load.js';

describe('bench corpus', () => {
  it('patches ids, message number and timestamp in place, leaving valid JSON', () => {
    const templates = buildCorpus({ size: 60, issues: 20, gzipShare: 0, largeShare: 0.1 });
    const now = Date.UTC(2026, 11, 3, 12, 0, 0, 250);
    const ids = new Set<string>();
    const traces = new Set<string>();
    const spans = new Set<string>();
    for (const t of templates) {
      const a = parseEnvelope(envelopeFor(t, now));
      const b = parseEnvelope(envelopeFor(t, now + 1_000));
      type Sent = { timestamp: number; exception: { values: { value: string }[] }; contexts: { trace: { trace_id: string; span_id: string } } };
      const [ea, eb] = [a, b].map((env) => JSON.parse(env.items[0].payload.toString('utf8')) as Sent);
      expect(ea.timestamp).toBe(now / 1000);
      expect(eb.timestamp).toBe(now / 1000 + 1);
      expect(ea.exception.values[0].value).toMatch(/^\w+ \d{6} failed$/);
      ids.add(String(a.headers.event_id));
      ids.add(String(b.headers.event_id));
      // One trace per send, named alike in the envelope header and the event's trace context.
      for (const [env, ev] of [[a, ea], [b, eb]] as const) {
        expect(ev.contexts.trace.trace_id).toMatch(/^[0-9a-f]{32}$/);
        expect(ev.contexts.trace.span_id).toMatch(/^[0-9a-f]{16}$/);
        expect((env.headers.trace as { trace_id: string }).trace_id).toBe(ev.contexts.trace.trace_id);
        traces.add(ev.contexts.trace.trace_id);
        spans.add(ev.contexts.trace.span_id);
      }
    }
    expect(ids.size).toBe(templates.length * 2);
    expect(traces.size).toBe(templates.length * 2);
    expect(spans.size).toBe(templates.length * 2);
  });
});
