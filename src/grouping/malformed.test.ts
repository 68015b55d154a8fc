/**
 * Property-style robustness test: Sentry's snapshot inputs, mutated at random (frames that are not
 * objects, numbers where strings belong, huge values, deep nesting, missing fields), go through
 * `normalizeEvent` and `groupEvent`. Grouping must never throw, never fall into its defensive
 * catch-all, and always return at least one md5 hash. A seeded PRNG keeps failures reproducible.
 * Leaves out malformed JSON bytes (that is the envelope parser's job, tested in src/protocol).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { normalizeEvent, ProtocolError, type NormalizedEvent } from '../protocol/index.js';
import { groupEvent } from './index.js';

const inputsDir = new URL('./testdata/inputs/', import.meta.url);
const seeds = readdirSync(inputsDir)
  .filter((f) => f.endsWith('.json'))
  .sort()
  .map((f) => JSON.parse(readFileSync(new URL(f, inputsDir), 'utf8')) as Record<string, unknown>);

/** mulberry32: a tiny deterministic PRNG. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Json = unknown;

function deep(depth: number): Json {
  let v: Json = { type: 'Deep', value: 'bottom' };
  for (let i = 0; i < depth; i++) v = i % 3 === 0 ? [v] : i % 3 === 1 ? { values: v } : { frames: [v], stacktrace: null };
  return v;
}

/** Replacement values chosen to break naive code: wrong types, huge, deep, empty. */
function junk(rand: () => number): Json {
  const options: (() => Json)[] = [
    () => null,
    () => undefined,
    () => 42,
    () => -1.5e308,
    () => Number.NaN,
    () => true,
    () => '',
    () => 'x'.repeat(200_000),
    () => '{{ default }}',
    () => '\u0000\ud800 \u202e',
    () => [],
    () => [1, 'two', null, [3]],
    () => ({}),
    () => ({ frames: 'not-a-list', values: 7 }),
    () => Array.from({ length: 2_000 }, (_, i) => ({ function: `f${i % 3}`, filename: 'a.js', in_app: i % 2 === 0 })),
    () => deep(300),
    () => ({ mechanism: { exception_id: 0, parent_id: 0, is_exception_group: 'yes' } }),
  ];
  return options[Math.floor(rand() * options.length)]();
}

/** Every (container, key) pair in a JSON tree, so a mutation can land anywhere. */
function slots(root: Json, out: [Record<string, Json> | Json[], string | number][] = [], depth = 0): typeof out {
  if (depth > 12 || root === null || typeof root !== 'object') return out;
  const entries: [string | number, Json][] = Array.isArray(root) ? root.map((v, i) => [i, v]) : Object.entries(root as Record<string, Json>);
  for (const [k, v] of entries) {
    out.push([root as Record<string, Json> | Json[], k]);
    slots(v, out, depth + 1);
  }
  return out;
}

function mutate(event: Record<string, unknown>, rand: () => number): Record<string, unknown> {
  const copy = structuredClone(event);
  const times = 1 + Math.floor(rand() * 4);
  for (let n = 0; n < times; n++) {
    const all = slots(copy);
    if (all.length === 0) break;
    const [container, key] = all[Math.floor(rand() * all.length)];
    const roll = rand();
    if (roll < 0.15 && !Array.isArray(container)) delete (container as Record<string, Json>)[key as string];
    else if (roll < 0.25 && Array.isArray(container)) container.splice(key as number, 0, junk(rand));
    else (container as Record<string | number, Json>)[key] = junk(rand);
  }
  return copy;
}

function checkGrouping(event: NormalizedEvent, label: string): void {
  const result = groupEvent(event, { fingerprintingRules: 'type:Deep -> deep', stacktraceRules: 'function:f1 -group\nfamily:javascript max-frames=5' });
  const failure = result.variants.fallback?.hint ?? '';
  expect(failure, label).not.toMatch(/^grouping failed/);
  expect(result.hashes.length, label).toBeGreaterThanOrEqual(1);
  for (const h of result.hashes) expect(h, label).toMatch(/^[0-9a-f]{32}$/);
  expect(typeof result.title, label).toBe('string');
}

describe('malformed input never crashes grouping', () => {
  const ITERATIONS = Number(process.env.GROUPING_FUZZ_ITERATIONS ?? 250);
  test(`${ITERATIONS} mutated Sentry inputs through normalizeEvent + groupEvent`, () => {
    const rand = prng(20230111);
    for (let i = 0; i < ITERATIONS; i++) {
      const seed = seeds[i % seeds.length];
      const raw = mutate(seed, rand);
      const label = `iteration ${i}`;
      let normalized: NormalizedEvent | null = null;
      try {
        normalized = normalizeEvent(raw, { receivedAt: 1_700_000_000 });
      } catch (err) {
        expect(err, label).toBeInstanceOf(ProtocolError); // a clean rejection is fine, a crash is not
      }
      if (normalized) checkGrouping(normalized, label);
      // The engine's own defensive view must also cope with un-normalized shapes.
      checkGrouping({ ...raw, event_id: 'e'.repeat(32), timestamp: 0, received: 0 } as unknown as NormalizedEvent, `${label} (raw)`);
    }
  }, 120_000);

  test('hand-picked pathological events', () => {
    const cases: Record<string, unknown>[] = [
      { exception: { values: [{ stacktrace: { frames: [1, 'two', null, [], { function: 5, filename: {}, in_app: 'yes' }] } }] } },
      { exception: { values: Array.from({ length: 500 }, (_, i) => ({ type: `E${i}`, mechanism: { exception_id: i, parent_id: i + 1, is_exception_group: true } })) } },
      { exception: { values: [{ type: 'E', mechanism: { exception_id: 0, is_exception_group: true } }, { type: 'F', mechanism: { exception_id: 1, parent_id: 1 } }] } },
      { threads: { values: [{ crashed: true, stacktrace: { frames: 'nope' } }] }, fingerprint: [{}, 3, '{{ tags.x }}'] },
      { logentry: { message: 42, formatted: ['x'] }, message: { deep: deep(500) } },
      { stacktrace: { frames: [{ function: 'x'.repeat(1_000_000), context_line: ' '.repeat(100_000), platform: 'javascript', abs_path: 'https://a/b.js' }] } },
      { csp: { blocked_uri: 12, effective_directive: null }, checksum: 123 },
      { fingerprint: 'not-an-array', tags: 'nope', platform: 99 },
    ];
    for (const [i, c] of cases.entries()) {
      checkGrouping({ ...c, event_id: 'e'.repeat(32), timestamp: 0, received: 0 } as unknown as NormalizedEvent, `case ${i}`);
      let normalized: NormalizedEvent | null = null;
      try {
        normalized = normalizeEvent(c, { receivedAt: 1_700_000_000 });
      } catch (err) {
        expect(err).toBeInstanceOf(ProtocolError);
      }
      if (normalized) checkGrouping(normalized, `case ${i} (normalized)`);
    }
  });
});
